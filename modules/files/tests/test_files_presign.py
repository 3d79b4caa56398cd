"""Presigned URLs: gateway-served tokens for local mounts, the store's own URLs for S3."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from kernel.storage import sign_presigned
from kernel.testing import KernelHarness
from kernel.testing import S3Server as Moto

from .helpers import pattern_bytes, sha256

SECRET = "files-module-test-secret-0123456789"


async def test_local_presigned_put_then_get_through_the_gateway(webos: KernelHarness) -> None:
    app = await webos.start(["files"])
    data = pattern_bytes(300_000, seed=3)

    signed_put = await app.client.post(
        "/api/files/presign",
        json={"urn": "fs://local/shared/up.bin", "method": "PUT", "content_type": "video/mp4"},
    )
    assert signed_put.status_code == 200, signed_put.text
    answer = signed_put.json()
    assert answer["url"].startswith(f"{app.url}/api/files/presigned?token=")
    assert answer["headers"] == {"content-type": "video/mp4"}
    async with httpx.AsyncClient() as anonymous:  # no gateway credentials, just the URL
        stored = await anonymous.put(answer["url"], content=data, headers=answer["headers"])
        assert stored.status_code == 201, stored.text
        assert stored.json()["content_type"] == "video/mp4"

        signed_get = await app.client.post(
            "/api/files/presign", json={"urn": "fs://local/shared/up.bin", "expires_seconds": 60}
        )
        url = signed_get.json()["url"]
        got = await anonymous.get(url)
        part = await anonymous.get(url, headers={"range": "bytes=10-19"})
        headed = await anonymous.head(url)

    assert got.status_code == 200 and sha256(got.content) == sha256(data)
    assert got.headers["content-type"] == "video/mp4"
    assert (part.status_code, part.content) == (206, data[10:20])
    assert headed.status_code == 200 and headed.headers["content-length"] == str(len(data))
    direct = await app.client.get("/api/files/local/shared/up.bin")
    assert sha256(direct.content) == sha256(data)


async def test_bad_tokens_are_403(webos: KernelHarness) -> None:
    app = await webos.start(["files"], storage_presign_secret=SECRET)
    await app.client.put("/api/files/local/t.txt", content=b"guarded")
    get_url = (await app.client.post("/api/files/presign", json={"urn": "fs://local/t.txt"})).json()
    put_url = (
        await app.client.post(
            "/api/files/presign",
            json={"urn": "fs://local/t.txt", "method": "PUT", "content_type": "text/plain"},
        )
    ).json()["url"]
    token = httpx.URL(get_url["url"]).params["token"]
    body, _, mac = token.partition(".")
    expired = sign_presigned(
        "fs://local/t.txt", SECRET, expires=timedelta(seconds=5), now=time.time() - 60
    )
    foreign = sign_presigned(
        "fs://local/t.txt", "another-secret-0123456789abcdef", expires=timedelta(seconds=60)
    )
    path = "/api/files/presigned"

    assert (await app.client.get(get_url["url"])).content == b"guarded"  # the key is right
    answers = {
        "tampered mac": await app.client.get(path, params={"token": f"{body}.{mac[:-2]}AA"}),
        "tampered body": await app.client.get(path, params={"token": f"{body[:-2]}xx.{mac}"}),
        "garbage": await app.client.get(path, params={"token": "not-a-token"}),
        "expired": await app.client.get(path, params={"token": expired}),
        "other secret": await app.client.get(path, params={"token": foreign}),
        "GET token used to PUT": await app.client.put(
            path, params={"token": token}, content=b"overwritten"
        ),
        "PUT token used to GET": await app.client.get(put_url),
        "wrong content type": await app.client.put(
            put_url, content=b"x", headers={"content-type": "text/html"}
        ),
    }

    for case, response in answers.items():
        assert response.status_code == 403, (case, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), case
    assert (await app.client.get("/api/files/local/t.txt")).content == b"guarded"
    missing = await app.client.get(path)
    assert missing.status_code == 400


async def test_presign_request_validation(webos: KernelHarness) -> None:
    app = await webos.start(["files"])

    answers = [
        await app.client.post("/api/files/presign", json={"urn": "fs://local/a", "method": "POST"}),
        await app.client.post(
            "/api/files/presign", json={"urn": "fs://local/a", "expires_seconds": 0}
        ),
        await app.client.post(
            "/api/files/presign", json={"urn": "fs://local/a", "expires_seconds": 8 * 86400}
        ),
        await app.client.post("/api/files/presign", json={"urn": "fs://local/../a"}),
        await app.client.post("/api/files/presign", json={"urn": "fs://nomount/a"}),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 400, 404]


async def test_s3_presigned_put_then_get_straight_against_moto(
    webos: KernelHarness, s3_checked: Moto
) -> None:
    app = await webos.start(["files"])
    data = pattern_bytes(700_000, seed=5)

    put = (
        await app.client.post(
            "/api/files/presign",
            json={"urn": "fs://s3/direct/x.bin", "method": "PUT", "content_type": "image/png"},
        )
    ).json()
    get = (await app.client.post("/api/files/presign", json={"urn": "fs://s3/direct/x.bin"})).json()
    assert put["url"].startswith(f"http://{s3_checked.endpoint}/")
    assert put["headers"] == {"content-type": "image/png"}

    async with httpx.AsyncClient() as anonymous:
        swapped = [
            await anonymous.put(get["url"], content=b"pwned", headers=put["headers"]),
            await anonymous.get(put["url"]),
        ]
        stored = await anonymous.put(put["url"], content=data, headers=put["headers"])
        fetched = await anonymous.get(get["url"])

    assert [answer.status_code for answer in swapped] == [403, 403]  # each URL grants one method
    assert stored.status_code == 200, stored.text
    assert fetched.status_code == 200 and sha256(fetched.content) == sha256(data)
    through_gateway = await app.client.get("/api/files/s3/direct/x.bin")
    assert sha256(through_gateway.content) == sha256(data)
    assert through_gateway.headers["content-type"] == "image/png"
