"""Fixtures for the deployment tests (a real nats-server with a generated config: the helpers in
tests/security/hostile.py, shared with the hostile-process tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.hostile import restored_imports


@pytest.fixture(autouse=True)
def _forget_imports() -> Iterator[None]:
    with restored_imports():
        yield
