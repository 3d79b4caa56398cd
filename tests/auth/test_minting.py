"""Only the gateway can mint access tokens: no other process holds what signs one."""

from __future__ import annotations

import pytest

from kernel.assembly import module_process
from kernel.auth import SecuritySubsystem
from kernel.errors import ConfigError
from kernel.testing import KernelHarness

STRONG = "8f0c2a61d94be7730b5e12c4a9f6d0837e21c5b94a06f3d8e7b1a29c04d65f3e"


async def test_a_module_process_holds_no_token_key(webos: KernelHarness) -> None:
    kernel, _ = module_process(webos.settings(["greeter"]))
    await kernel.start()
    try:
        signing = kernel.get(SecuritySubsystem).signing
        assert signing.token_config is None
        with pytest.raises(ConfigError, match="only the gateway"):
            signing.tokens()
    finally:
        await kernel.stop()
    # Not even read from the shared data folder, nor generated there.
    assert not (webos.data_dir / "jwt_ed25519.pem").exists()


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"WEBOS_JWT_ALGORITHM": "HS256", "WEBOS_SECRET_KEY": STRONG}, "WEBOS_JWT_ALGORITHM=HS256"),
        ({"WEBOS_SECRET_KEY": STRONG}, "WEBOS_SECRET_KEY is set"),
    ],
)
async def test_a_module_process_given_the_hmac_secret_refuses_to_start(
    webos: KernelHarness, env: dict[str, str], refusal: str
) -> None:
    with pytest.raises(RuntimeError, match=refusal):
        await webos.run_module("greeter", **env)


async def test_a_worker_given_the_hmac_secret_refuses_to_start(webos: KernelHarness) -> None:
    with pytest.raises(RuntimeError, match="WEBOS_JWT_ALGORITHM=HS256"):
        await webos.run_worker("greeter", WEBOS_JWT_ALGORITHM="HS256", WEBOS_SECRET_KEY=STRONG)
