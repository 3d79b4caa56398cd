"""Principals, permissions with wildcards, the role map and the role-assignment rule.

A permission is a dotted name (``files.read``, ``users.admin``). A granted permission matches a
needed one when they are equal, when the granted one is ``*`` (everything), or when it ends in
``.*`` and the needed one starts with what comes before the star and a dot: ``files.*`` grants
``files.read`` and ``files.write.big`` but not ``files`` itself nor ``filesystem.read``. A star
anywhere else is not a wildcard. Roles are names for sets of permissions; checks never look at
roles, only at the permissions the roles resolved to when the principal was built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from kernel.errors import ConfigError

PrincipalKind = Literal["user", "api_key", "system", "anonymous"]
PRINCIPAL_KINDS: frozenset[str] = frozenset(get_args(PrincipalKind))

ALL = "*"
USERS_ADMIN = "users.admin"

_PERMISSION = re.compile(r"\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?")


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, an API key, the kernel itself, or nobody.

    An API key acts for its owner: ``id`` is the owner's user id (so every "not on your own
    account" rule holds through a key too) and ``key_id`` names the key.
    """

    id: str
    kind: PrincipalKind
    email: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in PRINCIPAL_KINDS:
            raise ValueError(f"unknown principal kind {self.kind!r}")
        if (self.key_id is not None) != (self.kind == "api_key"):
            raise ValueError("key_id is set for API keys, and for them only")
        # Accept any iterable so callers can pass lists, but keep the value hashable and immutable.
        object.__setattr__(self, "roles", frozenset(self.roles))
        object.__setattr__(self, "permissions", frozenset(self.permissions))

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(id="anonymous", kind="anonymous")


def system_principal(name: str) -> Principal:
    """The kernel acting on its own behalf (``name`` says which part): it holds every permission."""
    return Principal(id=f"system:{name}", kind="system", permissions=frozenset({ALL}))


def is_valid_permission(permission: str) -> bool:
    """Dotted lowercase segments, optionally ending in ``.*``; or ``*`` alone."""
    return bool(_PERMISSION.fullmatch(permission))


def permission_matches(granted: str, needed: str) -> bool:
    """Does holding ``granted`` allow ``needed``? See the module docstring for the rules."""
    if not granted or not needed:
        return False
    if granted in (ALL, needed):
        return True
    if granted.endswith(".*"):
        return needed.startswith(granted[:-1])
    return False


def has_permission(principal: Principal, needed: str) -> bool:
    return any(permission_matches(granted, needed) for granted in principal.permissions)


DEFAULT_ROLES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "admin": frozenset({ALL}),
        "user": frozenset({"profile.read", "profile.write"}),
    }
)


@dataclass(frozen=True)
class RoleMap:
    """Role name -> permissions. Roles not in the map grant nothing."""

    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_ROLES)

    def __post_init__(self) -> None:
        checked: dict[str, frozenset[str]] = {}
        for role, permissions in self.roles.items():
            if isinstance(permissions, str):
                raise ConfigError(f"role {role!r}: permissions must be a list, not one string")
            bad = sorted(p for p in permissions if not is_valid_permission(p))
            if bad:
                raise ConfigError(f"role {role!r}: invalid permission(s) {', '.join(bad)}")
            checked[role] = frozenset(permissions)
        object.__setattr__(self, "roles", MappingProxyType(checked))

    @classmethod
    def from_json(
        cls, text: str | None, *, setting: str = "role map", merge_defaults: bool = True
    ) -> RoleMap:
        """Parse ``{"editor": ["posts.*"], ...}``; entries replace the default of the same name.

        ``setting`` names the source (an environment variable) in error messages. With
        ``merge_defaults=False`` the JSON is the whole map.
        """
        roles: dict[str, Iterable[str]] = dict(DEFAULT_ROLES) if merge_defaults else {}
        if text and text.strip():
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{setting}: not valid JSON ({error.msg})") from None
            if not isinstance(loaded, dict) or not all(
                isinstance(value, list) and all(isinstance(p, str) for p in value)
                for value in loaded.values()
            ):
                raise ConfigError(f"{setting}: expected an object of role -> list of permissions")
            roles.update(loaded)
        try:
            return cls({role: frozenset(perms) for role, perms in roles.items()})
        except ConfigError as error:
            raise ConfigError(f"{setting}: {error}") from None

    def permissions(self, role: str) -> frozenset[str]:
        return self.roles.get(role, frozenset())


def permissions_for(roles: Iterable[str], role_map: RoleMap) -> frozenset[str]:
    """The union of the permissions of ``roles``; unknown roles add nothing."""
    granted: set[str] = set()
    for role in roles:
        granted |= role_map.permissions(role)
    return frozenset(granted)


def can_assign_roles(
    actor: Principal,
    target_id: str,
    new_roles: Iterable[str],
    *,
    role_map: RoleMap | None = None,
    current_roles: Iterable[str] = (),
) -> bool:
    """May ``actor`` set the roles of the principal ``target_id`` to ``new_roles``?

    Only holders of ``users.admin`` (or a wildcard covering it) may set roles, and nobody may set
    their own, admins included: a self-service path is where escalation bugs and accidental
    self-demotion (locking the last admin out) come from; another admin must do it. With
    ``role_map``, the actor must also hold every permission the new and the current roles carry,
    so a user manager cannot hand out (or take away) more power than they have, and unknown role
    names are refused.
    """
    if isinstance(new_roles, str) or isinstance(current_roles, str):
        raise TypeError("roles must be an iterable of role names, not one string")
    new = set(new_roles)
    if not actor.is_authenticated or actor.id == target_id:
        return False
    if not has_permission(actor, USERS_ADMIN):
        return False
    if role_map is None:
        return True
    if any(role not in role_map.roles for role in new):
        return False
    involved = new | set(current_roles)
    return all(
        has_permission(actor, permission) for permission in permissions_for(involved, role_map)
    )
