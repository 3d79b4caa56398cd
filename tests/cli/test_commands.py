"""The other ``webos`` commands: new module, modules, events emit and tail, module commands,
one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from kernel.testing import write_module
from tests.cli.conftest import REPO_MODULES, WEBOS, Gateway


def test_new_module_is_listed_after_restart_and_its_test_passes(
    make_gateway, tmp_path: Path
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    gateway = make_gateway(modules)

    created = gateway.command("new", "module", "shop")
    assert created.returncode == 0, created.stderr
    manifest = (modules / "shop" / "module.toml").read_text()
    for field in ("name", "version", "description", "depends", "emits"):
        assert f"{field} =" in manifest

    gateway.start()
    gateway.wait_ready()
    listed = httpx.get(f"{gateway.url}/api/system/modules", headers=gateway.admin_headers())
    assert [m["name"] for m in listed.json()] == ["shop"]
    assert httpx.get(f"{gateway.url}/api/shop/ping").json()["status"] == "ok"
    gateway.stop()

    generated_test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(modules / "shop")],
        cwd=tmp_path,
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated_test.returncode == 0, generated_test.stdout + generated_test.stderr
    assert "2 passed" in generated_test.stdout


def test_new_module_refuses_bad_names_and_existing_folders(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    write_module(modules, "shop", {})
    gateway = make_gateway(modules)
    assert "already exists" in gateway.command("new", "module", "shop").stderr
    bad = gateway.command("new", "module", "Bad-Name")
    assert bad.returncode != 0
    assert "invalid module name" in bad.stderr


def test_new_module_refuses_what_the_loader_refuses_and_creates_nothing(
    make_gateway, tmp_path: Path
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    gateway = make_gateway(modules)
    for name, shadowed in (("json", "a standard library module"), ("httpx", "the package at")):
        refused = gateway.command("new", "module", name)
        assert refused.returncode == 1, refused.stdout
        assert f"module {name!r}" in refused.stderr and shadowed in refused.stderr
        assert "give the module another name" in refused.stderr
        assert not (modules / name).exists()
    # The loader says the same of such a folder made by hand.
    write_module(modules, "json", {})
    assert "standard library module" in gateway.command("modules").stderr


def test_new_module_inside_the_modules_folder_goes_to_the_project_modules_path(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "modules" / "shop").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "mine"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    for cwd, name in ((project / "modules", "billing"), (project / "modules" / "shop", "stock")):
        made = subprocess.run(
            [WEBOS, "new", "module", name], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert made.returncode == 0, made.stderr
        assert (project / "modules" / name / "module.toml").is_file()
        assert not (cwd / "modules").exists()
        assert "restart 'webos run'" in made.stdout


def test_modules_command_lists_modules_and_problems(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    write_module(modules, "shop", {"router.py": ""}, manifest='name="shop"\nversion="3.1.0"\n')
    write_module(modules, "broken", {}, manifest="name = [")
    result = make_gateway(modules).command("modules")
    assert "shop" in result.stdout and "3.1.0" in result.stdout and "router" in result.stdout
    assert "broken" in result.stderr and "not valid TOML" in result.stderr
    assert result.returncode == 1


def test_events_emit_is_seen_by_tail(gateway: Gateway) -> None:
    gateway.start()
    gateway.wait_ready()
    tail = subprocess.Popen(
        [WEBOS, "events", "tail", "shop.>", "--count", "1"],
        cwd=gateway.workdir,
        env=gateway.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = tail.stdout.readline()
    assert "listening" in line
    emitted = gateway.command("events", "emit", "shop:sold", '{"sku": "lamp"}')
    assert emitted.returncode == 0, emitted.stderr
    event_id = emitted.stdout.strip()
    output, _ = tail.communicate(timeout=20)
    assert "shop.sold" in output
    assert f"webos-event-id={event_id}" in output
    assert '{"sku": "lamp"}' in output
    recorded = httpx.get(
        f"{gateway.url}/api/audit/events",
        params={"subject": "shop.>"},
        headers=gateway.login_headers(),
    ).json()
    assert recorded[0]["payload"] == {"sku": "lamp"}
    assert recorded[0]["source"] == "cli"


def test_events_emit_rejects_bad_json(gateway: Gateway) -> None:
    result = gateway.command("events", "emit", "shop.sold", "{oops")
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr


def _webos(*args: str, modules: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    return subprocess.run(
        [WEBOS, *args],
        env={**clean, "WEBOS_MODULES_PATH": str(modules), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_modules_add_their_commands_to_webos(tmp_path: Path) -> None:
    hooks = (
        "import click\nfrom kernel import hookimpl\n\n"
        "@click.command()\ndef stock() -> None:\n"
        '    """Count the stock."""\n    click.echo("42 lamps")\n\n'
        "@hookimpl\ndef webos_cli_commands() -> list:\n    return [stock]\n"
    )
    modules = tmp_path / "modules"
    write_module(modules, "shop", {"hooks.py": hooks})
    listed = _webos("--help", modules=modules)
    assert listed.returncode == 0
    assert "stock" in listed.stdout and "Count the stock." in listed.stdout
    assert _webos("stock", modules=modules).stdout.strip() == "42 lamps"
    # The repository's auth module brings `webos users`; without it there is no such command.
    assert "users" in _webos("--help", modules=REPO_MODULES).stdout
    assert "users" not in listed.stdout


def test_a_kernel_error_is_one_line_whatever_the_command(tmp_path: Path) -> None:
    for args in (("worker",), ("scheduler",), ("run",), ("ps",), ("events", "tail")):
        result = _webos(*args, modules=tmp_path, WEBOS_TASKS_CONCURRENCY="many")
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("webos: error: invalid settings:"), (args, result.stderr)
        assert "WEBOS_TASKS_CONCURRENCY" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_malformed_nats_url_list_stops_every_command_naming_it(tmp_path: Path) -> None:
    """One line naming WEBOS_NATS_URL and the entry at fault, no traceback, no password."""
    bad = "nats://gateway:s3cret@127.0.0.1:4222,,nats://127.0.0.1:4223"
    commands = (
        ("run",),
        ("module", "run", "shop"),
        ("worker",),
        ("scheduler",),
        ("ps",),
        ("events", "tail"),
        ("events", "emit", "shop.sold", "{}"),
        ("dlq", "list"),
        ("nats-config", "--client"),
    )
    write_module(tmp_path / "modules", "shop", {})
    for args in commands:
        result = _webos(*args, modules=tmp_path / "modules", WEBOS_NATS_URL=bad)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("webos: error: invalid settings:"), (args, result.stderr)
        assert "WEBOS_NATS_URL: " in result.stderr and "entry 2 of 3 is empty" in result.stderr
        assert "Traceback" not in result.stderr and "s3cret" not in result.stderr, args
