"""Helpers for tests that go through the gateway over HTTP with real logins."""

from __future__ import annotations

from typing import Any

from kernel.auth import SecuritySubsystem
from kernel.testing import KernelHarness, RunningKernel

ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def security(app: RunningKernel) -> SecuritySubsystem:
    return app.kernel.subsystem("security")


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
