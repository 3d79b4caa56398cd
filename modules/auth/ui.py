"""Users and keys in the console: the Admin app (``users.admin``) and My account (everyone).

Thin handlers over the same account logic as the REST routes (``_admin``, ``_keys``,
``_session``): what the API refuses, the console refuses, with the same words and status. Every
path below an app's route answers 403 without the app's permission (the catalog's guard).
Forms are URL-encoded (htmx); a refusal is an HTTP error the console shows as a message.
"""

import re
import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery

from kernel import ThisModule
from kernel.auth import CurrentPrincipal, active_security
from kernel.console import App, Command, PaletteSource, fragment

from . import _ui_views as views
from ._accounts import check_email, find_user, sessions_of
from ._admin import (
    change_account,
    create_account,
    end_account_session,
    reset_account_password,
    target,
)
from ._keys import issue_key, keys_of, revoke
from ._session import change_own_password, security_address
from .models import User

USERS_ADMIN = "users.admin"
LIST_LIMIT = 200

admin = App(
    name="admin",
    title="Admin",
    icon="⚑",
    route="/console/admin",
    description="Users, their roles, API keys and sessions.",
    permission=USERS_ADMIN,
    order=90,
)
account = App(
    name="account",
    title="My account",
    icon="◉",
    route="/console/account",
    description="Your password and API keys.",
    order=95,
)
commands = [
    Command(
        name="create-user",
        title="Create user",
        goto="/console/apps/auth/admin",
        keywords=("users", "admin", "new", "account"),
        permission=USERS_ADMIN,
    ),
    Command(
        name="my-api-keys",
        title="My API keys",
        goto="/console/apps/auth/account",
        keywords=("account", "keys", "token", "password"),
    ),
]
# "Reset password for <email>", one per user: opens that user in the Admin app.
users_in_palette = PaletteSource(
    name="users", title="Users", url="/console/admin/palette", permission=USERS_ADMIN
)


def _generated() -> str:
    # 144 random bits, like `webos users create --generate-password`: far past the policy.
    return secrets.token_urlsafe(18)


def _role_map() -> dict[str, frozenset[str]]:
    return dict(active_security().role_map.roles)


async def _form(request: Request[Any, Any, Any]) -> Any:
    return await request.form()


# -- Admin -------------------------------------------------------------------------------


@get("/console/admin", include_in_schema=False)
async def admin_page(user: FromQuery[str] = "") -> Response[str]:
    """The app; ``?user=ID`` (a palette entry's link) opens that user's detail at once."""
    opened = await find_user(user) if user else None
    return fragment(views.admin_page(_role_map(), str(opened.id) if opened else None))


@get("/console/admin/palette", include_in_schema=False)
async def admin_palette() -> list[dict[str, str]]:
    found = await User.find_all().sort("+email_key").limit(LIST_LIMIT).to_list()
    return [
        {
            "title": f"Reset password for {u.email}",
            "href": f"/console/apps/auth/admin?user={u.id}",
            "hint": "auth users admin",
        }
        for u in found
    ]


@get("/console/admin/users", include_in_schema=False)
async def admin_users(q: FromQuery[str] = "") -> Response[str]:
    query: dict[str, Any] = {}
    if q.strip():
        query = {"email_key": {"$regex": re.escape(q.strip().lower()[:320])}}
    found = await User.find(query).sort("+created_at").limit(LIST_LIMIT).to_list()
    return fragment(views.users_table(found, LIST_LIMIT))


async def _detail(user: User, principal: CurrentPrincipal, message: str = "") -> Response[str]:
    keys = await keys_of(str(user.id))
    sessions = await sessions_of(user)
    return fragment(views.user_detail(user, principal, _role_map(), keys, sessions, message))


@get("/console/admin/users/{user_id:str}", include_in_schema=False)
async def admin_user(user_id: FromPath[str], principal: CurrentPrincipal) -> Response[str]:
    return await _detail(await target(user_id), principal)


@post("/console/admin/users", include_in_schema=False, status_code=200)
async def admin_create(
    request: Request[Any, Any, Any], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    form = await _form(request)
    try:
        email = check_email(str(form.get("email", "")))
    except ValueError as error:
        raise ClientException(str(error), status_code=422) from None
    typed = str(form.get("password", ""))
    password = typed or _generated()
    user = await create_account(principal, module, email, password, form.getall("roles", []))
    shown = None if typed else password
    answer = fragment(views.notice(f"Created {user.email}.", shown))
    answer.headers["HX-Trigger"] = "users-changed"
    return answer


@post("/console/admin/users/{user_id:str}/roles", include_in_schema=False, status_code=200)
async def admin_roles(
    user_id: FromPath[str],
    request: Request[Any, Any, Any],
    principal: CurrentPrincipal,
    module: ThisModule,
) -> Response[str]:
    roles = (await _form(request)).getall("roles", [])
    user = await change_account(principal, module, await target(user_id), roles=roles)
    answer = await _detail(user, principal, views.notice("Roles saved."))
    answer.headers["HX-Trigger"] = "users-changed"
    return answer


@post("/console/admin/users/{user_id:str}/active", include_in_schema=False, status_code=200)
async def admin_active(
    user_id: FromPath[str],
    request: Request[Any, Any, Any],
    principal: CurrentPrincipal,
    module: ThisModule,
) -> Response[str]:
    wanted = str((await _form(request)).get("active", ""))
    if wanted not in ("true", "false"):
        raise ClientException("active must be true or false", status_code=422)
    active = wanted == "true"
    user = await change_account(principal, module, await target(user_id), active=active)
    said = "Enabled" if active else "Disabled: every session and key ended"
    answer = await _detail(user, principal, views.notice(f"{said}."))
    answer.headers["HX-Trigger"] = "users-changed"
    return answer


@post("/console/admin/users/{user_id:str}/password", include_in_schema=False, status_code=200)
async def admin_reset(
    user_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    user = await target(user_id)
    password = _generated()
    await reset_account_password(principal, module, user, password)
    said = views.notice(f"New password for {user.email}:", password)
    return await _detail(user, principal, said)


@post(
    "/console/admin/users/{user_id:str}/keys/{key_id:str}/revoke",
    include_in_schema=False,
    status_code=200,
)
async def admin_revoke_key(
    user_id: FromPath[str], key_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    user = await target(user_id)
    key = await revoke(principal, module, key_id)
    return await _detail(user, principal, views.notice(f"Key {key.prefix} revoked."))


@post(
    "/console/admin/users/{user_id:str}/sessions/{family:str}/revoke",
    include_in_schema=False,
    status_code=200,
)
async def admin_end_session(
    user_id: FromPath[str], family: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    user = await target(user_id)
    await end_account_session(principal, module, user, family)
    return await _detail(user, principal, views.notice("Session ended."))


# -- My account -------------------------------------------------------------------------------


@get("/console/account", include_in_schema=False)
async def account_page(principal: CurrentPrincipal) -> Response[str]:
    keys = views.my_keys(principal, await keys_of(principal.id))
    return fragment(views.account_page(principal, keys))


@post("/console/account/keys", include_in_schema=False, status_code=200)
async def account_create_key(
    request: Request[Any, Any, Any], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    form = await _form(request)
    scopes = [p for p in re.split(r"[\s,]+", str(form.get("permissions", ""))) if p]
    name = str(form.get("name", "")).strip()
    if not scopes:
        raise ClientException("give at least one permission", status_code=422)
    if len(name) > 100 or len(scopes) > 100:
        raise ClientException("at most 100 characters of name and 100 permissions", status_code=422)
    key, plain = await issue_key(principal, module, name, scopes)
    said = views.notice(f"Key {key.prefix} created:", plain)
    return fragment(views.my_keys(principal, await keys_of(principal.id), said))


@post("/console/account/keys/{key_id:str}/revoke", include_in_schema=False, status_code=200)
async def account_revoke_key(
    key_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    # The route lets users.admin revoke anyone's key; My account is about one's own.
    if key_id not in {str(k.id) for k in await keys_of(principal.id)}:
        raise NotFoundException(f"no API key {key_id!r} of yours")
    key = await revoke(principal, module, key_id)
    said = views.notice(f"Key {key.prefix} revoked.")
    return fragment(views.my_keys(principal, await keys_of(principal.id), said))


@post("/console/account/password", include_in_schema=False, status_code=200)
async def account_password(
    request: Request[Any, Any, Any], principal: CurrentPrincipal, module: ThisModule
) -> Response[str]:
    form = await _form(request)
    current, new = str(form.get("current_password", "")), str(form.get("new_password", ""))
    try:
        await change_own_password(principal, module, security_address(request), current, new)
    except NotAuthorizedException as error:
        # A 401 would send the console to the sign-in page; the session is still good.
        raise ClientException(error.detail, status_code=403) from None
    return fragment(
        views.notice("Password changed. Every session ended: sign in again.")
        + '<p><a class="button" href="/console/login">Sign in</a></p>'
    )
