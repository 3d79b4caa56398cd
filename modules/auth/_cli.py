"""``webos users``: manage accounts offline, straight in the module's document store.

Works on embedded defaults (the store under ``WEBOS_DATA_DIR/db`` is shared safely with a running
gateway) and on MongoDB (``WEBOS_MONGO_URL``). Every command goes through the account rules and
operations the API uses (``_accounts``): the same e-mail, role and password checks, and the same
effects (a disable or a new password ends the account's sessions and API keys; a role change
revokes its keys). It emits no events: it works without NATS. The heavy parts load when a command
runs, so that ``webos --help`` lists these commands without them.
"""

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click

T = TypeVar("T")


def _role_map() -> Any:
    from kernel.auth import RoleMap
    from kernel.settings import load_settings

    return RoleMap.from_json(load_settings().auth.roles, setting="WEBOS_ROLES")


@asynccontextmanager
async def _store() -> AsyncIterator[None]:
    from kernel.db import create_client, init_models
    from kernel.settings import load_settings

    from .models import ApiKey, RefreshToken, User

    settings = load_settings()
    client = create_client(settings.database.url, settings.data_dir / "db")
    try:
        await init_models(client, settings.database.db, [User, RefreshToken, ApiKey])
        yield
    finally:
        await client.close()


def _in_store(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` against the store; the account rules' refusals become one-line errors."""
    from kernel.auth import WeakPassword

    from ._accounts import InvalidAccount

    async def run() -> T:
        async with _store():
            return await work()

    try:
        return asyncio.run(run())
    except WeakPassword as error:
        raise click.ClickException(f"weak password: {error.reason}") from None
    except InvalidAccount as error:
        raise click.ClickException(str(error)) from None


async def _user(email: str) -> Any:
    from ._accounts import find_by_email

    user = await find_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with the e-mail {email!r} (see: webos users list)")
    return user


def _checked(check: Callable[[], T]) -> T:
    """Check what was typed before asking for a password, so nobody types one in vain."""
    from ._accounts import InvalidAccount

    try:
        return check()
    except InvalidAccount as error:
        raise click.ClickException(str(error)) from None


def _password(from_stdin: bool, generate: bool) -> str:
    if from_stdin and generate:
        raise click.UsageError("choose one of --password-stdin and --generate-password")
    if generate:
        # 144 random bits: far past the strength policy, and never typed by anyone.
        return secrets.token_urlsafe(18)
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _shown_once(generate: bool, password: str) -> None:
    if generate:
        click.echo(f"password (shown once, keep it now): {password}")


password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
generate_password = click.option(
    "--generate-password", is_flag=True, help="Generate a strong password and print it once."
)


@click.group()
def users() -> None:
    """Manage user accounts (the auth module's store). Passwords are prompted (twice, hidden),
    read from standard input (--password-stdin) or generated (--generate-password); never taken
    from the command line."""


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--role", "roles", multiple=True, help="A role to give (repeatable).")
@password_stdin
@generate_password
def create_user(
    email: str, admin: bool, roles: tuple[str, ...], password_stdin: bool, generate_password: bool
) -> None:
    """Create a user (with --admin: an administrator; default role: user)."""
    from pymongo.errors import DuplicateKeyError

    from ._accounts import check_email, check_roles, create_user

    role_map = _role_map()
    wanted = {*roles, "admin"} if admin else set(roles) or {"user"}
    email = _checked(lambda: check_email(email))
    chosen = _checked(lambda: check_roles(wanted, role_map))
    password = _password(password_stdin, generate_password)
    try:
        user = _in_store(lambda: create_user(email, password, chosen, role_map=role_map))
    except DuplicateKeyError:
        raise click.ClickException(f"a user with the e-mail {email!r} already exists") from None
    click.echo(f"created {user.email} ({', '.join(user.roles)}): id {user.id}")
    _shown_once(generate_password, password)


@users.command("list")
def list_users() -> None:
    """Every user, oldest first: e-mail, roles, active or disabled, id."""
    from .models import User

    found = _in_store(lambda: User.find_all().sort("+created_at").to_list())
    if not found:
        click.echo("no users yet: create the first admin with  webos users create --admin EMAIL")
        return
    width = max(len(user.email) for user in found)
    for user in found:
        state = "active" if user.active else "disabled"
        click.echo(f"{user.email:<{width}}  {state:<8}  {','.join(user.roles):<20}  {user.id}")


def _set_active(email: str, active: bool) -> None:
    from ._accounts import set_active

    async def work() -> None:
        await set_active(await _user(email), active)

    _in_store(work)


@users.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """Disable an account: its sessions and API keys end now; it can no longer sign in."""
    _set_active(email, False)
    click.echo(f"disabled {email}: its sessions and API keys have ended")


@users.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """Enable a disabled account again (its ended sessions and keys stay ended)."""
    _set_active(email, True)
    click.echo(f"enabled {email}")


@users.command("set-password")
@click.argument("email")
@password_stdin
@generate_password
def set_password(email: str, password_stdin: bool, generate_password: bool) -> None:
    """Set a user's password; their sessions and API keys end."""
    from ._accounts import set_password

    password = _password(password_stdin, generate_password)

    async def work() -> None:
        await set_password(await _user(email), password)

    _in_store(work)
    click.echo(f"new password set for {email}: its sessions and API keys have ended")
    _shown_once(generate_password, password)


@users.command("set-roles")
@click.argument("email")
@click.argument("roles", nargs=-1, required=True)
def set_roles(email: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles with ROLES; a change revokes the user's API keys."""
    from ._accounts import set_roles

    role_map = _role_map()

    async def work() -> list[str]:
        user = await _user(email)
        await set_roles(user, roles, role_map)
        return list(user.roles)

    chosen = _in_store(work)
    click.echo(f"{email}: {', '.join(chosen)}")
