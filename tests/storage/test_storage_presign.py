"""Presigned URLs: real S3 round trips through moto, and the local signed tokens.

moto never checks a presigned URL's signature, so the S3 tests go through a front that does
(``kernel.testing.presign_checking_front``, botocore's SigV4 signer): a URL signed for another
method, key or expiry is refused as real S3 refuses it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from minio import Minio
from storagetest_helpers import SECRET, MotoS3

from kernel.storage import (
    AFS,
    PRESIGNED_PATH,
    URN,
    AccessDenied,
    LocalBackend,
    PresignUnavailable,
    StorageError,
    sign_presigned,
    verify_presigned,
    verify_presigned_claims,
)


@pytest.fixture
async def s3_open(moto_s3_presign: MotoS3, bucket: str) -> AsyncIterator[AFS]:
    fs = AFS({"s3": moto_s3_presign.backend(bucket)})
    async with fs:
        yield fs


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = "&".join(
        f"{name}={value}" if pair.partition("=")[0] == name else pair
        for pair in parts.query.split("&")
    )
    return parts._replace(query=query).geturl()


async def test_s3_presigned_put_then_get(s3_open: AFS) -> None:
    put_url = await s3_open.presign(
        "fs://s3/up/photo.png", method="PUT", expires=timedelta(minutes=1)
    )
    get_url = await s3_open.presign("fs://s3/up/photo.png", expires=timedelta(minutes=5))
    assert "X-Amz-Signature=" in put_url
    assert "X-Amz-Expires=300" in get_url
    async with httpx.AsyncClient() as client:
        put = await client.put(
            put_url, content=b"\x89PNG data", headers={"Content-Type": "image/png"}
        )
        assert put.status_code == 200, put.text
        got = await client.get(get_url)
    assert got.status_code == 200
    assert got.content == b"\x89PNG data"
    stat = await s3_open.stat("fs://s3/up/photo.png")
    assert (stat.size, stat.content_type) == (9, "image/png")


async def test_s3_presigned_urls_grant_only_what_was_signed(s3_open: AFS) -> None:
    await s3_open.write("fs://s3/doc.txt", b"original", content_type="text/plain")
    await s3_open.write("fs://s3/other.txt", b"someone else's")
    get_url = await s3_open.presign("fs://s3/doc.txt", expires=timedelta(minutes=1))
    put_url = await s3_open.presign("fs://s3/doc.txt", method="PUT", expires=timedelta(minutes=1))
    signature = parse_qs(urlsplit(get_url).query)["X-Amz-Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    text = {"Content-Type": "text/plain"}

    async with httpx.AsyncClient() as anonymous:
        refused = {
            "another key": await anonymous.get(get_url.replace("/doc.txt?", "/other.txt?")),
            "longer expiry": await anonymous.get(_with_query(get_url, "X-Amz-Expires", "604800")),
            "changed signature": await anonymous.get(
                _with_query(get_url, "X-Amz-Signature", flipped)
            ),
            "GET URL used to PUT": await anonymous.put(get_url, content=b"pwned", headers=text),
            "PUT URL used to GET": await anonymous.get(put_url),
            "PUT URL used on another key": await anonymous.put(
                put_url.replace("/doc.txt?", "/other.txt?"), content=b"pwned", headers=text
            ),
        }
        for case, response in refused.items():
            assert response.status_code == 403, (case, response.text)
            assert "<Code>SignatureDoesNotMatch</Code>" in response.text, case
        assert await s3_open.read("fs://s3/doc.txt") == b"original"
        assert await s3_open.read("fs://s3/other.txt") == b"someone else's"

        fetched = await anonymous.get(get_url)
        stored = await anonymous.put(put_url, content=b"replaced", headers=text)
    assert (fetched.status_code, fetched.content) == (200, b"original")
    assert stored.status_code == 200, stored.text
    assert await s3_open.read("fs://s3/doc.txt") == b"replaced"


async def test_s3_expired_or_foreign_presigned_urls_are_refused(
    moto_s3_presign: MotoS3, s3_open: AFS
) -> None:
    """The front's own checks, with URLs the minio SDK signs as a client would."""
    await s3_open.write("fs://s3/doc.txt", b"original")
    bucket = s3_open.mounts["s3"].bucket
    signer = Minio(
        moto_s3_presign.endpoint,
        moto_s3_presign.access_key,
        moto_s3_presign.secret_key,
        secure=False,
        region="us-east-1",
    )
    stranger = Minio(
        moto_s3_presign.endpoint, "someone", "else-entirely", secure=False, region="us-east-1"
    )
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = signer.presigned_get_object(
        bucket, "doc.txt", expires=timedelta(minutes=5), request_date=an_hour_ago
    )
    fresh = signer.presigned_get_object(bucket, "doc.txt", expires=timedelta(minutes=5))
    foreign = stranger.presigned_get_object(bucket, "doc.txt", expires=timedelta(minutes=5))

    async with httpx.AsyncClient() as anonymous:
        late = await anonymous.get(expired)
        unknown = await anonymous.get(foreign)
        good = await anonymous.get(fresh)

    assert late.status_code == 403 and "Request has expired" in late.text
    assert unknown.status_code == 403 and "<Code>InvalidAccessKeyId</Code>" in unknown.text
    assert (good.status_code, good.content) == (200, b"original")


async def test_s3_presign_rejects_long_expiry(s3_open: AFS) -> None:
    with pytest.raises(ValueError, match="7 days"):
        await s3_open.presign("fs://s3/a.txt", expires=timedelta(days=8))


async def test_local_presign_returns_gateway_url_with_verifiable_token(afs: AFS) -> None:
    url = await afs.presign("fs://local/docs/a.pdf", method="PUT", content_type="application/pdf")
    parts = urlsplit(url)
    assert parts.path == PRESIGNED_PATH
    token = parse_qs(parts.query)["token"][0]
    assert verify_presigned(token, SECRET) == (URN("local", "docs/a.pdf"), "PUT")
    assert verify_presigned_claims(token, SECRET)[2] == "application/pdf"


def test_sign_verify_roundtrip() -> None:
    token = sign_presigned("fs://m/x/y.txt", SECRET, expires=timedelta(minutes=1))
    assert verify_presigned(token, SECRET) == (URN("m", "x/y.txt"), "GET")


def test_expired_token_is_refused() -> None:
    issued = time.time() - 120
    token = sign_presigned("fs://m/y.txt", SECRET, expires=timedelta(seconds=60), now=issued)
    with pytest.raises(AccessDenied, match="expired"):
        verify_presigned(token, SECRET)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature bytes
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],  # claims bytes
        lambda t: t.split(".")[0],  # signature dropped
        lambda t: t + "x",
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_tampered_token_is_refused(tamper: object) -> None:
    token = sign_presigned("fs://m/y.txt", SECRET, expires=timedelta(minutes=1))
    with pytest.raises(AccessDenied):
        verify_presigned(tamper(token), SECRET)  # type: ignore[operator]


def test_token_from_another_secret_is_refused() -> None:
    token = sign_presigned("fs://m/y.txt", "another-secret-of-enough-length", expires=timedelta(1))
    with pytest.raises(AccessDenied, match="signature"):
        verify_presigned(token, SECRET)


def test_token_scope_cannot_be_swapped_between_objects() -> None:
    a = sign_presigned("fs://m/a.txt", SECRET, expires=timedelta(minutes=1))
    b = sign_presigned("fs://m/b.txt", SECRET, expires=timedelta(minutes=1), method="PUT")
    forged = a.split(".")[0] + "." + b.split(".")[1]
    with pytest.raises(AccessDenied):
        verify_presigned(forged, SECRET)


def test_presign_validates_inputs() -> None:
    with pytest.raises(ValueError, match="7 days"):
        sign_presigned("fs://m/a", SECRET, expires=timedelta(days=8))
    with pytest.raises(ValueError, match="GET or PUT"):
        sign_presigned("fs://m/a", SECRET, expires=timedelta(1), method="DELETE")  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="at least 16 bytes"):
        sign_presigned("fs://m/a", "short", expires=timedelta(1))


async def test_local_presign_without_secret_explains(tmp_path: object) -> None:
    fs = AFS({"local": LocalBackend(str(tmp_path), mount="local")})
    with pytest.raises(PresignUnavailable, match="WEBOS_STORAGE_PRESIGN_SECRET is unset"):
        await fs.presign("fs://local/a.txt")
