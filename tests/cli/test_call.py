"""``webos call`` and ``webos services`` as a user runs them: real ``webos run`` and
``webos module run`` processes."""

import json
import subprocess
import time

import httpx

from tests.cli.conftest import REPO_MODULES, WEBOS, Gateway

GREET = ("call", "greeter.greet", '{"name": "Ada"}')


def _api_key(gateway: Gateway, permission: str) -> str:
    made = httpx.post(
        f"{gateway.url}/api/auth/api-keys",
        json={"name": permission, "permissions": [permission]},
        headers=gateway.login_headers(),
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()["key"]


def test_call_and_services_against_webos_run(gateway: Gateway) -> None:
    gateway.start()
    gateway.wait_ready()

    called = gateway.command(*GREET)
    bad = gateway.command("call", "greeter.greet", '{"name": 5}')
    listed = gateway.command("services")
    schemas = gateway.command("services", "--json")
    # webos run has audit's @on(">"), which takes these requests: NATS never says no responders.
    nope = gateway.command("call", "greeter.nope", "--timeout", "30")
    nobody = gateway.command("call", "nobody.here", "--timeout", "30")

    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == "Hello, Ada!"
    assert bad.returncode == 1
    assert "greeter.greet raised ValidationError: name: Input should be a valid string" in (
        bad.stderr
    )
    assert "Traceback" not in bad.stderr + bad.stdout
    assert nope.returncode == 1
    assert "service 'greeter' has no method 'nope'. Methods: greet" in nope.stderr
    assert nobody.returncode == 1
    assert "nothing serves nobody.here: no process offers service 'nobody'" in nobody.stderr
    assert listed.returncode == 0, listed.stderr
    assert "greeter.greet(name: string) -> string" in listed.stdout
    greet = next(m for m in json.loads(schemas.stdout) if m["service"] == "greeter")
    assert greet["args_schema"]["properties"]["name"]["type"] == "string"
    assert greet["args_schema"]["required"] == ["name"]


def test_call_as_an_api_key_needs_services_call(gateway: Gateway) -> None:
    gateway.start()
    gateway.wait_ready()
    allowed, lacking = _api_key(gateway, "services.call"), _api_key(gateway, "profile.read")

    called = gateway.command(*GREET, "--as", allowed, "--gateway", gateway.url)
    refused = gateway.command(*GREET, "--as", lacking, "--gateway", gateway.url)
    bad = gateway.command("call", "greeter.greet", "{}", "--as", allowed, "--gateway", gateway.url)

    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == "Hello, Ada!"
    assert refused.returncode == 1
    assert "answered 403: missing permission services.call" in refused.stderr
    assert refused.stdout == ""
    assert bad.returncode == 1
    assert "ValidationError: missing argument 'name'" in bad.stderr


def test_call_against_a_standalone_module(gateway: Gateway) -> None:
    gateway.start("--exclude", "greeter")
    gateway.wait_ready()
    module = subprocess.Popen(
        [WEBOS, "module", "run", "greeter"],
        cwd=gateway.workdir,
        env={**gateway.env, "WEBOS_MODULES_PATH": str(REPO_MODULES)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        listed = gateway.command("services", "--collect", "0.3")
        while "greeter.greet" not in listed.stdout and time.monotonic() < deadline:
            assert module.poll() is None, "webos module run greeter exited"
            listed = gateway.command("services", "--collect", "0.3")
        assert "greeter.greet(name: string) -> string" in listed.stdout

        called = gateway.command(*GREET)
        bad = gateway.command("call", "greeter.greet", '{"name": ["A"]}')
    finally:
        module.terminate()
        module.wait(15)

    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == "Hello, Ada!"
    assert bad.returncode == 1
    assert "name: Input should be a valid string" in bad.stderr
    assert "Traceback" not in bad.stderr
