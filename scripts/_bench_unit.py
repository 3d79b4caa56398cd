"""``bench.py startup``: how long the test ``webos new module`` writes takes to run.

The generated test (``kernel/cli/_scaffold.py`` ``TEST``: the ``webos_unit`` fixture, an
in-memory bus, HTTP in-process) against the same test on the real-server fixture
(``INTEGRATION_TEST``: the ``webos`` fixture, a nats-server started for the session, HTTP over
loopback). Each is a whole ``pytest modules/shop`` run in a fresh project, timed from launching
the process to its exit: what a module author waits for in the inner loop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kernel.cli._scaffold import INTEGRATION_TEST, scaffold_module


def module_test_seconds(work: Path, index: int, *, real_server: bool) -> float:
    """Seconds ``pytest modules/shop`` takes on a freshly scaffolded module."""
    project = work / f"{'real' if real_server else 'unit'}-{index}"
    modules = project / "modules"
    modules.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "bench"\n')
    scaffold_module(modules, "shop")
    if real_server:
        (modules / "shop" / "tests" / "test_shop.py").write_text(
            INTEGRATION_TEST.format(name="shop")
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "modules/shop"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "2 passed" not in done.stdout:
        raise RuntimeError(
            f"the generated test failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return seconds
