"""User administration, all behind ``users.admin``. Nobody changes their own roles."""

from litestar import Router, delete, get, patch, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody
from pydantic import Field

from kernel import ModuleContext, ThisModule
from kernel.auth import (
    CurrentPrincipal,
    Principal,
    WeakPassword,
    active_security,
    can_assign_roles,
    requires,
)

from ._accounts import (
    InvalidAccount,
    check_roles,
    create_user,
    find_user,
    revoke_family,
    sessions_of,
    set_active,
    set_password,
    set_roles,
)
from ._session import Email, Password, Strict, refused, weak
from .models import User

Roles = Field(default_factory=lambda: ["user"], max_length=50)


class NewUser(Strict):
    email: Email
    password: str = Password
    roles: list[str] = Roles


class UserChange(Strict):
    roles: list[str] | None = Field(None, max_length=50)
    active: bool | None = None


class PasswordReset(Strict):
    password: str = Password


def out(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "roles": user.roles,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


def authorise(actor: Principal, target_id: str, roles: list[str], current: list[str]) -> None:
    """Refuse unless ``actor`` may give ``target_id`` these roles (never their own account)."""
    role_map = active_security().role_map
    if actor.id == target_id:
        raise PermissionDeniedException("nobody may change their own account through admin routes")
    if not can_assign_roles(actor, target_id, roles, role_map=role_map, current_roles=current):
        raise PermissionDeniedException("you may not assign or manage these roles")


async def target(user_id: str) -> User:
    user = await find_user(user_id)
    if user is None:
        raise NotFoundException(f"no user {user_id!r}")
    return user


@get("/")
async def list_users() -> list[dict]:
    """Every user, oldest first (no password hashes)."""
    return [out(user) for user in await User.find_all().sort("+created_at").to_list()]


async def create_account(
    principal: Principal, module: ModuleContext, email: str, password: str, roles: list[str]
) -> User:
    """Create a user with roles ``principal`` may hand out; audited. The routes and the console
    both come here, so they refuse the same things with the same words."""
    role_map = active_security().role_map
    try:
        check_roles(roles, role_map)
    except InvalidAccount as error:
        raise refused(error) from None
    authorise(principal, "(new user)", roles, [])
    try:
        user = await create_user(email, password, roles=roles, role_map=role_map)
    except WeakPassword as error:
        raise weak(error) from None
    await module.emit("auth.user_created", {"id": str(user.id), "roles": user.roles})
    return user


async def change_account(
    principal: Principal,
    module: ModuleContext,
    user: User,
    roles: list[str] | None = None,
    active: bool | None = None,
) -> User:
    """Set roles and/or enable or disable ``user`` (never one's own account); audited."""
    role_map = active_security().role_map
    if roles is not None:
        try:
            check_roles(roles, role_map)
        except InvalidAccount as error:
            raise refused(error) from None
    authorise(principal, str(user.id), roles if roles is not None else user.roles, user.roles)
    if roles is not None:
        await set_roles(user, roles, role_map)
    if active is not None:
        await set_active(user, active)
    await module.emit(
        "auth.user_updated", {"id": str(user.id), "roles": user.roles, "active": user.active}
    )
    return user


async def reset_account_password(
    principal: Principal, module: ModuleContext, user: User, password: str
) -> None:
    """Set another user's password; their sessions and keys end; audited."""
    authorise(principal, str(user.id), user.roles, user.roles)
    try:
        await set_password(user, password)
    except WeakPassword as error:
        raise weak(error) from None
    await module.emit("auth.password_changed", {"id": str(user.id), "reset": True})


async def end_account_session(
    principal: Principal, module: ModuleContext, user: User, family: str
) -> None:
    """End one session of ``user`` (a refresh-token family), its access tokens at once."""
    authorise(principal, str(user.id), user.roles, user.roles)
    if family not in {s["family"] for s in await sessions_of(user)}:
        raise NotFoundException(f"no live session {family!r} of {user.email}")
    await revoke_family(family)
    await active_security().end_session(family)
    await module.emit("auth.session_revoked", {"id": str(user.id), "family": family})


@post("/", status_code=201)
async def add_user(
    data: JSONBody[NewUser], principal: CurrentPrincipal, module: ThisModule
) -> dict:
    """Create a user with roles the caller is allowed to hand out."""
    return out(await create_account(principal, module, data.email, data.password, data.roles))


@patch("/{user_id:str}")
async def change_user(
    user_id: FromPath[str],
    data: JSONBody[UserChange],
    principal: CurrentPrincipal,
    module: ThisModule,
) -> dict:
    """Set roles and/or enable or disable the account (never one's own).

    A role change revokes the user's API keys: a key made under one set of roles is not carried
    into another. Disabling ends every session and key; enabling again brings none back.
    """
    user = await target(user_id)
    return out(await change_account(principal, module, user, data.roles, data.active))


@delete("/{user_id:str}", status_code=204)
async def disable_user(
    user_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> None:
    """Disable the account (kept for the record) and end its sessions."""
    await change_account(principal, module, await target(user_id), active=False)


@post("/{user_id:str}/password", status_code=204)
async def reset_password(
    user_id: FromPath[str],
    data: JSONBody[PasswordReset],
    principal: CurrentPrincipal,
    module: ThisModule,
) -> None:
    """Set another user's password; their sessions end. Change your own at /api/auth/password."""
    await reset_account_password(principal, module, await target(user_id), data.password)


users_router = Router(
    "/users",
    route_handlers=[list_users, add_user, change_user, disable_user, reset_password],
    guards=[requires("users.admin")],
)
