"""Helpers for tests that go through the gateway over HTTP with real logins."""

from __future__ import annotations

from kernel.auth import SecuritySubsystem
from kernel.testing import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    RunningKernel,
    add_user,
    bearer,
    login,
)
from kernel.testing import USER_PASSWORD as PASSWORD
from kernel.testing import start_with_auth as start

# The tests here import these names from this module.
__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "PASSWORD", "add_user", "bearer", "login", "start"]


def security(app: RunningKernel) -> SecuritySubsystem:
    return app.kernel.get(SecuritySubsystem)
