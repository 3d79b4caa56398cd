"""API keys: created by a user for themselves, scoped to a subset of their own permissions."""

from beanie import PydanticObjectId
from litestar import Router, delete, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody
from pydantic import Field

from kernel import ModuleContext, ThisModule
from kernel.auth import (
    CurrentPrincipal,
    Principal,
    generate_api_key,
    has_permission,
    is_valid_permission,
)

from ._session import Strict
from .models import ApiKey


class NewKey(Strict):
    name: str = Field("", max_length=100)
    permissions: list[str] = Field(min_length=1, max_length=100)


def out(key: ApiKey) -> dict:
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "permissions": key.permissions,
        "revoked": key.revoked,
        "created_at": key.created_at.isoformat(),
    }


def user_only(principal: Principal) -> None:
    if principal.kind != "user":
        raise PermissionDeniedException("only users manage API keys")


async def issue_key(
    principal: Principal, module: ModuleContext, name: str, permissions: list[str]
) -> tuple[ApiKey, str]:
    """A new key and its plain text (shown once); every permission must be the caller's.
    The route and the console's My account both come here."""
    user_only(principal)
    bad = sorted(p for p in permissions if not is_valid_permission(p))
    if bad:
        raise PermissionDeniedException(f"not permissions: {', '.join(bad)}")
    beyond = sorted(p for p in permissions if not has_permission(principal, p))
    if beyond:
        raise PermissionDeniedException(f"you do not hold: {', '.join(beyond)}")
    plain, prefix, key_hash = generate_api_key()
    key = ApiKey(
        prefix=prefix,
        key_hash=key_hash,
        user_id=principal.id,
        name=name,
        permissions=sorted(set(permissions)),
    )
    await key.insert()
    await module.emit("auth.api_key_created", {"id": str(key.id), "user_id": principal.id})
    return key, plain


async def revoke(principal: Principal, module: ModuleContext, key_id: str) -> ApiKey:
    """Revoke one of the caller's keys (holders of ``users.admin`` may revoke anyone's)."""
    user_only(principal)
    key = await _find(key_id)
    if key is None or (
        key.user_id != principal.id and not has_permission(principal, "users.admin")
    ):
        raise NotFoundException(f"no API key {key_id!r}")
    key.revoked = True
    await key.save()
    await module.emit("auth.api_key_revoked", {"id": key_id, "user_id": key.user_id})
    return key


async def keys_of(user_id: str) -> list[ApiKey]:
    return await ApiKey.find(ApiKey.user_id == user_id).sort("+created_at").to_list()


@post("/", status_code=201)
async def create_key(
    data: JSONBody[NewKey], principal: CurrentPrincipal, module: ThisModule
) -> dict:
    """A new key; the plain key is in this answer only. Every permission must be the caller's."""
    key, plain = await issue_key(principal, module, data.name, data.permissions)
    return {**out(key), "key": plain}


@get("/")
async def list_keys(principal: CurrentPrincipal) -> list[dict]:
    """The caller's keys (prefix and scope; never the key)."""
    user_only(principal)
    return [out(key) for key in await keys_of(principal.id)]


@delete("/{key_id:str}", status_code=204)
async def revoke_key(
    key_id: FromPath[str], principal: CurrentPrincipal, module: ThisModule
) -> None:
    """Revoke one of the caller's keys (holders of ``users.admin`` may revoke anyone's)."""
    await revoke(principal, module, key_id)


async def _find(key_id: str) -> ApiKey | None:
    try:
        return await ApiKey.get(PydanticObjectId(key_id))
    except Exception:  # not an ObjectId: no such key
        return None


keys_router = Router("/api-keys", route_handlers=[create_key, list_keys, revoke_key])
