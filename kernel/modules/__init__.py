"""Modules by convention: discovery, manifests, dependency order and the convention files."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.modules._context import (
        Emit,
        LoadedModule,
        ModuleContext,
        ModuleSet,
        ModuleSettings,
        ModuleState,
        load_module_settings,
        module_env_prefix,
    )
    from kernel.modules._conventions import (
        SETTINGS_CHANGED,
        SETTINGS_ENVIRONMENT,
        HooksConvention,
        ModuleConvention,
        RouterConvention,
        SettingsConvention,
        defined_here,
        route_handlers_in,
    )
    from kernel.modules._discovery import (
        CONVENTION_FILES,
        ENTRY_POINT_GROUP,
        Discovery,
        ModuleSpec,
        check_module_folder,
        discover,
    )
    from kernel.modules._frames import module_frames, with_frames
    from kernel.modules._hooks import ModuleHookSpecs
    from kernel.modules._http import ThisModule, module_router
    from kernel.modules._live import (
        SettingsChanged,
        on_settings_changed,
        settings_changed_hook,
        settings_class_in,
    )
    from kernel.modules._manifest import MANIFEST_NAME, Manifest, check_module_name, read_manifest
    from kernel.modules._ordering import start_order
    from kernel.modules._reading import read_convention
    from kernel.modules._service_options import BreakerOptions, MethodOptions, ServiceOptions
    from kernel.modules._settings import ModulesSettings
    from kernel.modules._streams import ModuleStream

__getattr__ = lazy_exports(__name__)
__all__ = [
    "CONVENTION_FILES",
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "SETTINGS_CHANGED",
    "SETTINGS_ENVIRONMENT",
    "BreakerOptions",
    "Discovery",
    "Emit",
    "HooksConvention",
    "LoadedModule",
    "Manifest",
    "MethodOptions",
    "ModuleContext",
    "ModuleConvention",
    "ModuleHookSpecs",
    "ModuleSet",
    "ModuleSettings",
    "ModuleSpec",
    "ModuleState",
    "ModuleStream",
    "ModulesSettings",
    "RouterConvention",
    "ServiceOptions",
    "SettingsChanged",
    "SettingsConvention",
    "ThisModule",
    "check_module_folder",
    "check_module_name",
    "defined_here",
    "discover",
    "load_module_settings",
    "module_env_prefix",
    "module_frames",
    "module_router",
    "on_settings_changed",
    "read_convention",
    "read_manifest",
    "route_handlers_in",
    "settings_changed_hook",
    "settings_class_in",
    "start_order",
    "with_frames",
]
