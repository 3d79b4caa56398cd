"""``webos init``: compose in two commands. The .env it writes is accepted by docker-compose as
is, holds every secret generated and the first admin the gateway creates, and is never
overwritten."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kernel.auth import check_password_policy, load_private_key
from kernel.auth._pem import public_pem
from tests.deploy.test_compose import ROOT, _docker_compose

WEBOS = str(Path(sys.executable).parent / "webos")
CLEAN_ENV = {
    k: v for k, v in os.environ.items() if not k.startswith(("WEBOS_", "NATS_", "MONGO_", "MINIO_"))
}


def _project(folder: Path) -> Path:
    """The files compose needs, as a fresh clone has them (no .env)."""
    folder.mkdir()
    for name in ("compose.yaml", "compose.cluster.yaml", ".env.example"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "deploy", folder / "deploy")
    return folder


def _run(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=CLEAN_ENV, input=stdin, capture_output=True, text=True, timeout=60
    )


def _values(env_file: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in env_file.read_text().splitlines())
    return {key: value for key, sep, value in pairs if sep and not key.startswith("#")}


def test_init_then_compose_config_passes_with_no_edits(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")

    made = _run([WEBOS, "init", "--admin-email", "ada@example.org"], project)

    assert made.returncode == 0, made.stderr
    env_file = project / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    compose = _docker_compose()
    assert _run([compose, "config", "-q"], project).returncode == 0
    cluster = [compose, "-f", "compose.yaml", "-f", "compose.cluster.yaml", "config", "-q"]
    checked = _run(cluster, project)
    assert checked.returncode == 0, checked.stderr
    # The gateway gets what creates the first admin, and keys that load and match.
    rendered = _run([compose, "config"], project)
    gateway = yaml.safe_load(rendered.stdout)["services"]["gateway"]["environment"]
    shown = [line for line in made.stdout.splitlines() if "shown once" in line]
    password = shown[0].rsplit(": ", 1)[1].strip()
    assert gateway["WEBOS_ADMIN_EMAIL"] == "ada@example.org"
    assert gateway["WEBOS_ADMIN_PASSWORD"] == password
    check_password_policy(password, email="ada@example.org")
    signing = load_private_key(gateway["WEBOS_JWT_PRIVATE_KEY_FILE"])
    assert public_pem(signing).decode().split() == gateway["WEBOS_JWT_PUBLIC_KEY_FILE"].split()

    before = env_file.read_bytes()
    again = _run([WEBOS, "init", "--admin-email", "bob@example.org"], project)
    assert again.returncode == 1
    assert f"{env_file} exists already" in again.stderr
    assert env_file.read_bytes() == before


def test_each_init_generates_new_secrets_and_asks_for_the_admin(tmp_path: Path) -> None:
    first, second = _project(tmp_path / "one"), _project(tmp_path / "two")
    assert _run([WEBOS, "init", "--admin-email", "ada@example.org"], first).returncode == 0
    # Run from a subfolder, the e-mail typed at the prompt: .env lands beside compose.yaml.
    asked = _run([WEBOS, "init"], second / "deploy", stdin="ada@example.org\n")
    assert asked.returncode == 0, asked.stderr

    one, two = _values(first / ".env"), _values(second / ".env")
    assert two["WEBOS_ADMIN_EMAIL"] == "ada@example.org"
    generated = [key for key, value in _values(ROOT / ".env.example").items() if not value]
    optional = {"WEBOS_TRUSTED_PROXIES", "WEBOS_CORS_ORIGINS", "OTEL_EXPORTER_OTLP_ENDPOINT"}
    for key in set(generated) - optional - {"WEBOS_ADMIN_EMAIL"}:
        assert one[key] and two[key], key
        assert one[key] != two[key], key


def test_init_refuses_a_bad_admin_email_and_writes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    refused = _run([WEBOS, "init", "--admin-email", "not-an-email"], project)
    assert refused.returncode == 2
    assert "'not-an-email' is not a valid e-mail address" in refused.stderr
    assert not (project / ".env").exists()


def test_an_env_file_appearing_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    """The refusal holds even when .env appears between the check and the write (O_EXCL)."""
    from kernel.deploy import write_new_file
    from kernel.errors import ConfigError

    existing = tmp_path / ".env"
    existing.write_text("MINE=1\n")
    with pytest.raises(ConfigError, match="exists already"):
        write_new_file(existing, "THEIRS=1\n")
    assert existing.read_text() == "MINE=1\n"
