import pytest

from kernel.auth import (
    ANONYMOUS,
    DEFAULT_ROLES,
    Principal,
    RoleMap,
    can_assign_roles,
    has_permission,
    is_valid_permission,
    permission_matches,
    permissions_for,
    system_principal,
)
from kernel.errors import ConfigError


@pytest.mark.parametrize(
    ("granted", "needed", "expected"),
    [
        ("*", "files.read", True),
        ("*", "anything.at.all", True),
        ("files.read", "files.read", True),
        ("files.read", "files.write", False),
        ("files.*", "files.read", True),
        ("files.*", "files.write.big", True),
        ("files.*", "files", False),
        ("files.*", "filesystem.read", False),
        ("files.write.*", "files.write.big", True),
        ("files.write.*", "files.read", False),
        ("files.read", "files.*", False),
        ("fi*", "files.read", False),
        ("files*", "files.read", False),
        ("", "files.read", False),
        ("*", "", False),
        ("Files.read", "files.read", False),
    ],
)
def test_permission_matches(granted: str, needed: str, expected: bool) -> None:
    assert permission_matches(granted, needed) is expected


@pytest.mark.parametrize(
    ("permission", "valid"),
    [
        ("*", True),
        ("files.read", True),
        ("files.*", True),
        ("a-b_c.d1", True),
        ("files.*.read", False),
        ("files.", False),
        ("Files.read", False),
        ("files read", False),
        ("files.read\n", False),
        ("", False),
    ],
)
def test_is_valid_permission(permission: str, valid: bool) -> None:
    assert is_valid_permission(permission) is valid


def test_principal_coerces_and_validates() -> None:
    principal = Principal(id="u", kind="user", roles=["a", "a"], permissions=["x"])  # type: ignore[arg-type]
    assert principal.roles == frozenset({"a"})
    assert principal.is_authenticated
    hash(principal)
    with pytest.raises(ValueError, match="kind"):
        Principal(id="u", kind="root")  # type: ignore[arg-type]


def test_anonymous_and_system() -> None:
    assert not ANONYMOUS.is_authenticated
    assert not has_permission(ANONYMOUS, "profile.read")
    system = system_principal("scheduler")
    assert system.id == "system:scheduler"
    assert system.kind == "system"
    assert has_permission(system, "users.admin")


def test_has_permission_uses_permissions_not_roles() -> None:
    principal = Principal(id="u", kind="user", roles=frozenset({"admin"}))
    assert not has_permission(principal, "files.read")
    principal = Principal(id="u", kind="api_key", permissions=frozenset({"files.*"}), key_id="k1")
    assert has_permission(principal, "files.read")
    assert not has_permission(principal, "users.admin")


def test_default_role_map() -> None:
    roles = RoleMap()
    assert roles.roles == DEFAULT_ROLES
    assert permissions_for(["admin"], roles) == frozenset({"*"})
    assert permissions_for(["user"], roles) == frozenset({"profile.read", "profile.write"})
    assert permissions_for(["user", "ghost"], roles) == permissions_for(["user"], roles)
    assert permissions_for([], roles) == frozenset()


def test_role_map_from_json_merges_with_defaults() -> None:
    roles = RoleMap.from_json('{"editor": ["posts.*"], "user": ["profile.read"]}')
    assert roles.permissions("editor") == frozenset({"posts.*"})
    assert roles.permissions("user") == frozenset({"profile.read"})
    assert roles.permissions("admin") == frozenset({"*"})
    only = RoleMap.from_json('{"editor": ["posts.*"]}', merge_defaults=False)
    assert set(only.roles) == {"editor"}
    assert RoleMap.from_json(None).roles == DEFAULT_ROLES
    assert RoleMap.from_json("  ").roles == DEFAULT_ROLES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["admin"]', "expected an object"),
        ('{"editor": "posts.*"}', "expected an object"),
        ('{"editor": [1]}', "expected an object"),
        ('{"editor": ["Posts.Read"]}', "invalid permission"),
    ],
)
def test_role_map_errors_name_the_setting(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        RoleMap.from_json(text, setting="WEBOS_ROLES")
    assert "WEBOS_ROLES" in str(caught.value)


ADMIN = Principal(id="admin1", kind="user", roles=frozenset({"admin"}), permissions=frozenset("*"))
MANAGER = Principal(id="m1", kind="user", permissions=frozenset({"users.admin", "profile.*"}))
USERS_STAR = Principal(id="m2", kind="api_key", permissions=frozenset({"users.*"}), key_id="k2")
PLAIN = Principal(id="u1", kind="user", roles=frozenset({"user"}), permissions=frozenset())
FAKE_ANON = Principal(id="anonymous", kind="anonymous", permissions=frozenset({"*"}))


@pytest.mark.parametrize(
    ("actor", "target", "roles", "allowed"),
    [
        (ADMIN, "u1", {"admin"}, True),
        (ADMIN, "admin1", {"user"}, False),  # not even admins change their own roles
        (ADMIN, "admin1", {"admin"}, False),
        (MANAGER, "u1", {"user"}, True),
        (MANAGER, "m1", {"admin"}, False),
        (USERS_STAR, "u1", {"user"}, True),
        (PLAIN, "u1", {"admin"}, False),  # cannot raise own roles
        (PLAIN, "u2", {"user"}, False),
        (ANONYMOUS, "u1", {"user"}, False),
        (FAKE_ANON, "u1", {"user"}, False),
        (system_principal("seed"), "u1", {"admin"}, True),
    ],
)
def test_can_assign_roles(actor: Principal, target: str, roles: set[str], allowed: bool) -> None:
    assert can_assign_roles(actor, target, roles) is allowed


@pytest.mark.parametrize(
    ("actor", "new", "current", "allowed"),
    [
        (ADMIN, {"admin"}, {"user"}, True),
        (MANAGER, {"user"}, set(), True),
        (MANAGER, {"admin"}, {"user"}, False),  # cannot hand out more than it holds
        (MANAGER, {"user"}, {"admin"}, False),  # nor take it away
        (MANAGER, {"ghost"}, set(), False),  # unknown roles are refused
        (ADMIN, {"ghost"}, set(), False),
    ],
)
def test_can_assign_roles_with_role_map(
    actor: Principal, new: set[str], current: set[str], allowed: bool
) -> None:
    result = can_assign_roles(actor, "u9", new, role_map=RoleMap(), current_roles=current)
    assert result is allowed


def test_can_assign_roles_refuses_a_single_string() -> None:
    with pytest.raises(TypeError):
        can_assign_roles(ADMIN, "u1", "admin")
