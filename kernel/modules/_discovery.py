"""Phase one: find modules without importing their code.

A module is a folder holding ``module.toml`` under the modules path, or an installed distribution
that names a package in the ``webos.modules`` entry point group (the package holds the same
``module.toml``).
"""

from __future__ import annotations

import importlib.machinery
import sys
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from kernel.errors import ModuleError
from kernel.modules._manifest import (
    MANIFEST_NAME,
    Manifest,
    check_module_name,
    read_manifest,
    read_manifest_file,
)

ENTRY_POINT_GROUP = "webos.modules"
CONVENTION_FILES = (
    "settings",
    "models",
    "services",
    "events",
    "router",
    "hooks",
    "tasks",
    "ui",
    "admin",
)
#: What the data explorer (``kernel.explorer``) emits for a module with ``models.py``: one event
#: per change it makes to the module's documents (``contacts.contact.changed``).
DATA_CHANGES = "{module}.*.changed"


@dataclass(frozen=True)
class ModuleSpec:
    """A discovered module: its manifest and where its code lives."""

    name: str
    package: str
    manifest: Manifest
    origin: str
    path: Path | None = None
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def emits(self) -> tuple[str, ...]:
        """What it may publish: its manifest's ``emits``, and the explorer's change events when
        it has documents (so no module has to declare what the kernel emits for it)."""
        derived = (DATA_CHANGES.format(module=self.name),) if "models" in self.files else ()
        return tuple(dict.fromkeys((*self.manifest.emits, *derived)))


@dataclass
class Discovery:
    modules: dict[str, ModuleSpec] = field(default_factory=dict)
    problems: list[ModuleError] = field(default_factory=list)


def _convention_files(folder: Path) -> tuple[str, ...]:
    return tuple(
        stem
        for stem in CONVENTION_FILES
        if (folder / f"{stem}.py").is_file() or (folder / stem / "__init__.py").is_file()
    )


def _from_folder(folder: Path) -> ModuleSpec:
    name = folder.name
    manifest = read_manifest_file(folder / MANIFEST_NAME, name)
    if not (folder / "__init__.py").is_file():
        raise ModuleError(
            f"module {name!r} at {folder} has no __init__.py: a module is a Python package",
            modules=(name,),
        )
    check_module_folder(folder)
    return _checked(ModuleSpec(name, name, manifest, "path", folder, _convention_files(folder)))


def _from_entry_point(entry: metadata.EntryPoint) -> ModuleSpec:
    package = entry.value.split(":")[0]
    name = entry.name
    try:
        manifest_file = resources.files(package).joinpath(MANIFEST_NAME)
        text = manifest_file.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ModuleError(
            f"installed module {name!r} ({package}) has no readable {MANIFEST_NAME}: {error}",
            modules=(name,),
        ) from None
    manifest = read_manifest(text, default_name=name, where=f"{package}/{MANIFEST_NAME}")
    folder = Path(str(resources.files(package)))
    files = _convention_files(folder)
    return _checked(ModuleSpec(name, package, manifest, "entry point", folder, files))


def _checked(spec: ModuleSpec) -> ModuleSpec:
    """Refuse ``[services.NAME]`` tables in a module without ``services.py``: they would tune
    nothing. (A name its ``services.py`` does not declare is refused when it is read.)"""
    if spec.manifest.services and "services" not in spec.files:
        tables = ", ".join(f"[services.{name}]" for name in sorted(spec.manifest.services))
        raise ModuleError(
            f"module {spec.name!r}: {MANIFEST_NAME} has {tables}, but the module has no "
            "services.py, so it declares no service for them to tune",
            modules=(spec.name,),
        )
    return spec


def discover(modules_path: Path, *, include_entry_points: bool = True) -> Discovery:
    """Find every module; broken ones are reported in ``problems`` rather than raised."""
    found = Discovery()
    modules_path = Path(modules_path)
    if modules_path.is_dir():
        _ensure_importable(modules_path)
        for folder in sorted(modules_path.iterdir()):
            if not (folder / MANIFEST_NAME).is_file():
                continue
            try:
                spec = _from_folder(folder)
            except ModuleError as error:
                found.problems.append(error)
                continue
            found.modules[spec.name] = spec
    if include_entry_points:
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                spec = _from_entry_point(entry)
            except ModuleError as error:
                found.problems.append(error)
                continue
            if spec.name in found.modules:
                found.problems.append(
                    ModuleError(
                        f"module {spec.name!r} is both in {modules_path} and installed as "
                        f"{spec.package}; the folder wins",
                        modules=(spec.name,),
                    )
                )
                continue
            found.modules[spec.name] = spec
    return found


def check_module_folder(folder: Path) -> None:
    """Refuse a module folder whose name the loader cannot use: not a valid module name, or the
    name of a standard library module or an installed package, which ``import NAME`` would find
    instead of the module. Discovery and ``webos new module`` both ask this, so the scaffolder
    never creates what the loader then refuses."""
    name = folder.name
    try:
        check_module_name(name)
    except ValueError as error:
        raise ModuleError(str(error), modules=(name,)) from None
    shadowed = _installed_elsewhere(name, folder)
    if shadowed:
        raise ModuleError(
            f"module {name!r} at {folder} has the same name as {shadowed}, which Python would "
            "import instead: give the module another name",
            modules=(name,),
        )


def _installed_elsewhere(name: str, folder: Path) -> str | None:
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return "a standard library module"
    ours = str(folder.parent.resolve())
    others = [entry for entry in sys.path if entry and str(Path(entry).resolve()) != ours]
    spec = importlib.machinery.PathFinder.find_spec(name, others)
    if spec is None:
        return None
    # A modules folder made of symlinks finds the very package it links to: not a shadow.
    if spec.origin and Path(spec.origin).parent.resolve() == folder.resolve():
        return None
    where = spec.origin or ", ".join(spec.submodule_search_locations or []) or "an unknown place"
    return f"the package at {where}"


def _ensure_importable(modules_path: Path) -> None:
    # Module packages import by their own name (``greeter``), the way pytest and users see them.
    entry = str(modules_path.resolve())
    if entry not in sys.path:
        sys.path.insert(0, entry)
