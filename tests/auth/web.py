"""Helpers for tests that go through the gateway over HTTP with real logins."""

from __future__ import annotations

from pathlib import Path

from kernel.auth import SecuritySubsystem, issue_access_token
from kernel.testing import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    RunningKernel,
    add_user,
    bearer,
    login,
    write_module,
)
from kernel.testing import USER_PASSWORD as PASSWORD
from kernel.testing import start_with_auth as start

# The tests here import these names from this module.
__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "PASSWORD", "add_user", "bearer", "login", "start"]


def security(app: RunningKernel) -> SecuritySubsystem:
    return app.kernel.get(SecuritySubsystem)


def token_for(app: RunningKernel, subject: str, *roles: str) -> str:
    """An access token minted with the gateway's key, for kernels without the auth module
    (which then trust a verified token's claims)."""
    config = security(app).signing.token_config
    return issue_access_token(
        config, subject, roles=roles, extra_claims={"email": f"{subject}@x.org"}
    )


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
