"""Settings of the bus (``WEBOS_PUBLISH_TIMEOUT``) and of durable handlers (``WEBOS_DURABLE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.bus._declared import Validation
from kernel.config import WebOSSettings
from kernel.transport import retry_delay


class DurableSettings(WebOSSettings):
    """Retries and redelivery of durable handlers (``@on(..., durable=True)``)."""

    model_config = SettingsConfigDict(env_prefix="WEBOS_DURABLE_")

    max_deliver: int = Field(
        5, ge=1, le=1000, description="Deliveries of a durable event before it is dead-lettered."
    )
    backoff: float = Field(1.0, gt=0, description="First retry delay, seconds (doubles).")
    backoff_max: float = Field(60.0, gt=0, description="Longest retry delay, seconds.")
    ack_wait: float = Field(
        30.0, gt=0, description="Seconds a durable handler may run before redelivery."
    )
    max_age: float = Field(
        7 * 24 * 3600.0, gt=0, description="Seconds durable events are kept in WEBOS_EVENTS."
    )

    def delay(self, delivered: int) -> float:
        return retry_delay(delivered, self.backoff, self.backoff_max)


class BusSettings(WebOSSettings):
    """``WEBOS_PUBLISH_TIMEOUT``, ``WEBOS_SUBSCRIPTION_PENDING_MESSAGES`` and ``_BYTES``,
    ``WEBOS_EVENT_VALIDATION``."""

    event_validation: Validation = Field(
        "error",
        description="What an emit does with a payload that breaks its subject's declared model "
        "(events.py: event(subject, Model)): error raises EventPayloadInvalid and sends nothing; "
        "warn logs a WARNING naming the subject, the module and the field, then sends it; off "
        "does not validate.",
    )

    publish_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds an event that a stream keeps may take to be stored, a leader "
        "election or reconnect included, before emit raises EventNotStored.",
    )
    # Bytes bound the memory; the count only stops a flood of tiny events. nats-py's own
    # defaults (524,288 events, 128 MiB per subscription) let a slow handler grow without end.
    subscription_pending_messages: int = Field(
        65_536,
        ge=1,
        description="Events one handler's subscription may hold in this process before further "
        "ones are dropped (and counted); durable handlers keep theirs in JetStream instead.",
    )
    subscription_pending_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Bytes one handler's subscription may hold in this process (see above).",
    )
