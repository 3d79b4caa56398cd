"""No credential leaves the gateway: a forwarded request carries the principal the gateway
authenticated (signed), never the bearer token, API key or session it was authenticated with."""

from pathlib import Path

from kernel.testing import KernelHarness, bearer, login, start_with_auth, write_module

ROUTER = """
from litestar import Request, get
from kernel.auth import CurrentPrincipal, requires

@get("/seen", guards=[requires("desk.read")], sync_to_thread=False)
def seen(request: Request, principal: CurrentPrincipal) -> dict:
    return {"principal": principal.id, "headers": dict(request.headers)}
"""
ROLES = '{"clerk": ["desk.read"]}'
AUTH_MODULE = Path(__file__).resolve().parents[2] / "modules" / "auth"


async def test_credentials_stay_in_the_gateway(webos: KernelHarness, tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "desk", {"router.py": ROUTER})
    (modules / "auth").symlink_to(AUTH_MODULE, target_is_directory=True)
    gateway = await start_with_auth(
        webos,
        ["desk"],
        modules_path=modules,
        exclude=["desk"],
        roles=ROLES,
        credential_headers=["X-Proxy-Auth"],
    )
    await webos.run_module("desk", modules_path=modules, WEBOS_ROLES=ROLES)
    wire = await gateway.subscribe("webos.http.>")  # what anything reading NATS would see
    token = await login(gateway)
    key = (
        await gateway.client.post(
            "/api/auth/api-keys/", json={"permissions": ["desk.read"]}, headers=bearer(token)
        )
    ).json()["key"]

    with_token = await gateway.client.get(
        "/api/desk/seen",
        headers={
            **bearer(token),
            "Cookie": f"webos_session={token}; webos_csrf=abc; theme=dark",
            "X-CSRF-Token": "abc",
            "X-Proxy-Auth": "proxy-secret",
            "X-Request-Id": "r-1",
        },
    )
    with_key = await gateway.client.get("/api/desk/seen", headers={"X-API-Key": key})

    for response in (with_token, with_key):
        assert response.status_code == 200, response.text
        received = response.json()["headers"]
        for name in ("authorization", "x-api-key", "x-csrf-token", "x-proxy-auth"):
            assert name not in received, (name, received)
        assert response.json()["principal"]  # the module still knows who is calling
    assert with_token.json()["headers"]["cookie"] == "theme=dark"  # other cookies pass
    assert with_token.json()["headers"]["x-request-id"] == "r-1"  # and other headers
    forwarded = b"".join(message.data for message in wire.drain())
    assert forwarded.count(b"GET /api/desk/seen") >= 2
    for secret in (token.encode(), key.encode(), b"proxy-secret", b"webos_csrf"):
        assert secret not in forwarded
