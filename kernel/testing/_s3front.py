"""A loopback front for a test S3 server that really checks presigned URLs.

moto does not verify query-string (presigned) SigV4 signatures: without auth it serves any
presigned URL, tampered or not, and with auth it answers 500 to every one (its IAM check reads
only the ``Authorization`` header). So a presigned URL signed for the wrong method or key would
pass every test. This front sits between the client and moto: a request carrying
``X-Amz-Signature`` is checked first, the signature recomputed with botocore's SigV4 query
signer (an implementation independent of the minio SDK that AFS signs with), and refused with a
403 S3 error document on any mismatch, an unknown access key or an expired URL. Everything else
(requests signed in the ``Authorization`` header, as AFS itself sends) is passed through
unchanged; the upstream moto is expected to be an open one.

It runs as threads of the test process (``ThreadingHTTPServer``), on a free loopback port, and
buffers bodies whole: it is for presign tests, not for large transfers.
"""

from __future__ import annotations

import hmac
import http.client
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from kernel.testing._s3 import S3Server

SIGNATURE = "X-Amz-Signature"
REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    SIGNATURE,
)
MAX_EXPIRES = 7 * 24 * 3600  # S3's own limit for SigV4 presigned URLs
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class PresignRefused(Exception):
    """Why a presigned request is refused, as an S3 error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def check_presigned(
    method: str,
    target: str,
    headers: Mapping[str, str],
    secrets: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> None:
    """Raise :class:`PresignRefused` unless ``target`` carries a valid SigV4 query signature.

    ``target`` is the request line's path and query, as sent; ``headers`` the request's headers
    (names in lower case, as SigV4 signs them); ``secrets`` maps access key ids to secret keys.
    """
    # moto's own dependency (the test extra), like boto3 in _s3.py: importing kernel.testing
    # must not need it.
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(target)
    params = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(params)
    missing = [name for name in REQUIRED if not given.get(name)]
    if missing:
        raise PresignRefused("AuthorizationQueryParametersError", f"missing {', '.join(missing)}")
    if given["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise PresignRefused("AuthorizationQueryParametersError", "unsupported algorithm")
    scope = given["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise PresignRefused("AuthorizationQueryParametersError", "malformed X-Amz-Credential")
    access_key, day, region, service, _ = scope
    secret = secrets.get(access_key)
    if secret is None:
        raise PresignRefused("InvalidAccessKeyId", f"unknown access key {access_key!r}")
    stamp = given["X-Amz-Date"]
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(given["X-Amz-Expires"])
    except ValueError:
        raise PresignRefused("AuthorizationQueryParametersError", "bad date or expiry") from None
    if day != stamp[:8] or not 1 <= expires <= MAX_EXPIRES:
        raise PresignRefused("AuthorizationQueryParametersError", "bad date or expiry")
    if (now or datetime.now(UTC)) > signed_at + timedelta(seconds=expires):
        raise PresignRefused("AccessDenied", "Request has expired")

    signed_names = given["X-Amz-SignedHeaders"].split(";")
    signed_headers = {}
    for name in signed_names:
        value = headers.get(name)
        if value is None:
            raise PresignRefused("SignatureDoesNotMatch", f"signed header {name!r} not sent")
        signed_headers[name] = value
    request = AWSRequest(
        method=method,
        url=f"http://{headers.get('host', '')}{parts.path}",
        headers=signed_headers,
        params=[(key, value) for key, value in params if key != SIGNATURE],
    )
    request.context["timestamp"] = stamp
    signer = S3SigV4QueryAuth(Credentials(access_key, secret), service, region, expires=expires)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, given[SIGNATURE]):
        raise PresignRefused(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


class _Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server: _FrontServer

    def log_message(self, format: str, *args: object) -> None:
        return None  # the test output is no place for an access log

    def _handle(self) -> None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self._answer(501, "NotImplemented", "the presign test front needs Content-Length")
            return
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if SIGNATURE in self.path:
            try:
                headers = {key.lower(): value for key, value in self.headers.items()}
                check_presigned(self.command, self.path, headers, self.server.secrets)
            except PresignRefused as refused:
                self._answer(403, refused.code, refused.message)
                return
        self._proxy(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

    def _proxy(self, body: bytes) -> None:
        host, port = self.server.upstream.endpoint.rsplit(":", 1)
        upstream = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _HOP_BY_HOP and name.lower() != "host"
            }
            headers["Host"] = self.server.upstream.endpoint
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            length = answer.getheader("content-length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            upstream.close()

    def _answer(self, status: int, code: str, message: str) -> None:
        document = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(document)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(document)


class _FrontServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: S3Server) -> None:
        super().__init__(("127.0.0.1", 0), _Front)
        self.upstream = upstream
        self.secrets = {upstream.access_key: upstream.secret_key}


@contextmanager
def presign_checking_front(upstream: S3Server) -> Iterator[S3Server]:
    """Serve a front for ``upstream`` (an open moto) until the block ends.

    The yielded server has the front's endpoint and the upstream's credentials, which are the
    only ones the front accepts in presigned URLs.
    """
    server = _FrontServer(upstream)
    thread = threading.Thread(target=server.serve_forever, name="s3-presign-front", daemon=True)
    thread.start()
    try:
        host, port = str(server.server_address[0]), int(server.server_address[1])
        yield S3Server(f"{host}:{port}", upstream.access_key, upstream.secret_key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
