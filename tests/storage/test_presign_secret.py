"""Local presigned URLs are signed with WEBOS_STORAGE_PRESIGN_SECRET, given only where needed."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth._pem import private_pem
from kernel.errors import StartupError
from kernel.testing import KernelHarness

STRONG = "8f0c2a61d94be7730b5e12c4a9f6d0837e21c5b94a06f3d8e7b1a29c04d65f3e"


def prod(**extra: str) -> dict[str, str]:
    """What a production gateway needs besides the presign secret: its two private keys."""
    return {
        "env": "prod",
        "jwt_private_key_file": private_pem(Ed25519PrivateKey.generate()).decode(),
        "identity_private_key_file": private_pem(Ed25519PrivateKey.generate()).decode(),
        **extra,
    }


async def test_prod_refuses_a_guessable_presign_secret(webos: KernelHarness) -> None:
    with pytest.raises(StartupError, match="WEBOS_STORAGE_PRESIGN_SECRET is too easy to guess"):
        await webos.start(["files"], **prod(storage_presign_secret="a" * 32))


async def test_prod_without_one_signs_no_local_urls_and_says_which_variable(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["files"], **prod())
    headers = app.auth_headers(["admin"])
    answer = await app.client.post(
        "/api/files/presign", json={"urn": "fs://local/a.txt"}, headers=headers
    )
    assert answer.status_code == 503
    assert "WEBOS_STORAGE_PRESIGN_SECRET is unset" in answer.json()["detail"]


async def test_prod_with_a_strong_one_serves_presigned_urls(webos: KernelHarness) -> None:
    app = await webos.start(["files"], **prod(storage_presign_secret=STRONG))
    headers = app.auth_headers(["admin"])
    await app.client.put("/api/files/local/a.txt", content=b"hello", headers=headers)
    answer = await app.client.post(
        "/api/files/presign", json={"urn": "fs://local/a.txt"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    async with app.client.__class__() as anonymous:
        assert (await anonymous.get(answer.json()["url"])).content == b"hello"


async def test_dev_shares_a_generated_one_through_the_data_folder(webos: KernelHarness) -> None:
    await webos.start(["files"])
    assert (webos.data_dir / "presign.key").stat().st_mode & 0o777 == 0o600
    assert not (webos.data_dir / "secret.key").exists()  # no HMAC token secret is made
