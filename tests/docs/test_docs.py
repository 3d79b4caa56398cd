"""Every runnable sample of README.md and docs/*.md runs against a real ``webos run``.

One test per guide. The test builds a project folder as a fresh clone looks (the repository's
example modules, ``pyproject.toml``, ``.env.example``, ``compose*.yaml``, ``deploy/``, and
``.venv`` pointing at this interpreter's environment), writes the guide's ``file`` blocks into it,
starts ``webos run`` there on free loopback ports with a fresh data folder, waits for ``/ready``,
then runs the guide's blocks in order in one bash session (a ``TOKEN=$(...)`` in one block is seen
by the next). Markers (``tests/docs/_blocks.py``) skip a block with its reason, write a file, or
run a block in the background. A failure names the guide and the line of the block.

What the session provides, as a user following the guides would have it:

- ``webos``, ``python3`` and ``pytest`` of this environment first on ``PATH`` (``.venv/bin/...``
  works too); ``curl``; no ``jq`` (a fresh Debian has none);
- ``WEBOS_PORT`` and ``WEBOS_NATS_PORT`` (free ports): ``localhost:8000`` and ``127.0.0.1:8000``
  in a sample are rewritten to the gateway's port;
- ``WEBOS_ADMIN_EMAIL`` and ``WEBOS_ADMIN_PASSWORD``: the first admin, created by the gateway
  on its first start as the guides describe;
- ``curl`` fails on an HTTP error answer (``--fail-with-body``), so a sample answering 401 fails
  the guide instead of printing a problem document nobody reads; a sample that prints the status
  (``-w '%{http_code}'``) must get the one its comment names (``# 304``);
- ``__init__.py`` and a ``module.toml`` naming the folder in a module folder that ``file`` blocks
  create, unless a block writes them (a module is a package with a manifest).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kernel.testing import free_ports
from tests.docs._blocks import Guide, read_guide

REPO = Path(__file__).resolve().parents[2]
GUIDES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNER = Path(__file__).with_name("_run_python.py")
BIN = Path(sys.executable).parent
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "docs test: a long and unguessable passphrase 7f3a"
GUIDE_TIMEOUT = 240  # seconds; a failure bound, never a performance figure
_LOCAL_URL = re.compile(r"\b(?:localhost|127\.0\.0\.1):8000\b")

PRELUDE = r"""
set -Eeo pipefail
__block=start
trap 'echo "docs-test: the block at $__block failed (exit $?) on: $BASH_COMMAND" >&2' ERR
__bg=()
__stop_bg() {
  local pid
  for pid in "${__bg[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || echo "($pid had ended)"; done
  wait
}
trap __stop_bg EXIT
# An HTTP error fails the block, unless the sample prints the status (-w '%{http_code}'): then the
# status must be the one the sample's line names in its comment (`# 304`), when it names one.
curl() {
  if [[ "$*" != *'%{http_code}'* ]]; then
    command curl --fail-with-body --max-time 30 "$@"
    return
  fi
  local out line
  out=$(command curl --max-time 30 "$@")
  printf '%s\n' "$out"
  line=$(sed -n "${BASH_LINENO[0]}p" "$0")
  if [[ $line =~ \#[[:space:]]+([1-5][0-9][0-9])([^0-9]|$) && ${out: -3} != "${BASH_REMATCH[1]}" ]]
  then
    echo "docs-test: HTTP ${out: -3}, the sample says ${BASH_REMATCH[1]}" >&2
    return 1
  fi
}
"""


def _project(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "tests", ".pytest_cache")
    shutil.copytree(REPO / "modules", project / "modules", ignore=ignore)
    shutil.copytree(REPO / "deploy", project / "deploy", ignore=ignore)
    for name in ("pyproject.toml", ".env.example", "compose.yaml", "compose.cluster.yaml"):
        shutil.copy2(REPO / name, project / name)
    (project / ".venv").mkdir()
    (project / ".venv" / "bin").symlink_to(BIN)
    return project


def _environment(port: int, nats_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBOS_", "NATS_"))}
    return {
        **env,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "WEBOS_PORT": str(port),
        "WEBOS_NATS_PORT": str(nats_port),
        "WEBOS_ADMIN_EMAIL": ADMIN_EMAIL,
        "WEBOS_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


def _script(guide: Guide, port: int, samples: Path) -> str:
    parts = [PRELUDE]
    for block in guide.blocks:
        if block.action not in {"shell", "python", "background"}:
            continue
        text = _LOCAL_URL.sub(f"127.0.0.1:{port}", block.text)
        if block.language == "console":  # a transcript: the commands are the `$ ` lines
            text = "".join(f"{line[2:]}\n" for line in text.splitlines() if line.startswith("$ "))
        parts.append(f"__block={shlex.quote(block.where)}")
        sample = samples / f"{block.path.stem}-{block.line}"
        if block.action == "python":
            sample.with_suffix(".py").write_text(text, encoding="utf-8")
            parts.append(f"python3 {RUNNER} {sample.with_suffix('.py')}")
        elif block.action == "background":
            sample.with_suffix(".sh").write_text(text, encoding="utf-8")
            log = sample.with_suffix(".log")
            parts.append(f"setsid bash {sample.with_suffix('.sh')} >{log} 2>&1 & __bg+=($!)")
        else:
            parts.append(text)
    parts.append("__block=end")
    return "\n".join(parts) + "\n"


def _wait_ready(url: str, gateway: subprocess.Popen[bytes], log: Path, written: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            pytest.fail(
                f"webos run exited ({gateway.returncode}) with the files of the guide's blocks "
                f"{written or '(none)'}:\n{log.read_text()[-4000:]}"
            )
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"webos run was not ready within 60 s ({written}):\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_session(
    script: Path, project: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # Its own process group, so that a timeout stops the hanging sample too: bash then runs its
    # EXIT trap, which stops the background samples (each in a session of its own). Killing bash
    # alone, as subprocess.run does on timeout, left those running after the test.
    session = subprocess.Popen(
        ["bash", str(script)],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = session.communicate(timeout=GUIDE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(session.pid, signal.SIGTERM)
        try:
            stdout, stderr = session.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(session.pid, signal.SIGKILL)
            stdout, stderr = session.communicate()
        pytest.fail(
            f"the samples did not end within {GUIDE_TIMEOUT} s\n--- stderr\n{stderr[-4000:]}\n"
            f"--- stdout\n{stdout[-3000:]}"
        )
    return subprocess.CompletedProcess(session.args, session.returncode, stdout, stderr)


#: Guides with at least one sample to run; the others are prose, ``text`` blocks, and samples
#: marked skip with their reason (test_markers_are_understood reads those).
RUNNABLE = [
    path
    for path in GUIDES
    if any(b.action in {"shell", "python", "background", "file"} for b in read_guide(path).blocks)
]


@pytest.mark.parametrize("path", RUNNABLE, ids=[p.name for p in RUNNABLE])
def test_guide_samples_run(path: Path, tmp_path: Path) -> None:
    guide = read_guide(path)
    project = _project(tmp_path)
    for block in guide.blocks:
        if block.action == "file":
            target = project / block.argument
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            if target.parent.parent == project / "modules":  # as `webos new module` would
                (target.parent / "__init__.py").touch()
                manifest = target.parent / "module.toml"
                if not manifest.exists():
                    manifest.write_text(f'name = "{target.parent.name}"\n', encoding="utf-8")
    port, nats_port = free_ports(2)
    env = _environment(port, nats_port)
    samples = tmp_path / "samples"
    samples.mkdir()
    gateway_log = tmp_path / "gateway.log"
    gateway = None
    try:
        if guide.gateway_args is not None:
            with gateway_log.open("wb") as sink:
                gateway = subprocess.Popen(
                    [str(BIN / "webos"), "run", *guide.gateway_args],
                    cwd=project,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            written = ", ".join(
                f"{b.where} ({b.argument})" for b in guide.blocks if b.action == "file"
            )
            _wait_ready(f"http://127.0.0.1:{port}", gateway, gateway_log, written)
        script = samples / "session.sh"
        script.write_text(_script(guide, port, samples), encoding="utf-8")
        done = _run_session(script, project, env)
    finally:
        if gateway is not None:
            _stop(gateway)
    gateway_text = gateway_log.read_text() if gateway_log.exists() else ""
    assert done.returncode == 0, (
        f"a sample of {path.name} failed\n--- stderr\n{done.stderr[-4000:]}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- gateway log (end)\n{gateway_text[-3000:]}"
    )
    # A sample's handler that fails behind a 2xx (an event handler, a task) shows only here.
    assert "Traceback" not in gateway_text, f"the gateway logged an error:\n{gateway_text[-6000:]}"


def test_markers_are_understood() -> None:
    """Every guide parses: fences closed, markers known, every skip gives its reason."""
    skipped = [b for p in GUIDES for b in read_guide(p).blocks if b.action == "skip"]
    assert all(b.argument for b in skipped)


def test_a_skip_without_reason_is_refused(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("<!-- docs-test: skip -->\n```sh\ndocker compose up\n```\n")
    with pytest.raises(ValueError, match=r"guide.md:2: a skip marker needs a reason"):
        read_guide(guide)
