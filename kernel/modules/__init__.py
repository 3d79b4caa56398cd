"""Modules by convention: discovery, manifests, dependency order and the convention files."""

from kernel.modules._context import (
    LoadedModule,
    ModuleContext,
    ModuleSettings,
    ModuleState,
    ThisModule,
    load_module_settings,
    module_env_prefix,
)
from kernel.modules._conventions import (
    Convention,
    RouterConvention,
    default_conventions,
    defined_here,
)
from kernel.modules._discovery import (
    CONVENTION_FILES,
    ENTRY_POINT_GROUP,
    Discovery,
    ModuleSpec,
    discover,
)
from kernel.modules._manifest import MANIFEST_NAME, Manifest, check_module_name, read_manifest
from kernel.modules._ordering import start_order

__all__ = [
    "CONVENTION_FILES",
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "Convention",
    "Discovery",
    "LoadedModule",
    "Manifest",
    "ModuleContext",
    "ModuleSettings",
    "ModuleSpec",
    "ModuleState",
    "RouterConvention",
    "ThisModule",
    "check_module_name",
    "default_conventions",
    "defined_here",
    "discover",
    "load_module_settings",
    "module_env_prefix",
    "read_manifest",
    "start_order",
]
