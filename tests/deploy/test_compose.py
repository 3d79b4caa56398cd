"""compose.yaml: valid for docker-compose, no default secrets, and it runs (as local processes)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import load_private_key
from kernel.auth._pem import private_pem, public_pem

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CLUSTER = ROOT / "compose.cluster.yaml"
WEBOS_SERVICES = ("gateway", "audit", "worker", "scheduler")


def _docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose not installed (apt-get install docker-compose)")
    return found


def _env_file(folder: Path, *, fill: bool) -> Path:
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not value and fill and not line.startswith("#"):
            value = "admin@example.org" if key == "WEBOS_ADMIN_EMAIL" else f"dummy{key.lower()}"
            optional = (
                "WEBOS_CORS_ORIGINS",
                "WEBOS_TRUSTED_PROXIES",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            )
            value = "" if key in optional else value
        lines.append(f"{key}{sep}{value}" if sep else line)
    path = folder / "test.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def _compose(
    folder: Path, env_file: Path, *args: str, files: tuple[Path, ...] = (COMPOSE,)
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBOS_", "NATS_", "MONGO_"))}
    chosen = [option for path in files for option in ("-f", str(path))]
    return subprocess.run(
        [_docker_compose(), "--env-file", str(env_file), *chosen, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=60,
        check=False,
    )


def test_compose_config_is_valid(tmp_path: Path) -> None:
    result = _compose(tmp_path, _env_file(tmp_path, fill=True), "config", "-q")
    assert result.returncode == 0, result.stderr
    profiles = _compose(
        tmp_path,
        _env_file(tmp_path, fill=True),
        "--profile",
        "observability",
        "config",
        "--services",
    )
    assert profiles.returncode == 0, profiles.stderr
    assert {"otel-collector", "jaeger", "nats-box", *WEBOS_SERVICES} <= set(profiles.stdout.split())


def test_compose_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    result = _compose(tmp_path, _env_file(tmp_path, fill=False), "config", "-q")
    assert result.returncode != 0
    assert "must be set" in result.stderr or "set " in result.stderr


def test_no_default_secrets() -> None:
    text = COMPOSE.read_text() + CLUSTER.read_text()
    for name in re.findall(r"\$\{([A-Z0-9_]+)(?::?-)", text):
        assert not re.search(r"PASSWORD|SECRET|_USER$|_KEY_FILE$", name), f"{name} has a default"
    example = (ROOT / ".env.example").read_text()
    for line in example.splitlines():
        key, sep, value = line.partition("=")
        if (
            sep
            and re.search(r"PASSWORD|SECRET|_USER$|_KEY_FILE$", key)
            and not line.startswith("#")
        ):
            assert value == "", f".env.example ships a value for {key}"


def _one_line(pem: bytes) -> str:
    return " ".join(pem.decode().strip().splitlines())


def test_each_process_gets_only_the_secrets_it_uses(tmp_path: Path) -> None:
    """Module processes and workers get no key that signs: they cannot mint access tokens."""
    jwt, identity = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = {
        "WEBOS_JWT_PRIVATE_KEY_FILE": _one_line(private_pem(jwt)),
        "WEBOS_JWT_PUBLIC_KEY_FILE": _one_line(public_pem(jwt)),
        "WEBOS_IDENTITY_PRIVATE_KEY_FILE": _one_line(private_pem(identity)),
        "WEBOS_IDENTITY_PUBLIC_KEY_FILE": _one_line(public_pem(identity)),
    }
    env_file = _env_file(tmp_path, fill=True)
    lines = [
        f"{key}={keys[key]}" if key in keys else line
        for line in env_file.read_text().splitlines()
        for key in [line.partition("=")[0]]
    ]
    env_file.write_text("\n".join(lines) + "\n")
    rendered = _compose(tmp_path, env_file, "config")
    assert rendered.returncode == 0, rendered.stderr
    services = yaml.safe_load(rendered.stdout)["services"]
    holders: dict[str, set[str]] = {}
    for name in WEBOS_SERVICES:
        for variable in services[name]["environment"]:
            holders.setdefault(variable, set()).add(name)
    assert "WEBOS_SECRET_KEY" not in holders
    assert holders["WEBOS_JWT_PRIVATE_KEY_FILE"] == {"gateway"}
    assert holders["WEBOS_STORAGE_PRESIGN_SECRET"] == {"gateway"}
    assert holders["WEBOS_IDENTITY_PRIVATE_KEY_FILE"] == {"gateway", "scheduler"}
    assert holders["WEBOS_IDENTITY_PUBLIC_KEY_FILE"] == set(WEBOS_SERVICES)
    # A key on one .env line reaches the process whole, and loads.
    gateway = services["gateway"]["environment"]
    loaded = load_private_key(gateway["WEBOS_JWT_PRIVATE_KEY_FILE"])
    assert public_pem(loaded) == public_pem(jwt)


def test_audit_can_be_scaled() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    audit = services["audit"]
    assert audit["command"] == ["webos", "module", "run", "audit"]
    assert "container_name" not in audit and "ports" not in audit
    assert services["gateway"]["command"] == ["webos", "run", "--exclude", "audit"]
    for name in WEBOS_SERVICES:
        assert "WEBOS_NATS_URL" in services[name]["environment"], name
        assert services[name]["depends_on"]["nats"]["condition"] == "service_healthy"


def test_smoke_script_runs_every_service_locally() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/compose_smoke.py"), "--replicas", "2"],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "UNPROVEN" in result.stdout  # it says what a run without Docker cannot show


def test_the_cluster_profile_runs_three_nodes_and_keeps_three_copies(tmp_path: Path) -> None:
    """compose.yaml + compose.cluster.yaml: three routed NATS nodes (routes authenticated),
    every WebOS process on all three as its own user, with WEBOS_JETSTREAM_REPLICAS=3."""
    from kernel.transport import nats_servers

    env_file = _env_file(tmp_path, fill=True)
    rendered = _compose(tmp_path, env_file, "config", files=(COMPOSE, CLUSTER))
    assert rendered.returncode == 0, rendered.stderr
    services = yaml.safe_load(rendered.stdout)["services"]
    nodes = ("nats", "nats-2", "nats-3")
    route_password = "dummynats_route_password"
    for number, node in enumerate(nodes, start=1):
        command = services[node]["command"]
        assert command[command.index("--server_name") + 1] == f"nats-{number}"
        routes = command[command.index("--routes") + 1].split(",")
        assert routes == [f"nats://route:{route_password}@{name}:6222" for name in nodes]
        assert "/etc/nats/cluster.conf" in command
    for name in WEBOS_SERVICES:
        environment = services[name]["environment"]
        assert environment["WEBOS_JETSTREAM_REPLICAS"] == "3", name
        servers = nats_servers(environment["WEBOS_NATS_URL"])
        assert servers.urls == tuple(f"nats://{node}:4222" for node in nodes), name
        assert servers.user == ("module-audit" if name == "audit" else name)
        assert set(services[name]["depends_on"]) >= set(nodes), name
    # One server by default: its streams keep one copy.
    single = yaml.safe_load(_compose(tmp_path, env_file, "config").stdout)["services"]
    assert "nats-2" not in single
    assert all("WEBOS_JETSTREAM_REPLICAS" not in single[n]["environment"] for n in WEBOS_SERVICES)


def test_the_cluster_profile_refuses_to_start_without_the_route_password(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, fill=True)
    lines = env_file.read_text().splitlines()
    kept = [line for line in lines if not line.startswith("NATS_ROUTE_PASSWORD=")]
    env_file.write_text("\n".join(kept) + "\n")
    result = _compose(tmp_path, env_file, "config", "-q", files=(COMPOSE, CLUSTER))
    assert result.returncode != 0
    assert "NATS_ROUTE_PASSWORD" in result.stderr
