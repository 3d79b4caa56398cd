"""Package names resolved on first use (PEP 562), so importing one room loads only that room.

A package lists what it exports once, as the imports of its ``if TYPE_CHECKING:`` block (type
checkers and readers see ordinary imports) and in ``__all__``; at run time the package's
``__getattr__`` = :func:`lazy_exports` reads that block and imports a name's module only when
the name is first used. ``import kernel.errors`` therefore loads neither Litestar nor FastStream,
and a module process never loads the console's templates.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _declared(package_name: str) -> dict[str, tuple[str, str]]:
    """``name -> (module, attribute)`` from the package's ``if TYPE_CHECKING:`` imports."""
    package = sys.modules[package_name]
    tree = ast.parse(Path(str(package.__file__)).read_text(encoding="utf-8"))
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom):
                continue
            module = statement.module or ""
            if statement.level:
                base = package_name.rsplit(".", statement.level - 1)[0]
                module = f"{base}.{module}" if module else base
            for alias in statement.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found


def lazy_exports(package_name: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of a package whose exports are its ``TYPE_CHECKING`` imports."""
    declared: dict[str, tuple[str, str]] | None = None

    def __getattr__(name: str) -> Any:
        nonlocal declared
        if declared is None:
            declared = _declared(package_name)
        try:
            module, attribute = declared[name]
        except KeyError:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package_name], name, value)  # later look-ups skip this function
        return value

    return __getattr__


@contextmanager
def absent(name: str) -> Iterator[None]:
    """Imports inside the block see ``name`` as not installed; afterwards it imports as usual.

    For a library that imports an optional package up front only for a feature this process
    never runs: FastStream imports uvicorn (and with it watchfiles and multiprocessing) for its
    own ASGI runner, which a module process does not use. Code that imports ``name`` later,
    outside the block, gets the real module.
    """
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not installed"
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


__all__ = ["absent", "lazy_exports"]
