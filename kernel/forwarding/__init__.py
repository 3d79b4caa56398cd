"""Forwarding: HTTP routes of a module running in another process, answered over NATS.

Two sides share one wire format (``_wire.py``): the client side runs in the gateway
(:class:`ForwardingClient` mounts the routes of modules running elsewhere; each request goes
through a :class:`Forwarder`, chunked exchanges through a relay), the server side runs in the
module process (:class:`ForwardingServer` answers through the module's own app). Websockets do
not travel (``_websockets.py``). See ``docs/distribution.md``.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.forwarding._client import Forwarder, ForwardingClient, http_subject
    from kernel.forwarding._server import ForwardingServer
    from kernel.forwarding._settings import ForwardingSettings
    from kernel.forwarding._websockets import refuse_websockets, websocket_routes
    from kernel.forwarding._wire import DEADLINE_CUT, HTTP_SUBJECT

__getattr__ = lazy_exports(__name__)
__all__ = [
    "DEADLINE_CUT",
    "HTTP_SUBJECT",
    "Forwarder",
    "ForwardingClient",
    "ForwardingServer",
    "ForwardingSettings",
    "http_subject",
    "refuse_websockets",
    "websocket_routes",
]
