"""Helpers for tests that go through the gateway over HTTP with real logins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kernel.auth import SecuritySubsystem, issue_access_token
from kernel.testing import KernelHarness, RunningKernel, write_module

ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def security(app: RunningKernel) -> SecuritySubsystem:
    return app.kernel.subsystem("security")


def token_for(app: RunningKernel, subject: str, *roles: str) -> str:
    """An access token minted with the gateway's key, for kernels without the auth module
    (which then trust a verified token's claims)."""
    config = security(app).signing.token_config
    return issue_access_token(
        config, subject, roles=roles, extra_claims={"email": f"{subject}@x.org"}
    )


async def start(webos: KernelHarness, modules: list[str], **settings: Any) -> RunningKernel:
    """A gateway with the auth module, the given modules and a first admin from settings."""
    settings.setdefault("admin_email", ADMIN_EMAIL)
    settings.setdefault("admin_password", ADMIN_PASSWORD)
    return await webos.start(["auth", *modules], **settings)


async def login(
    app: RunningKernel, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> str:
    response = await app.client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def add_user(
    app: RunningKernel, admin: str, email: str, roles: list[str] | None = None
) -> tuple[str, str]:
    """Create a user as the admin; return (user id, access token)."""
    body = {"email": email, "password": PASSWORD, "roles": roles or ["user"]}
    created = await app.client.post("/api/auth/users/", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.text
    return created.json()["id"], await login(app, email, PASSWORD)


PROBE_ROUTER = """
from litestar import get, post
from kernel import ThisModule
from kernel.auth import CurrentPrincipal, require_permission, requires


@post("/emit", status_code=200)
async def emit(module: ThisModule) -> dict:
    return {"id": await module.emit("probe.ping", {})}


@get("/guarded", guards=[requires("probe.run")])
async def guarded(principal: CurrentPrincipal) -> dict:
    return {"id": principal.id, "kind": principal.kind}


@get("/checked")
async def checked() -> dict:
    require_permission("probe.check")
    return {"ok": True}
"""

PROBE_EVENTS = """
from kernel import bus, on
from kernel.auth import PermissionDenied, current_principal, require_permission


@on("probe.ping")
async def ping(payload: dict) -> None:
    seen = current_principal.get()
    try:
        require_permission("probe.run")
        allowed = True
    except PermissionDenied:
        allowed = False
    await bus.emit("probe.saw", {"id": seen.id, "kind": seen.kind, "allowed": allowed})
"""

PROBE_ROLES = '{"runner": ["probe.run"]}'


def write_probe(root: Path) -> Path:
    """A modules folder with a ``probe`` module (no auth module: see ``token_for``)."""
    write_module(
        root,
        "probe",
        {"router.py": PROBE_ROUTER, "events.py": PROBE_EVENTS},
        manifest='name = "probe"\nemits = ["probe.ping", "probe.saw"]\n',
    )
    return root
