"""``webos users``: manage accounts offline, straight in the module's document store.

Works on embedded defaults (the store under ``WEBOS_DATA_DIR/db`` is shared safely with a running
gateway) and on MongoDB (``WEBOS_MONGO_URL``). It goes through the module's own models and
account logic, so the password policy and hashing are the same as over HTTP. The heavy parts load
when a command runs: ``webos --help`` lists these commands without them.
"""

import asyncio
import sys

import click


async def _create(email: str, password: str, roles: list[str]) -> str:
    from kernel.db import create_client, init_models
    from kernel.settings import load_settings

    from ._accounts import create_user
    from .models import ApiKey, RefreshToken, User

    settings = load_settings()
    client = create_client(settings.database.url, settings.data_dir / "db")
    try:
        await init_models(client, settings.database.db, [User, RefreshToken, ApiKey])
        user = await create_user(email, password, roles=roles)
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

    chosen = sorted({*roles, "admin"} if admin else set(roles) or {"user"})
    password = _password(password_stdin)
    try:
        user_id = asyncio.run(_create(email, password, chosen))
    except WeakPassword as error:
        raise click.ClickException(f"weak password: {error.reason}") from None
    except DuplicateKeyError:
        raise click.ClickException(f"a user with the e-mail {email!r} already exists") from None
    click.echo(f"created {email} ({', '.join(chosen)}): id {user_id}")
