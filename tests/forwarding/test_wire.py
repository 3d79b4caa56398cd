"""The forwarded request and answer formats on their own (kernel/forwarding/_wire.py)."""

import pytest

from kernel.forwarding._wire import (
    DATA,
    HOP_BY_HOP,
    MAX_CHUNK,
    WireError,
    chunk_size,
    decode_answer,
    decode_request,
    encode_answer,
    encode_open,
    encode_request,
)


def test_a_request_round_trips_without_hop_by_hop_headers_and_with_the_senders_trace() -> None:
    headers = [
        (b"host", b"example.org"),
        (b"connection", b"keep-alive"),
        (b"transfer-encoding", b"chunked"),
        (b"traceparent", b"00-caller-caller-01"),
        (b"x-empty", b""),
        (b"cookie", b"a=1; b=2"),
    ]
    payload = encode_request(
        "POST",
        b"/api/x/a%20b?q=1 2",
        headers,
        b"\r\n\r\nbody",
        whole=True,
        context={"traceparent": "00-me"},
        dropped=HOP_BY_HOP | {b"traceparent"},
    )
    request = decode_request(payload)

    assert (request.method, request.target, request.whole) == ("POST", b"/api/x/a%20b?q=1 2", True)
    assert request.headers == [
        (b"host", b"example.org"),
        (b"x-empty", b""),
        (b"cookie", b"a=1; b=2"),
        (b"traceparent", b"00-me"),
    ]
    assert request.body == b"\r\n\r\nbody"


def test_answers_whole_and_open() -> None:
    answer = decode_answer(encode_answer(201, [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]))
    assert (answer.status, answer.body, answer.inbox) == (201, b"", None)
    assert answer.headers == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    assert decode_answer(encode_open("_INBOX.abc")).inbox == "_INBOX.abc"


@pytest.mark.parametrize("payload", [b"", b"GET /x\r\n\r\n", b"GET /x whole\r\nbad\r\n\r\n"])
def test_malformed_requests_are_refused(payload: bytes) -> None:
    with pytest.raises(WireError):
        decode_request(payload)


def test_a_response_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(WireError, match="line break"):
        encode_answer(200, [(b"x-bad", b"a\r\nb")])


@pytest.mark.parametrize("max_payload", [1024 * 1024, 64 * 1024, 20 * 1024, 8 * 1024, 512])
def test_a_body_frame_fits_one_message_whatever_the_servers_limit(max_payload: int) -> None:
    # A frame larger than the server's max_payload would make it close the connection.
    piece = chunk_size(max_payload)
    assert 0 < len(DATA) + piece <= max_payload
    assert piece >= min(MAX_CHUNK, max_payload // 2 - 1)  # and still worth sending
