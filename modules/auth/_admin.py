"""User administration, all behind ``users.admin``. Nobody changes their own roles."""

from litestar import Router, delete, get, patch, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody
from pydantic import Field

from kernel import ThisModule
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


@post("/", status_code=201)
async def add_user(
    data: JSONBody[NewUser], principal: CurrentPrincipal, module: ThisModule
) -> dict:
    """Create a user with roles the caller is allowed to hand out."""
    role_map = active_security().role_map
    try:
        check_roles(data.roles, role_map)
    except InvalidAccount as error:
        raise refused(error) from None
    authorise(principal, "(new user)", data.roles, [])
    try:
        user = await create_user(data.email, data.password, roles=data.roles, role_map=role_map)
    except WeakPassword as error:
        raise weak(error) from None
    await module.emit("auth.user_created", {"id": str(user.id), "roles": user.roles})
    return out(user)


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
    role_map = active_security().role_map
    if data.roles is not None:
        try:
            check_roles(data.roles, role_map)
        except InvalidAccount as error:
            raise refused(error) from None
    roles = data.roles if data.roles is not None else user.roles
    authorise(principal, user_id, roles, user.roles)
    if data.roles is not None:
        await set_roles(user, data.roles, role_map)
    if data.active is not None:
        await set_active(user, data.active)
    await module.emit(
        "auth.user_updated", {"id": user_id, "roles": user.roles, "active": user.active}
    )
    return out(user)


@delete("/{user_id:str}", status_code=204)
async def disable_user(
    user_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> None:
    """Disable the account (kept for the record) and end its sessions."""
    user = await target(user_id)
    authorise(principal, user_id, user.roles, user.roles)
    await set_active(user, False)
    await module.emit("auth.user_updated", {"id": user_id, "roles": user.roles, "active": False})


@post("/{user_id:str}/password", status_code=204)
async def reset_password(
    user_id: FromPath[str], data: JSONBody[PasswordReset], principal: CurrentPrincipal
) -> None:
    """Set another user's password; their sessions end. Change your own at /api/auth/password."""
    user = await target(user_id)
    authorise(principal, user_id, user.roles, user.roles)
    try:
        await set_password(user, data.password)
    except WeakPassword as error:
        raise weak(error) from None


users_router = Router(
    "/users",
    route_handlers=[list_users, add_user, change_user, disable_user, reset_password],
    guards=[requires("users.admin")],
)
