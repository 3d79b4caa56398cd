"""``webos`` tables read as tables: every column lines up, whatever its longest value."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from kernel.testing import write_module
from tests.cli.conftest import WEBOS


def test_ps_lines_up_a_scheduler_beside_the_gateway(make_gateway, tmp_path: Path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {})
    gateway = make_gateway(modules)
    gateway.start()
    gateway.wait_ready()
    scheduler = subprocess.Popen(
        [WEBOS, "scheduler"],
        cwd=gateway.workdir,
        env=gateway.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # until its heartbeat is in (a failure bound, not a threshold)
            shown = gateway.command("ps", "--collect", "1")
            if " scheduler " in shown.stdout:
                break
            time.sleep(0.2)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        header = lines[0]
        rows = [line for line in lines[1:3] if line]
        assert {row.split()[1] for row in rows} == {"gateway", "scheduler"}, shown.stdout
        # Each row's PID ends under the header's, its HOST starts where the header's does.
        for row in rows:
            pid = row.split()[2]
            assert row.index(f" {pid} ") + 1 + len(pid) == header.index("PID") + 3, shown.stdout
            assert row.index(row.split()[3], row.index(pid)) == header.index("HOST"), shown.stdout
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(30)
