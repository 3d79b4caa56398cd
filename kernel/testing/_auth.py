"""Signing in for tests: a gateway with the auth module, a first admin, real logins over HTTP."""

from __future__ import annotations

from typing import Any

from kernel.testing._harness import KernelHarness, RunningKernel

ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
USER_PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start_with_auth(
    webos: KernelHarness, modules: list[str], **settings: Any
) -> RunningKernel:
    """A gateway with the auth module, the given modules and a first admin from settings."""
    settings.setdefault("admin_email", ADMIN_EMAIL)
    settings.setdefault("admin_password", ADMIN_PASSWORD)
    return await webos.start(["auth", *modules], **settings)


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
