"""Signing in for tests: a gateway with the auth module, a first admin, real logins over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernel.testing._harness import KernelHarness, RunningKernel

ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
USER_PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start_with_auth(
    webos: KernelHarness,
    modules: list[str],
    *,
    admin_email: str | None = ADMIN_EMAIL,
    admin_password: str | None = ADMIN_PASSWORD,
    environ: Mapping[str, str] | None = None,
    **settings: Any,
) -> RunningKernel:
    """A gateway with the auth module, the given modules and a first admin (the auth module's
    ``WEBOS_ADMIN_EMAIL`` and ``WEBOS_ADMIN_PASSWORD``; None leaves one unset)."""
    variables = dict(environ or {})
    if admin_email is not None:
        variables.setdefault("WEBOS_ADMIN_EMAIL", admin_email)
    if admin_password is not None:
        variables.setdefault("WEBOS_ADMIN_PASSWORD", admin_password)
    return await webos.start(["auth", *modules], environ=variables, **settings)


async def login(
    app: RunningKernel, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> str:
    """Sign in through ``POST /api/auth/login``; return the access token."""
    response = await app.client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def add_user(
    app: RunningKernel, admin_token: str, email: str, roles: list[str] | None = None
) -> tuple[str, str]:
    """Create a user as the admin; return (user id, the user's access token)."""
    body = {"email": email, "password": USER_PASSWORD, "roles": roles or ["user"]}
    created = await app.client.post("/api/auth/users/", json=body, headers=bearer(admin_token))
    assert created.status_code == 201, created.text
    return created.json()["id"], await login(app, email, USER_PASSWORD)
