"""A standalone module's routes judge the caller the gateway authenticated.

The gateway runs the auth module (accounts, API keys, roles read from the store on each request);
the module process does not. What reaches the module's guards must still be that principal:
API keys work, a demotion counts at once, and a client cannot hand in an identity of its own.
"""

from pathlib import Path

import pytest

from kernel.auth import IDENTITY_HEADER, SecuritySubsystem, sign_identity, verify_identity
from kernel.auth._permissions import Principal
from kernel.testing import KernelHarness, add_user, bearer, login, start_with_auth, write_module

ROUTER = """
from litestar import get, post
from litestar.params import JSONBody
from kernel import ThisModule
from kernel.auth import PUBLIC, CurrentPrincipal, requires

@get("/who", opt=PUBLIC, sync_to_thread=False)
def who(principal: CurrentPrincipal) -> dict:
    return {"id": principal.id, "kind": principal.kind}

@get("/me", guards=[requires("desk.read")], sync_to_thread=False)
def me(principal: CurrentPrincipal) -> dict:
    return {"id": principal.id, "kind": principal.kind, "key_id": principal.key_id}

@post("/note", guards=[requires("desk.read")], status_code=201)
async def note(data: JSONBody[dict], module: ThisModule) -> dict:
    await module.emit("desk.noted", data)
    return data
"""
ROLES = '{"clerk": ["desk.read"]}'
AUTH_MODULE = Path(__file__).resolve().parents[2] / "modules" / "auth"


@pytest.fixture(params=["in-process", "standalone"])
async def gateway(request, webos: KernelHarness, tmp_path: Path):
    modules = tmp_path / "mods"
    manifest = 'name = "desk"\nemits = ["desk.noted"]\n'
    write_module(modules, "desk", {"router.py": ROUTER}, manifest=manifest)
    (modules / "auth").symlink_to(AUTH_MODULE, target_is_directory=True)
    if request.param == "in-process":
        return await start_with_auth(webos, ["desk"], modules_path=modules, roles=ROLES)
    app = await start_with_auth(
        webos, ["desk"], modules_path=modules, exclude=["desk"], roles=ROLES
    )
    await webos.run_module("desk", modules_path=modules, WEBOS_ROLES=ROLES)
    return app


async def test_an_api_key_reaches_the_modules_guards(gateway) -> None:
    admin = await login(gateway)
    created = await gateway.client.post(
        "/api/auth/api-keys/",
        json={"name": "ci", "permissions": ["desk.read"]},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]

    response = await gateway.client.get("/api/desk/me", headers={"X-API-Key": key})

    assert response.status_code == 200, response.text
    owner = (await gateway.client.get("/api/auth/me", headers=bearer(admin))).json()["id"]
    # The key acts as its owner, and the module still knows which key it was.
    assert response.json() == {"id": owner, "kind": "api_key", "key_id": created.json()["id"]}


async def test_a_demotion_counts_at_once(gateway) -> None:
    admin = await login(gateway)
    user_id, token = await add_user(gateway, admin, "clerk@example.org", ["clerk"])
    assert (await gateway.client.get("/api/desk/me", headers=bearer(token))).status_code == 200

    demoted = await gateway.client.patch(
        f"/api/auth/users/{user_id}", json={"roles": ["user"]}, headers=bearer(admin)
    )
    assert demoted.status_code == 200, demoted.text

    # The same access token, still valid, still naming the old role: the store says no.
    response = await gateway.client.get("/api/desk/me", headers=bearer(token))
    assert response.status_code == 403, response.text


async def test_an_identity_header_from_a_client_counts_for_nothing(gateway) -> None:
    signing = gateway.kernel.get(SecuritySubsystem).signing
    forged = sign_identity(
        Principal(id="mallory", kind="user", permissions=frozenset({"*"})),
        signing.identity_private_key,  # even a genuine signature, replayed by a client
    )

    response = await gateway.client.get("/api/desk/me", headers={IDENTITY_HEADER: forged})
    assert response.status_code == 401, response.text

    # A public route reaches the module's handler: the caller is still nobody.
    response = await gateway.client.get("/api/desk/who", headers={IDENTITY_HEADER: forged})
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "anonymous"


async def test_events_from_the_route_act_for_the_caller(gateway) -> None:
    admin = await login(gateway)
    user_id, token = await add_user(gateway, admin, "writer@example.org", ["clerk"])
    noted = await gateway.subscribe("desk.noted")

    response = await gateway.client.post("/api/desk/note", json={"n": 1}, headers=bearer(token))

    assert response.status_code == 201, response.text
    event = await noted.next()
    public_key = gateway.kernel.get(SecuritySubsystem).signing.identity_public_key
    assert verify_identity(event.headers[IDENTITY_HEADER], public_key).id == user_id
