"""``webos contracts export`` and ``webos contracts check``, run as the real command, offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from kernel.testing import write_module
from tests.cli.conftest import WEBOS

GREETER = """
from pydantic import BaseModel

from kernel.bus import event


class Greeted(BaseModel):
{fields}


Greeted_ = event("greeter.greeted", Greeted, description="someone was greeted")
"""

AUDIT = """
from pydantic import BaseModel

from kernel import on


class Greeted(BaseModel):
    name: str


@on("greeter.greeted")
async def remember(payload: Greeted) -> None:
    pass
"""


def _project(root: Path, greeter_fields: str) -> Path:
    modules = root / "modules"
    write_module(modules, "greeter", {"events.py": GREETER.format(fields=greeter_fields)})
    write_module(modules, "audit", {"events.py": AUDIT})
    return modules


def _webos(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    env["WEBOS_MODULES_PATH"] = str(root / "modules")
    return subprocess.run(
        [WEBOS, "contracts", *args], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )


def test_dropping_a_field_a_consumer_requires_fails_the_check_naming_it(tmp_path: Path) -> None:
    _project(tmp_path, "    name: str\n    greeting: str")
    exported = _webos(tmp_path, "export", "--out", "contracts.json")
    assert exported.returncode == 0, exported.stderr
    saved = json.loads((tmp_path / "contracts.json").read_text())
    assert "greeter.greeted" in json.dumps(saved["channels"])

    _project(tmp_path, "    greeting: str")  # greeter no longer sends the name audit requires
    checked = _webos(tmp_path, "check", "contracts.json")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    breaking = [line for line in checked.stdout.splitlines() if line.startswith("breaking:")]
    assert "breaking: greeter.greeted: removed required field 'name' [greeter, audit]" in breaking
    assert any(
        "audit's handler" in line and "what greeter declares: field 'name' is required" in line
        for line in breaking
    )


def test_safe_changes_are_listed_and_pass(tmp_path: Path) -> None:
    _project(tmp_path, "    name: str\n    greeting: str")
    assert _webos(tmp_path, "export", "--out", "contracts.json").returncode == 0
    unchanged = _webos(tmp_path, "check", "contracts.json")
    assert (unchanged.returncode, unchanged.stdout) == (0, "")

    _project(tmp_path, "    name: str\n    greeting: str\n    lang: str = 'en'")
    checked = _webos(tmp_path, "check", "contracts.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "safe: greeter.greeted: new optional field 'lang' [greeter, audit]\n"


def test_export_prints_the_document_without_out(tmp_path: Path) -> None:
    _project(tmp_path, "    name: str")
    printed = _webos(tmp_path, "export")
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert document["asyncapi"] == "3.0.0"
    assert set(document["info"]["x-webos-modules"]) == {"greeter", "audit"}


def test_a_missing_or_foreign_saved_catalog_is_a_one_line_usage_error(tmp_path: Path) -> None:
    _project(tmp_path, "    name: str")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "other.json").write_text('{"openapi": "3.1.0"}')
    for name, says in [
        ("missing.json", "cannot read missing.json"),
        ("broken.json", "broken.json is not JSON"),
        ("other.json", "other.json is not an AsyncAPI document"),
    ]:
        checked = _webos(tmp_path, "check", name)
        assert checked.returncode == 2
        assert checked.stdout == ""
        assert checked.stderr.count("\n") == 1 and says in checked.stderr, checked.stderr
