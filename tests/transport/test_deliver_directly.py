"""A subscription handed to ``deliver_directly`` (the forwarding server's and the service
endpoints') gives each message over in the step nats-py reads it: every message once, in order,
none held, and a drain still ends the subscription."""

from __future__ import annotations

import asyncio
from typing import Any

from kernel.transport import deliver_directly

COUNT = 500


async def subscribed(connection: Any, subject: str, heard: list[bytes]) -> Any:
    subscription = await connection.subscribe(subject, queue=subject)
    deliver_directly(subscription, lambda msg: heard.append(msg.data))
    await connection.flush()
    return subscription


async def test_every_message_is_handed_over_once_in_order(connection: Any) -> None:
    heard: list[bytes] = []
    subscription = await subscribed(connection, "arrivals.burst", heard)

    for number in range(COUNT):
        await connection.publish("arrivals.burst", str(number).encode())
    await connection.flush()
    for _ in range(200):  # the server's copies arrive on the read loop's next steps
        if len(heard) == COUNT:
            break
        await asyncio.sleep(0.01)

    assert heard == [str(number).encode() for number in range(COUNT)]
    assert subscription._pending_size == 0  # nothing counted as held: never a slow consumer
    assert subscription.pending_msgs == 0


async def test_a_drain_ends_the_subscription(connection: Any) -> None:
    heard: list[bytes] = []
    subscription = await subscribed(connection, "arrivals.drain", heard)
    await connection.publish("arrivals.drain", b"before")
    await connection.flush()

    await asyncio.wait_for(subscription.drain(), 10)
    await connection.publish("arrivals.drain", b"after")
    await connection.flush()
    await asyncio.sleep(0.1)

    assert heard == [b"before"]


async def test_a_subscription_with_a_callback_hands_over_directly_instead(connection: Any) -> None:
    through_callback: list[bytes] = []
    heard: list[bytes] = []

    async def callback(msg: Any) -> None:
        through_callback.append(msg.data)

    subscription = await connection.subscribe("arrivals.callback", cb=callback)
    deliver_directly(subscription, lambda msg: heard.append(msg.data))
    await connection.publish("arrivals.callback", b"one")
    await connection.flush()
    for _ in range(200):
        if heard:
            break
        await asyncio.sleep(0.01)

    assert heard == [b"one"]
    assert through_callback == []
