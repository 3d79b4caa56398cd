from kernel import ModuleContext, hookimpl
from kernel.auth import WeakPassword, active_security
from kernel.errors import ConfigError

from ._accounts import StoredCredentials, create_user, find_by_email
from .models import User


@hookimpl
async def webos_startup(module: ModuleContext) -> None:
    security = active_security()
    security.credentials = StoredCredentials(security.role_map)
    await _first_admin(module, security.settings)


async def _first_admin(module: ModuleContext, settings: object) -> None:
    """Create ``WEBOS_ADMIN_EMAIL`` as an admin on the first start (only while no admin exists)."""
    email = getattr(settings, "admin_email", None)
    password = getattr(settings, "admin_password", None)
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
    try:
        user = await create_user(email, password.get_secret_value(), roles=["admin"])
    except WeakPassword as error:
        raise ConfigError(f"WEBOS_ADMIN_PASSWORD: {error}") from None
    module.log.info("created the first admin %s", user.email)
    await module.emit("auth.user_created", {"id": str(user.id), "roles": user.roles})
