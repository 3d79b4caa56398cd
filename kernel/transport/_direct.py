"""A subscription whose messages are handed to a plain callback as nats-py reads them.

nats-py delivers the messages of a subscription with a callback through a queue and a task of
the subscription's own: a queue round trip and a task switch per message. Where the callback only
starts a task of its own per message anyway (a service call), that is pure overhead.
:func:`deliver_directly` puts a stand-in for the queue on the subscription, so nats-py's read
loop calls ``deliver(message)`` in the step it parses the message; the subscription's own task
(which would wait on the queue) is cancelled. A drain waits for nothing either: nothing is
ever held. ``deliver`` must not block (it runs inside nats-py's read loop) and must not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _Direct:
    """What nats-py calls on a subscription's ``_pending_queue``, calling ``deliver``."""

    def __init__(self, subscription: Any, deliver: Callable[[Any], None]) -> None:
        self.subscription = subscription
        self.deliver = deliver

    def put_nowait(self, message: Any) -> None:
        self.subscription._pending_size = 0  # nothing is held: never a slow consumer
        self.deliver(message)

    def qsize(self) -> int:
        return 0

    def empty(self) -> bool:
        return True

    def task_done(self) -> None:
        return None

    async def join(self) -> None:
        return None


def deliver_directly(subscription: Any, deliver: Callable[[Any], None]) -> None:
    """Hand each message of nats-py's ``subscription`` to ``deliver`` (module docstring)."""
    subscription._pending_queue = _Direct(subscription, deliver)
    task = subscription._wait_for_msgs_task
    if task is not None:
        task.cancel()
