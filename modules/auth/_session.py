"""Signing in and out: login, refresh, logout, me, own password, optional self-registration."""

import asyncio
import math
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.params import JSONBody
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from kernel import ModuleContext, ThisModule
from kernel.auth import (
    PUBLIC,
    CurrentPrincipal,
    Principal,
    SecuritySubsystem,
    WeakPassword,
    active_security,
    hash_password,
    hash_refresh_token,
    needs_rehash,
    refresh_verdict,
    use_principal,
    verify_password,
)

from ._accounts import (
    InvalidAccount,
    check_email,
    claim_refresh,
    create_user,
    find_by_email,
    find_user,
    issue_tokens,
    principal_for,
    revoke_family,
    set_password,
)
from .models import RefreshToken
from .settings import AuthModuleSettings

Password = Field(min_length=1, max_length=1024)
# The account rules' own e-mail check, so that the API and `webos users` refuse the same addresses.
Email = Annotated[str, Field(max_length=320), AfterValidator(check_email)]
WRONG = "wrong e-mail or password"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    email: str = Field(min_length=1, max_length=320)
    password: str = Password


class Refresh(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChange(Strict):
    current_password: str = Password
    new_password: str = Password


class Registration(Strict):  # no roles: extra fields are refused
    email: Email
    password: str = Password


def _settings(module: ModuleContext) -> AuthModuleSettings:
    assert isinstance(module.settings, AuthModuleSettings)
    return module.settings


def weak(error: WeakPassword) -> ClientException:
    return ClientException(error.reason, status_code=422)


def refused(error: InvalidAccount) -> ClientException:
    return ClientException(str(error), status_code=422)


async def throttle(security: SecuritySubsystem, account: str, address: str | None) -> None:
    """Refuse (429) a throttled account and address pair; slow down a much-failed account."""
    wait = security.limiter.check(account, address)
    if wait is not None:
        raise TooManyRequestsException(
            "too many failed attempts; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    delay = security.limiter.delay(account)
    if delay:
        await asyncio.sleep(delay)


@post("/login", opt=PUBLIC, status_code=200)
async def login(data: JSONBody[Login], request: Request[Any, Any, Any], module: ThisModule) -> dict:
    """E-mail and password -> access and refresh tokens. Throttled (``kernel.auth._ratelimit``)."""
    security = active_security()
    address = security.client_address(request.scope)
    await throttle(security, data.email, address)
    user = await find_by_email(data.email)
    stored = user.password_hash if user is not None and user.active else None
    if not verify_password(stored, data.password):
        security.limiter.record_failure(data.email, address)
        raise NotAuthorizedException(WRONG)
    assert user is not None
    security.limiter.reset(data.email, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(data.password)
        await user.save()
    tokens = await issue_tokens(user, security, _settings(module).refresh_token_ttl)
    with use_principal(principal_for(user, security.role_map)):
        await module.emit("auth.logged_in", {"id": str(user.id), "email": user.email})
    return tokens


@post("/refresh", opt=PUBLIC, status_code=200)
async def refresh(data: JSONBody[Refresh], module: ThisModule) -> dict:
    """Rotate a refresh token; presenting a used one again revokes its whole family."""
    security = active_security()
    claimed = await claim_refresh(data.refresh_token)
    if claimed is None:
        found = await RefreshToken.find_one(
            RefreshToken.token_hash == hash_refresh_token(data.refresh_token)
        )
        verdict = refresh_verdict(found.record() if found else None)
        if found is not None and verdict == "reused":
            # Two parties hold this session: end it everywhere, access tokens included.
            await revoke_family(found.family)
            await security.end_session(found.family)
            raise NotAuthorizedException("refresh token reused: its sessions were revoked")
        raise NotAuthorizedException(f"refresh token {verdict}")
    verdict = refresh_verdict(claimed.model_copy(update={"used_at": None}).record())
    user = await find_user(claimed.user_id)
    if verdict != "ok" or user is None or not user.active:
        await revoke_family(claimed.family)
        raise NotAuthorizedException(f"refresh token {'expired' if verdict != 'ok' else 'revoked'}")
    ttl = _settings(module).refresh_token_ttl
    return await issue_tokens(user, security, ttl, family=claimed.family)


@post("/logout", opt=PUBLIC, status_code=204)
async def logout(data: JSONBody[Refresh], module: ThisModule) -> None:
    """End the refresh token's session: its family, and its access tokens at once."""
    found = await RefreshToken.find_one(
        RefreshToken.token_hash == hash_refresh_token(data.refresh_token)
    )
    if found is not None:
        await revoke_family(found.family)
        await active_security().end_session(found.family)
        await module.emit("auth.logged_out", {"id": found.user_id})


@get("/me", sync_to_thread=False)
def me(principal: CurrentPrincipal) -> dict:
    """Who is calling: id (an API key's owner), kind, key id, e-mail, roles and permissions."""
    return {
        "id": principal.id,
        "kind": principal.kind,
        "key_id": principal.key_id,
        "email": principal.email,
        "roles": sorted(principal.roles),
        "permissions": sorted(principal.permissions),
    }


@post("/password", status_code=204)
async def change_password(
    data: JSONBody[PasswordChange],
    principal: CurrentPrincipal,
    request: Request[Any, Any, Any],
    module: ThisModule,
) -> None:
    """Change one's own password (needs the current one); every session of the account ends.

    Wrong current passwords are throttled like failed logins: a stolen session must not become an
    unlimited oracle for the password.
    """
    await change_own_password(
        principal, module, security_address(request), data.current_password, data.new_password
    )


def security_address(request: Request[Any, Any, Any]) -> str | None:
    return active_security().client_address(request.scope)


async def change_own_password(
    principal: Principal, module: ModuleContext, address: str | None, current: str, new: str
) -> None:
    """The route and the console's My account: check the current password (throttled like a
    login), set the new one; every session of the account ends; audited."""
    user = await find_user(principal.id) if principal.kind == "user" else None
    if user is None:
        raise PermissionDeniedException("only users have passwords")
    security = active_security()
    await throttle(security, user.email, address)
    if not verify_password(user.password_hash, current):
        security.limiter.record_failure(user.email, address)
        raise NotAuthorizedException("wrong current password")
    security.limiter.reset(user.email, address)
    try:
        await set_password(user, new)
    except WeakPassword as error:
        raise weak(error) from None
    await module.emit("auth.password_changed", {"id": str(user.id)})


@post("/register", opt=PUBLIC, status_code=201)
async def register(data: JSONBody[Registration], module: ThisModule) -> dict:
    """Self-registration (WEBOS_SELF_REGISTRATION=true): always the plain ``user`` role."""
    if not _settings(module).self_registration:
        raise PermissionDeniedException("self-registration is disabled")
    try:
        user = await create_user(
            data.email, data.password, roles=["user"], role_map=active_security().role_map
        )
    except WeakPassword as error:
        raise weak(error) from None
    await module.emit("auth.user_created", {"id": str(user.id), "roles": user.roles})
    return {"id": str(user.id), "email": user.email, "roles": user.roles}
