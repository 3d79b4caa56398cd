"""``webos users``: manage accounts of the auth module offline, straight in its document store.

Works on embedded defaults (the store under ``WEBOS_DATA_DIR/db`` is shared safely with a running
gateway) and on MongoDB (``WEBOS_MONGO_URL``). It goes through the auth module's own models and
account logic, so the password policy and hashing are the same as over HTTP.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

import click

from kernel.settings import KernelSettings


async def _create(settings: KernelSettings, email: str, password: str, roles: list[str]) -> str:
    from kernel.db import create_client, init_models
    from kernel.runtime import Kernel

    kernel = Kernel(settings.model_copy(update={"only": ["auth"], "exclude": []}))
    kernel.load()  # imports the auth module's files; starts nothing
    module = kernel.modules["auth"]
    accounts: Any = importlib.import_module(f"{module.spec.package}._accounts")
    client = create_client(settings.mongo_url, settings.data_dir / "db")
    try:
        await init_models(client, settings.mongo_db, module.extras["documents"])
        user = await accounts.create_user(email, password, roles=roles)
        return str(user.id)
    finally:
        await client.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Manage user accounts (the auth module's store)."""


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--role", "roles", multiple=True, help="A role to give (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, admin: bool, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user (with --admin: an administrator). The password is prompted twice."""
    from pymongo.errors import DuplicateKeyError

    from kernel.auth import WeakPassword
    from kernel.errors import WebOSError
    from kernel.settings import load_settings

    settings = load_settings()
    chosen = sorted({*roles, "admin"} if admin else set(roles) or {"user"})
    password = _password(password_stdin)
    try:
        user_id = asyncio.run(_create(settings, email, password, chosen))
    except WeakPassword as error:
        raise click.ClickException(f"weak password: {error.reason}") from None
    except WebOSError as error:  # a bad setting, or the auth module cannot be loaded
        raise click.ClickException(str(error)) from None
    except DuplicateKeyError:
        raise click.ClickException(f"a user with the e-mail {email!r} already exists") from None
    click.echo(f"created {email} ({', '.join(chosen)}): id {user_id}")
