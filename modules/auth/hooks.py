"""The auth module's hooks. ``webos`` imports this file to list the commands modules add, so it
stays cheap: what the hooks need (the documents, the account logic) loads when they run."""

from typing import Any

from kernel import ModuleContext, hookimpl
from kernel.auth import RoleMap, WeakPassword
from kernel.errors import ConfigError

from .settings import AuthModuleSettings


@hookimpl
def webos_credentials(role_map: RoleMap) -> Any:
    """Tokens and API keys are judged against this module's accounts."""
    from ._accounts import StoredCredentials

    return StoredCredentials(role_map)


@hookimpl
def webos_cli_commands() -> list[Any]:
    from ._cli import users

    return [users]


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    assert isinstance(module.settings, AuthModuleSettings)
    await _first_admin(module, module.settings)


@hookimpl
async def webos_next_steps() -> list[str]:
    """Until an admin exists, nobody can sign in to the console: say how to make one."""
    from .models import User

    if await User.find_one({"roles": "admin"}) is not None:
        return []
    return [
        "no admin account yet: create one with `webos users create EMAIL --admin` "
        "(asks for its password), then sign in to the console"
    ]


async def _first_admin(module: ModuleContext, settings: AuthModuleSettings) -> None:
    """Create ``WEBOS_ADMIN_EMAIL`` as an admin on the first start (only while no admin exists)."""
    from kernel.auth import active_security

    from ._accounts import InvalidAccount, create_user, find_by_email
    from .models import User

    email, password = settings.admin_email, settings.admin_password
    if not email and password is None:
        return
    if await User.find_one({"roles": "admin"}) is not None:
        return
    if not email or password is None:
        missing = "WEBOS_ADMIN_PASSWORD" if email else "WEBOS_ADMIN_EMAIL"
        raise ConfigError(f"{missing} must be set to create the first admin")
    if await find_by_email(email) is not None:
        module.log.warning("WEBOS_ADMIN_EMAIL names an existing user who is not an admin: skipped")
        return
    role_map = active_security().role_map
    try:
        user = await create_user(
            email, password.get_secret_value(), roles=["admin"], role_map=role_map
        )
    except InvalidAccount as error:
        raise ConfigError(f"WEBOS_ADMIN_EMAIL: {error}") from None
    except WeakPassword as error:
        raise ConfigError(f"WEBOS_ADMIN_PASSWORD: {error}") from None
    module.log.info("created the first admin %s", user.email)
    await module.emit("auth.user_created", {"id": str(user.id), "roles": user.roles})
