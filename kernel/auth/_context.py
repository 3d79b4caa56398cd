"""The principal of the unit of work in progress (request, event, task).

Set by whoever starts the work (the gateway's auth middleware, the bus after verifying the
identity header, the task worker) and read deep inside it. It defaults to ``ANONYMOUS`` so that
forgetting to set it denies rather than grants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from kernel.auth._permissions import ANONYMOUS, Principal

current_principal: ContextVar[Principal] = ContextVar("webos_principal", default=ANONYMOUS)


def get_principal() -> Principal:
    return current_principal.get()


@contextmanager
def use_principal(principal: Principal) -> Iterator[Principal]:
    """Run a block as ``principal``, restoring the previous one afterwards."""
    token = current_principal.set(principal)
    try:
        yield principal
    finally:
        current_principal.reset(token)
