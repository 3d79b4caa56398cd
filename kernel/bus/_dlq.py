"""The dead letters: events a durable handler gave up on, kept with why, until replayed.

A letter is published by the module whose handler failed, so every header in it is that module's
word. What decides a replay is read back from the server instead: the letter's subject
(``webos.dlq.<consumer>``, which only the consumer's module may publish on) names the consumer,
and the original event is read from ``WEBOS_EVENTS`` by the stream sequence the letter names. The
letter is *trusted* when that event exists, the consumer's filter takes its subject and its
payload is the letter's: it then replays the event as stored, its caller's identity judged at the
event's stored time. Any other letter is *untrusted*: listed with why, and replayed anonymous
with the letter's payload, only to a subject the consumer takes.

A letter whose event filled a message on its own is stored without the payload, naming it by its
SHA-256 instead (``_durable.fit_letter``): trusted, it shows and replays the original's payload;
untrusted, it has none to show or replay.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.js.errors import NotFoundError

from kernel.bus._durable import (
    HEADER_DLQ_DELIVERIES,
    HEADER_DLQ_ERROR,
    HEADER_DLQ_HANDLER,
    HEADER_DLQ_HISTORY,
    HEADER_DLQ_PAYLOAD_SHA256,
    HEADER_DLQ_STREAM_SEQ,
    HEADER_EXPECTED_STREAM,
    payload_digest,
    replay_subject,
)
from kernel.bus._event import (
    HEADER_CONTENT_TYPE,
    HEADER_EVENT_ID,
    HEADER_MSG_ID,
    HEADER_ORIGINAL_SUBJECT,
    HEADER_TIME,
    HEADER_TRACEPARENT,
)
from kernel.bus._streams import DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM
from kernel.bus._watch import redacted
from kernel.errors import WebOSError
from kernel.transport import check_size, covers

#: What an untrusted letter keeps when replayed: nothing that could speak for someone.
_UNTRUSTED_KEEPS = (HEADER_EVENT_ID, HEADER_CONTENT_TYPE, HEADER_TIME, HEADER_TRACEPARENT)
#: Earlier failures a replay carries: the latest ones, each error cut short, so that the headers
#: of an event that keeps failing stay small.
HISTORY_KEPT = 10
HISTORY_ERROR_LENGTH = 500


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_id: str
    subject: str
    module: str
    #: The failing handler's name, its error and delivery count: the module's word, unchecked.
    handler: str
    consumer: str
    deliveries: int
    error: str
    #: When the server stored the letter.
    time: str
    data: bytes
    headers: dict[str, str]
    trusted: bool
    #: Why an untrusted letter is not believed ("" when trusted).
    doubt: str = ""
    #: When the server stored the original event, and where (trusted letters only).
    stored_at: datetime | None = None
    original_seq: int | None = None
    #: The failures before this one, oldest first: one per earlier replay.
    history: tuple[dict[str, Any], ...] = ()
    #: The letter was stored without the payload (too large to go with it): a trusted one shows
    #: the original's, an untrusted one none.
    payload_left_out: bool = False

    @property
    def errors(self) -> list[str]:
        """Every error this event met, oldest first (the last one is :attr:`error`)."""
        return [str(entry.get("error", "")) for entry in self.history] + [self.error]

    def failure(self) -> dict[str, Any]:
        """This failure as the next replay's history remembers it."""
        return {
            "error": self.error[:HISTORY_ERROR_LENGTH],
            "handler": self.handler,
            "deliveries": self.deliveries,
            "time": self.time,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "subject": self.subject,
            "module": self.module,
            "handler": self.handler,
            "deliveries": self.deliveries,
            "error": self.error,
            "time": self.time,
            "trusted": self.trusted,
            "doubt": self.doubt,
            "replays": len(self.history),
            "errors": self.errors,
            "payload_left_out": self.payload_left_out,
        }

    def shown_headers(self) -> dict[str, str]:
        """The headers for people to read: identities and credentials redacted."""
        return redacted(self.headers)

    def payload(self) -> Any:
        if self.payload_left_out and not self.trusted:
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            return self.data.decode("utf-8", errors="replace")


class DeadLetterNotFound(WebOSError, LookupError):
    """No dead letter has that id (never stored, replayed, or expired)."""

    http_status = 404


class DeadLetterRefused(WebOSError, ValueError):
    """An untrusted letter names a subject its handler does not take: it is not replayed."""

    http_status = 409


class _Filters:
    """The subjects each durable consumer takes, read from the server once per use."""

    def __init__(self, js: Any) -> None:
        self._js = js
        self._known: dict[str, tuple[str, ...]] = {}

    async def of(self, consumer: str) -> tuple[str, ...]:
        if consumer not in self._known:
            try:
                config = (await self._js.consumer_info(EVENTS_STREAM, consumer)).config
            except NotFoundError:
                self._known[consumer] = ()
            else:
                listed = config.filter_subjects or [config.filter_subject or ""]
                self._known[consumer] = tuple(s for s in listed if s != replay_subject(consumer))
        return self._known[consumer]

    async def doubt(self, consumer: str, subject: str) -> str:
        """Why ``consumer`` would not have received ``subject`` ("" when it would)."""
        taken = await self.of(consumer)
        if not taken:
            return f"no durable consumer {consumer!r} exists"
        if not subject or not any(covers(pattern, subject) for pattern in taken):
            return f"its handler does not take {subject or 'an unnamed subject'!r}"
        return ""


async def _original(
    js: Any, consumer: str, said: dict[str, str], data: bytes, filters: _Filters
) -> tuple[Any, str] | str:
    """The stored event a letter stands for and its subject, or why it stands for none."""
    try:
        seq = int(said.get(HEADER_DLQ_STREAM_SEQ, ""))
    except ValueError:
        return "it names no stored event"
    try:
        original = await js.get_msg(EVENTS_STREAM, seq=seq)
    except NotFoundError:
        return f"event {seq} is no longer in {EVENTS_STREAM}"
    subject = original.subject or ""
    if subject == replay_subject(consumer):
        # Replays are published by kernel processes only, so their original subject holds.
        subject = (original.headers or {}).get(HEADER_ORIGINAL_SUBJECT, "")
    if doubt := await filters.doubt(consumer, subject):
        return f"event {seq}: {doubt}"
    digest = said.get(HEADER_DLQ_PAYLOAD_SHA256)
    if digest is not None and not data:  # stored without the payload: it names it by digest
        if not hmac.compare_digest(payload_digest(original.data or b""), digest):
            return f"its payload is not event {seq}'s"
    elif (original.data or b"") != data:
        return f"its payload is not event {seq}'s"
    return original, subject


async def _judge(js: Any, letter_id: int, raw: Any, filters: _Filters) -> DeadLetter:
    consumer = (raw.subject or "").removeprefix(f"{DLQ_PREFIX}.")
    said = dict(raw.headers or {})
    data = raw.data or b""
    found = await _original(js, consumer, said, data, filters)
    try:
        deliveries = int(said.get(HEADER_DLQ_DELIVERIES, "0"))
    except ValueError:
        deliveries = 0
    told = {
        "payload_left_out": HEADER_DLQ_PAYLOAD_SHA256 in said and not data,
        "id": letter_id,
        "consumer": consumer,
        "module": consumer.split("__", 1)[0],
        "handler": said.get(HEADER_DLQ_HANDLER, ""),
        "deliveries": deliveries,
        "error": said.get(HEADER_DLQ_ERROR, ""),
        "time": raw.time.isoformat() if raw.time else "",
    }
    if isinstance(found, str):
        return DeadLetter(
            **told,
            event_id=said.get(HEADER_EVENT_ID, ""),
            subject=said.get(HEADER_ORIGINAL_SUBJECT, ""),
            data=data,
            headers=said,
            trusted=False,
            doubt=found,
            history=_history(said),
        )
    original, subject = found
    headers = dict(original.headers or {})
    return DeadLetter(
        **told,
        event_id=headers.get(HEADER_EVENT_ID, ""),
        subject=subject,
        data=original.data or b"",
        headers=headers,
        trusted=True,
        stored_at=original.time,
        original_seq=original.seq,
        history=_history(headers),
    )


def _history(headers: dict[str, str]) -> tuple[dict[str, Any], ...]:
    try:
        entries = json.loads(headers.get(HEADER_DLQ_HISTORY, "[]"))
    except ValueError:
        return ({"error": "(an unreadable history)"},)
    if not isinstance(entries, list):
        return ({"error": "(an unreadable history)"},)
    return tuple(entry for entry in entries if isinstance(entry, dict))


async def _read(js: Any, letter_id: int) -> Any:
    try:
        return await js.get_msg(DLQ_STREAM, seq=letter_id)
    except NotFoundError:
        raise DeadLetterNotFound(f"no dead letter {letter_id}") from None


async def get_dead_letter(js: Any, letter_id: int) -> DeadLetter:
    return await _judge(js, letter_id, await _read(js, letter_id), _Filters(js))


async def list_dead_letters(js: Any, *, limit: int = 100) -> list[DeadLetter]:
    """Oldest first; deleted (replayed) letters are skipped."""
    try:
        state = (await js.stream_info(DLQ_STREAM)).state
    except NotFoundError:
        return []
    letters: list[DeadLetter] = []
    if not state.messages:
        return letters
    filters = _Filters(js)
    for seq in range(max(state.first_seq, 1), state.last_seq + 1):
        if len(letters) >= limit:
            break
        try:
            raw = await _read(js, seq)
        except DeadLetterNotFound:
            continue
        letters.append(await _judge(js, seq, raw, filters))
    return letters


Reattest = Callable[[dict[str, str], datetime | None], dict[str, str]]


async def replay_dead_letter(
    js: Any, letter_id: int, *, reattest: Reattest | None = None
) -> DeadLetter:
    """Deliver the event again to the handler that gave up on it (only that one), then forget it.

    The event keeps its id, so idempotent handlers can recognise it; the JetStream message id
    is new, or the stream's duplicate window would swallow the replay. ``reattest`` (given by a
    process that can sign identities) re-signs a trusted letter's caller, judged at the time the
    original was stored, so a replay days later still runs as that caller. An untrusted letter
    replays anonymous, or not at all when its handler does not take the subject it claims.
    """
    letter = await get_dead_letter(js, letter_id)
    if letter.trusted:
        headers = dict(letter.headers)
        if reattest is not None:
            headers = reattest(headers, letter.stored_at)
    else:
        if doubt := await _Filters(js).doubt(letter.consumer, letter.subject):
            raise DeadLetterRefused(f"dead letter {letter_id} is not replayed: {doubt}")
        if letter.payload_left_out:
            raise DeadLetterRefused(
                f"dead letter {letter_id} is not replayed: it was stored without its payload, "
                f"and its original is not believed ({letter.doubt})"
            )
        headers = {key: letter.headers[key] for key in _UNTRUSTED_KEEPS if key in letter.headers}
    headers[HEADER_ORIGINAL_SUBJECT] = letter.subject
    headers[HEADER_DLQ_HISTORY] = json.dumps([*letter.history, letter.failure()][-HISTORY_KEPT:])
    headers[HEADER_MSG_ID] = f"replay-{letter_id}-{uuid.uuid4().hex}"
    headers[HEADER_EXPECTED_STREAM] = EVENTS_STREAM
    subject = replay_subject(letter.consumer)
    # An event that filled a message may not fit with the replay's headers: refused (and kept)
    # here, rather than sent for the server to close the connection.
    check_size(js._nc, subject, letter.data, headers)
    await js.publish(subject, letter.data, headers=headers)
    await js.delete_msg(DLQ_STREAM, letter_id)
    return letter
