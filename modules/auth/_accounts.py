"""Account logic and the one set of account rules (e-mail, roles, password), shared by the
routes, the startup hook and ``webos users``: what one refuses, all refuse, with the same words."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from litestar.exceptions import ServiceUnavailableException
from pydantic import validate_email
from pydantic_core import PydanticCustomError

from kernel.auth import (
    InvalidToken,
    Principal,
    RoleMap,
    SecuritySubsystem,
    check_password_policy,
    has_permission,
    hash_password,
    hash_refresh_token,
    issue_access_token,
    issue_refresh_token,
    parse_api_key,
    permissions_for,
    verify_api_key,
)

from .models import ApiKey, RefreshToken, User, email_key


def now() -> datetime:
    return datetime.now(UTC)


async def find_user(user_id: str) -> User | None:
    try:
        return await User.get(PydanticObjectId(user_id))
    except Exception:  # not an ObjectId: nobody
        return None


async def find_by_email(email: str) -> User | None:
    return await User.find_one(User.email_key == email_key(email))


class InvalidAccount(ValueError):
    """An e-mail address or a role list the account rules refuse; the message says why.

    A ``ValueError``, so that a pydantic validator calling these rules reports it as a field
    error. (A weak password raises ``kernel.auth.WeakPassword``.)
    """


def check_email(email: str) -> str:
    """The e-mail address in its normal form (domain in lower case), or ``InvalidAccount``."""
    try:
        return validate_email(email.strip())[1]
    except PydanticCustomError as error:
        reason = (error.context or {}).get("reason", error.message())
        raise InvalidAccount(f"{email!r} is not a valid e-mail address: {reason}") from None


def check_roles(roles: Iterable[str], role_map: RoleMap) -> list[str]:
    """The roles, sorted and once each, or ``InvalidAccount`` naming the first unknown one."""
    if isinstance(roles, str):
        raise TypeError("roles must be an iterable of role names, not one string")
    chosen = sorted(set(roles))
    for role in chosen:
        if role not in role_map.roles:
            defined = ", ".join(sorted(role_map.roles))
            raise InvalidAccount(f"no such role {role!r}; defined roles: {defined}")
    return chosen


async def create_user(
    email: str, password: str, roles: Iterable[str] = ("user",), *, role_map: RoleMap
) -> User:
    """Check the e-mail, the roles and the password, hash it, insert; a taken e-mail raises
    DuplicateKeyError."""
    email = check_email(email)
    chosen = check_roles(roles, role_map)
    check_password_policy(password, email=email)
    user = User(email=email, password_hash=hash_password(password), roles=chosen)
    await user.insert()
    return user


async def set_password(user: User, password: str) -> None:
    """Check and set a new password; every session and API key of the account ends."""
    check_password_policy(password, email=user.email)
    user.password_hash = hash_password(password)
    await end_sessions(user)


async def set_roles(user: User, roles: Iterable[str], role_map: RoleMap) -> None:
    """Set the roles; a change revokes the user's API keys: a key made under one set of roles is
    not carried into another."""
    chosen = check_roles(roles, role_map)
    if set(chosen) != set(user.roles):
        await revoke_keys(user)
    user.roles = chosen
    await user.save()


async def set_active(user: User, active: bool) -> None:
    """Enable or disable the account. Disabling ends every session and key; enabling again
    brings none back."""
    if active == user.active:
        return
    user.active = active
    if active:
        await user.save()
    else:
        await end_sessions(user)


def principal_for(user: User, role_map: RoleMap) -> Principal:
    roles = frozenset(user.roles)
    return Principal(
        id=str(user.id),
        kind="user",
        email=user.email,
        roles=roles,
        permissions=permissions_for(roles, role_map),
    )


async def issue_tokens(
    user: User, security: SecuritySubsystem, refresh_ttl: float, family: str | None = None
) -> dict:
    """An access token and a refresh token (stored as a hash) for ``user``.

    The access token names its session (``sid``: the refresh token's family), so that logging out
    can refuse exactly this session's access tokens at once.
    """
    config = security.signing.token_config
    if config is None:
        # Only the gateway holds the token signing key: this module must run there.
        raise ServiceUnavailableException(
            "access tokens are issued by the gateway only: run the auth module in the gateway"
        )
    ttl = timedelta(seconds=refresh_ttl)
    refresh, record = issue_refresh_token(str(user.id), family=family, ttl=ttl)
    access = issue_access_token(
        config,
        str(user.id),
        roles=user.roles,
        extra_claims={"email": user.email, "ver": user.token_version, "sid": record.family},
    )
    await RefreshToken(
        token_hash=record.token_hash,
        family=record.family,
        user_id=record.subject,
        expires_at=record.expires_at,
    ).insert()
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(config.access_ttl.total_seconds()),
        "refresh_token": refresh,
        "refresh_expires_in": int(ttl.total_seconds()),
    }


async def revoke_family(family: str) -> None:
    await RefreshToken.find(RefreshToken.family == family).update({"$set": {"revoked": True}})


async def sessions_of(user: User) -> list[dict[str, Any]]:
    """The user's live sessions: one per refresh-token family with an unused, unrevoked,
    unexpired token (the one a refresh would present next)."""
    found = await RefreshToken.find(
        RefreshToken.user_id == str(user.id),
        RefreshToken.revoked == False,  # noqa: E712
    ).to_list()
    at = now()
    live = [t for t in found if t.used_at is None and _aware(t.expires_at) > at]
    started: dict[str, datetime] = {}
    for token in found:
        first = started.get(token.family)
        started[token.family] = min(first, token.created_at) if first else token.created_at
    return [
        {"family": t.family, "started": started[t.family], "expires_at": t.expires_at}
        for t in sorted(live, key=lambda t: t.created_at, reverse=True)
    ]


def _aware(moment: datetime) -> datetime:
    # The embedded store hands datetimes back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def end_sessions(user: User) -> None:
    """Refuse every access token, refresh token and API key issued so far to ``user``.

    Called on a password change or reset and when the account is disabled: whoever knew the old
    password may have made keys with it, so keys end too, and re-enabling brings none back.
    """
    user.token_version += 1
    await user.save()
    await RefreshToken.find(RefreshToken.user_id == str(user.id)).update(
        {"$set": {"revoked": True}}
    )
    await revoke_keys(user)


async def revoke_keys(user: User) -> None:
    """Revoke every API key of ``user`` (for good: keys are never un-revoked)."""
    await ApiKey.find(ApiKey.user_id == str(user.id)).update({"$set": {"revoked": True}})


async def claim_refresh(token: str) -> RefreshToken | None:
    """Mark the token used, atomically: of two concurrent refreshes only one wins."""
    token_hash = hash_refresh_token(token)
    result = await RefreshToken.get_pymongo_collection().update_one(
        {"token_hash": token_hash, "used_at": None, "revoked": False},
        {"$set": {"used_at": now()}},
    )
    found = await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
    return found if result.modified_count == 1 else None


class StoredCredentials:
    """``kernel.auth.Credentials`` backed by this module's documents."""

    def __init__(self, role_map: RoleMap) -> None:
        self.role_map = role_map

    async def principal_for_token(self, claims: Mapping[str, Any]) -> Principal:
        user = await find_user(str(claims["sub"]))
        if user is None or not user.active:
            raise InvalidToken("account disabled")
        if claims.get("ver") != user.token_version:
            raise InvalidToken("token revoked")
        return principal_for(user, self.role_map)

    async def principal_for_api_key(self, plain: str) -> Principal:
        parsed = parse_api_key(plain)
        if parsed is None:
            raise InvalidToken("malformed API key")
        key = await ApiKey.find_one(ApiKey.prefix == parsed[0])
        if key is None or key.revoked or not verify_api_key(plain, key.key_hash):
            raise InvalidToken("unknown or revoked API key")
        owner = await find_user(key.user_id)
        if owner is None or not owner.active:
            raise InvalidToken("account disabled")
        # Never more than the owner holds today: a demoted owner's keys shrink with them.
        held = principal_for(owner, self.role_map)
        granted = frozenset(p for p in key.permissions if has_permission(held, p))
        # The owner's id, not the key's: rules such as "nobody changes their own account" must
        # see through a key.
        return Principal(
            id=str(owner.id),
            kind="api_key",
            email=owner.email,
            permissions=granted,
            key_id=str(key.id),
        )
