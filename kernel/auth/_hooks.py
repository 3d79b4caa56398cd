"""The extension point of security: ``webos_credentials`` (the auth module implements it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.hooks import hookspec

if TYPE_CHECKING:
    from kernel.auth._permissions import RoleMap
    from kernel.auth._subsystem import Credentials


class SecurityHookSpecs:
    @hookspec(firstresult=True)
    def webos_credentials(self, role_map: RoleMap) -> Credentials | None:
        """The ``Credentials`` that turn tokens and API keys into principals in this process.

        Called once when security starts; the first module to answer provides them.
        """
