"""Dependency order: start dependencies first, stop in reverse, refuse what cannot be ordered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kernel.errors import ModuleError


def start_order(
    depends: Mapping[str, Sequence[str]],
    *,
    available_elsewhere: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """Topologically sort ``depends`` (module -> its dependencies), alphabetically within a rank.

    A dependency in ``available_elsewhere`` is a known module that is not run in this process; it
    does not take part in the order. Any other unknown dependency, or a cycle, raises.
    """
    for name, needs in depends.items():
        for need in needs:
            if need not in depends and need not in available_elsewhere:
                installed = ", ".join(sorted({*depends, *available_elsewhere})) or "none"
                raise ModuleError(
                    f"module {name!r} depends on {need!r}, which is not installed. "
                    f"Installed: {installed}",
                    modules=(name, need),
                )
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*trail[trail.index(name) :], name]
            raise ModuleError(
                "modules depend on each other in a cycle: " + " -> ".join(cycle),
                modules=tuple(dict.fromkeys(cycle)),
            )
        state[name] = "visiting"
        for need in sorted(depends[name]):
            if need in depends:
                visit(need, [*trail, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(depends):
        visit(name, [])
    return order
