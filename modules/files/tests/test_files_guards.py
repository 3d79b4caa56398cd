"""files.read / files.write guard every route except the presigned ones."""

from kernel.testing import KernelHarness


async def test_anonymous_callers_get_401_and_readers_cannot_write(webos: KernelHarness) -> None:
    webos.sign_in_as()  # no roles: a signed-in user without permissions
    app = await webos.start(["files"], roles='{"reader": ["files.read"]}')
    admin = app.auth_headers(["admin"])
    reader = app.auth_headers(["reader"])
    await app.client.put("/api/files/local/a.txt", content=b"hi", headers=admin)
    app.client.headers.pop("Authorization", None)

    anonymous = await app.client.get("/api/files/local/a.txt")
    read = await app.client.get("/api/files/local/a.txt", headers=reader)
    write = await app.client.put("/api/files/local/b.txt", content=b"x", headers=reader)
    presign_put = await app.client.post(
        "/api/files/presign", json={"urn": "fs://local/b.txt", "method": "PUT"}, headers=reader
    )

    assert anonymous.status_code == 401
    assert read.status_code == 200
    assert read.content == b"hi"
    assert write.status_code == 403
    assert presign_put.status_code == 403
    listing = await app.client.get("/api/files/local/", headers=admin)
    assert [entry["urn"] for entry in listing.json()] == ["fs://local/a.txt"]
