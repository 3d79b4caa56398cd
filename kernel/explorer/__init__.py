"""The data explorer: every Beanie Document of every module, listed, searched and edited.

No code from the module: its ``models.py`` is enough (an inner ``class Admin`` or an ``admin.py``
with ``ModelAdmin`` objects adjusts what is shown). The process running the module serves the
explorer's JSON API (``/api/<module>/admin/<model>``) and the console's fragments
(``/api/<module>/console/data/<model>``); the gateway forwards them for modules running elsewhere.
Reading needs ``<module>.<model>.read``, changing ``<module>.<model>.write``. See docs/data.md.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.explorer._options import ModelAdmin
    from kernel.explorer._problems import (
        BadQuery,
        DuplicateRecord,
        InvalidRecord,
        ModelNotFound,
        RecordNotFound,
        WritePermissionMissing,
    )
    from kernel.explorer._subsystem import AdminConvention, ExplorerConvention, ExplorerSubsystem
    from kernel.explorer._views import Explorer, ModelView, change_subject

__getattr__ = lazy_exports(__name__)
__all__ = [
    "AdminConvention",
    "BadQuery",
    "DuplicateRecord",
    "Explorer",
    "ExplorerConvention",
    "ExplorerSubsystem",
    "InvalidRecord",
    "ModelAdmin",
    "ModelNotFound",
    "ModelView",
    "RecordNotFound",
    "WritePermissionMissing",
    "change_subject",
]
