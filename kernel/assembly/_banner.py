"""The gateway's first lines once it serves: where the console and the API docs are, and what to
do next (the modules say: the auth module, when no admin exists, names the command that makes one).

The gateway knows its addresses; only a module knows its own state, so it answers the
``webos_next_steps`` hook (``kernel.modules``) and the kernel never imports a module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kernel.hooks import call_module_hook, has_hook
from kernel.runtime import Kernel

log = logging.getLogger("webos.run")

#: Addresses a server listens on that no browser can open: shown as the loopback one.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in _ANY_ADDRESS else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


async def next_steps(kernel: Kernel) -> list[str]:
    """Every started module's lines, in start order. A module whose hook fails costs its own
    lines and a warning, never the gateway."""
    lines: list[str] = []
    for module in kernel.modules.values():
        if module.error or not has_hook(kernel.plugins, "webos_next_steps", module.name):
            continue
        try:
            said = await call_module_hook(
                kernel.plugins, "webos_next_steps", module.name, module=module.context
            )
        except Exception:
            log.warning("module %r could not say what to do next", module.name, exc_info=True)
            continue
        lines.extend(_lines(said))
    return lines


def _lines(said: object) -> Iterable[str]:
    if said is None:
        return []
    if isinstance(said, str):
        return [said]
    return [str(line) for line in said]  # type: ignore[attr-defined]


async def announce(kernel: Kernel, host: str, port: int) -> None:
    url = base_url(host, port)
    log.info("WebOS is ready at %s", url)
    log.info("  console:  %s/console", url)
    log.info("  API docs: %s/schema", url)
    for line in await next_steps(kernel):
        log.info("  next: %s", line)
