"""Presigned URLs: real S3 round trips through moto, and the local signed tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from storagetest_helpers import SECRET, MotoS3

from kernel.storage import (
    AFS,
    PRESIGNED_PATH,
    URN,
    AccessDenied,
    LocalBackend,
    StorageError,
    sign_presigned,
    verify_presigned,
    verify_presigned_claims,
)


@pytest.fixture
async def s3_open(moto_s3_open: MotoS3, bucket: str) -> AsyncIterator[AFS]:
    fs = AFS({"s3": moto_s3_open.backend(bucket)})
    async with fs:
        yield fs


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
    with pytest.raises(StorageError, match="secret"):
        await fs.presign("fs://local/a.txt")
