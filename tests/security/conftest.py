"""A small deployment for the hostile-process tests: a real nats-server with the permissions
``webos nats-config`` generates, a gateway under the ``gateway`` user, and these modules:

- ``vault``: a route answering a secret, a service revealing one, a task, settings with a secret
  (its ``/motto`` route answers the current motto); run standalone;
- ``spy``: a handler on ``>`` (as audit has), so its user may subscribe to everything: the
  intruder of most tests;
- ``clerk``: queues vault's tasks (``sends_tasks_to``);
- ``shop``: depends on vault, so the gateway is ready only while a vault node lives;
- ``ledger``: a durable handler of ``vault.opened`` that says whom it ran as on ``ledger.saw``.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from kernel.deploy import NatsUser, inspect_modules, nats_users
from kernel.testing import KernelHarness, write_module
from tests.security.hostile import (
    ModuleRun,
    SecuredNats,
    module_process,
    restored_imports,
    secured_nats,
)

PLANS = "PLANS-OF-THE-VAULT"
KEEPER_SECRET = "KEEPER-SECRET"
STANDALONE = ("vault", "spy", "clerk", "shop", "ledger")

VAULT = {
    "settings.py": """
        from pydantic import SecretStr
        from kernel import ModuleSettings

        class VaultSettings(ModuleSettings):
            motto: str = "closed"
            combination: SecretStr = SecretStr("0000")
        """,
    "router.py": f"""
        from litestar import get
        from kernel import ThisModule, bus

        @get("/motto")
        async def motto(module: ThisModule) -> dict:
            return {{"motto": module.settings.motto}}

        @get("/secret")
        async def secret() -> dict:
            await bus.emit("vault.opened", {{"door": "front"}})
            return {{"plans": "{PLANS}"}}
        """,
    "services.py": f"""
        from kernel import service
        from kernel.auth import current_principal

        @service("vault_keeper")
        class Keeper:
            async def reveal(self) -> str:
                return "{KEEPER_SECRET}"

            async def whoami(self) -> str:
                return current_principal.get().id
        """,
    "tasks.py": """
        from kernel.tasks import task

        @task
        async def seal(word: str) -> str:
            return f"sealed {word}"
        """,
}
SPY = {
    "events.py": """
        from kernel import Event, on

        @on(">")
        async def overhear(event: Event) -> None:
            pass
        """,
}


LEDGER = {
    "events.py": """
        from kernel import bus, on
        from kernel.auth import current_principal

        @on("vault.opened", durable=True)
        async def note(payload: dict) -> None:
            await bus.emit("ledger.saw", {**payload, "as": current_principal.get().id})
            if payload.get("door") == "back":
                raise RuntimeError("the back door is not in the ledger")
        """,
}


def write_modules(root: Path) -> Path:
    files = {name: textwrap.dedent(text) for name, text in VAULT.items()}
    write_module(root, "vault", files, manifest='name = "vault"\nemits = ["vault.opened"]\n')
    write_module(root, "spy", {name: textwrap.dedent(text) for name, text in SPY.items()})
    write_module(root, "clerk", {}, manifest='name = "clerk"\nsends_tasks_to = ["vault"]\n')
    write_module(root, "shop", {}, manifest='name = "shop"\ndepends = ["vault"]\n')
    ledger = {name: textwrap.dedent(text) for name, text in LEDGER.items()}
    write_module(root, "ledger", ledger, manifest='name = "ledger"\nemits = ["ledger.saw"]\n')
    return root


@dataclass
class Deployment:
    folder: Path
    modules_path: Path
    server: SecuredNats
    users: dict[str, NatsUser]
    harness: KernelHarness

    def module(self, name: str, **env: str) -> AbstractAsyncContextManager[ModuleRun]:
        """``webos module run NAME`` under its own user (shares the gateway's data folder)."""
        return module_process(self.server, self.users, name, self.modules_path, self.folder, **env)


@pytest.fixture(autouse=True)
def _forget_imports() -> Iterator[None]:
    with restored_imports():
        yield


@pytest_asyncio.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    modules_path = write_modules(tmp_path / "modules")
    users = {user.name: user for user in nats_users(inspect_modules(modules_path), STANDALONE)}
    with secured_nats(list(users.values()), tmp_path) as server:
        harness = KernelHarness(server.url("gateway"), tmp_path / "data", modules_path)
        try:
            yield Deployment(tmp_path, modules_path, server, users, harness)
        finally:
            await harness.close()
