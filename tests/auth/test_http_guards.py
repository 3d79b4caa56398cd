"""Deny by default: every route needs a signed-in caller unless marked public; guards say 403."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.routes import HTTPRoute

from kernel.assembly import gateway_kernel
from kernel.auth._pem import private_pem
from kernel.errors import StartupError
from kernel.gateway import create_app
from kernel.testing import KernelHarness
from tests.auth.web import PROBE_ROLES, add_user, bearer, login, start, token_for, write_probe

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _fill(path: str) -> str:
    values = {"int": "1", "path": "x/y", "uuid": "00000000-0000-0000-0000-000000000000"}
    return PARAM.sub(lambda match: values.get(match.group(2) or "str", "x"), path)


async def test_every_route_that_is_not_public_refuses_anonymous_callers(
    webos: KernelHarness,
) -> None:
    # Every module in the repository, as `webos run` would load them.
    app = create_app(gateway_kernel(webos.settings()), manage_kernel=False)
    checks: list[tuple[str, str, bool]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method not in {"OPTIONS", "HEAD"}:
                checks.append((method, _fill(route.path), handler.opt.get("public") is True))
    public = {(method, path) for method, path, is_public in checks if is_public}
    assert {("GET", "/health"), ("GET", "/ready"), ("POST", "/api/auth/login")} <= public
    assert ("GET", "/schema/openapi.json") in public
    assert len(checks) - len(public) > 10

    running = await webos.start()
    for method, path, is_public in checks:
        response = await running.client.request(method, path)
        if is_public:
            assert response.status_code != 401, (method, path)
        else:
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["detail"].startswith("authentication required: send an")


async def test_a_guarded_route_wants_the_permission(webos: KernelHarness, tmp_path: Path) -> None:
    app = await webos.start(["probe"], modules_path=write_probe(tmp_path), roles=PROBE_ROLES)
    admin = token_for(app, "boss", "admin")
    runner_id, runner = "runner", token_for(app, "runner", "runner")
    plain = token_for(app, "plain", "user")

    ok = await app.client.get("/api/probe/guarded", headers=bearer(runner))
    anonymous = await app.client.get("/api/probe/guarded")
    denied = await app.client.get("/api/probe/guarded", headers=bearer(plain))

    assert ok.status_code == 200 and ok.json() == {"id": runner_id, "kind": "user"}
    assert anonymous.status_code == 401
    assert denied.status_code == 403
    assert denied.json()["detail"] == "missing permission probe.run"
    assert denied.headers["content-type"].startswith("application/problem+json")
    checked = await app.client.get("/api/probe/checked", headers=bearer(runner))
    assert checked.status_code == 403
    assert checked.json()["detail"] == "missing permission probe.check"
    assert (await app.client.get("/api/probe/checked", headers=bearer(admin))).status_code == 200


async def test_system_routes_need_system_read(webos: KernelHarness) -> None:
    app = await start(webos, ["greeter"], roles='{"operator": ["system.read"]}')
    admin = await login(app)
    _, plain = await add_user(app, admin, "plain@example.org")
    _, operator = await add_user(app, admin, "ops@example.org", ["operator"])

    for path in ("/api/system/modules", "/api/system/bus", "/api/system/services"):
        assert (await app.client.get(path)).status_code == 401
        assert (await app.client.get(path, headers=bearer(plain))).status_code == 403
        assert (await app.client.get(path, headers=bearer(operator))).status_code == 200
        assert (await app.client.get(path, headers=bearer(admin))).status_code == 200
    assert (await app.client.get("/health")).status_code == 200
    assert (await app.client.get("/ready")).status_code == 200


async def test_prod_refuses_to_start_without_its_keys(webos: KernelHarness) -> None:
    with pytest.raises(StartupError, match="WEBOS_JWT_PRIVATE_KEY_FILE must be set"):
        await webos.start(["greeter"], env="prod")
    jwt_key = private_pem(Ed25519PrivateKey.generate()).decode()
    with pytest.raises(StartupError, match="WEBOS_IDENTITY_PRIVATE_KEY_FILE"):
        await webos.start(["greeter"], env="prod", jwt_private_key_file=jwt_key)


async def test_a_bad_role_map_names_the_variable() -> None:
    from kernel.errors import ConfigError
    from kernel.settings import load_settings

    with pytest.raises(ConfigError, match="WEBOS_ROLES"):
        load_settings(roles='{"editor": "posts.*"}')
