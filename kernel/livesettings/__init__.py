"""Live module settings: saved in NATS KV, applied in every process without a restart."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.livesettings._editor import (
        UPDATED,
        NoSuchSettings,
        SettingsEditor,
        classes_of,
        settings_classes,
    )
    from kernel.livesettings._fields import (
        FieldView,
        SettingsInvalid,
        build,
        describe,
        from_environment,
        merge,
    )
    from kernel.livesettings._http import MODULES_STATE, READ, WRITE, SettingsEditorSubsystem
    from kernel.livesettings._store import (
        BUCKET,
        Saved,
        SettingsChangedMeanwhile,
        SettingsStore,
        direct_get_subject,
        key_subject,
    )
    from kernel.livesettings._subsystem import LiveSettingsSubsystem

__getattr__ = lazy_exports(__name__)
__all__ = [
    "BUCKET",
    "MODULES_STATE",
    "READ",
    "UPDATED",
    "WRITE",
    "FieldView",
    "LiveSettingsSubsystem",
    "NoSuchSettings",
    "Saved",
    "SettingsChangedMeanwhile",
    "SettingsEditor",
    "SettingsEditorSubsystem",
    "SettingsInvalid",
    "SettingsStore",
    "build",
    "classes_of",
    "describe",
    "direct_get_subject",
    "from_environment",
    "key_subject",
    "merge",
    "settings_classes",
]
