"""The Moleculer 0.14 baseline of ``bench.py rpc``: the peer users compare WebOS services with.

When ``node`` and ``npm`` are on PATH, ``moleculer@0.14`` and ``nats@2`` are installed once into
``~/.cache/webos-bench/moleculer`` (reused by later runs), and two Node processes run
``scripts/_bench_moleculer.js``: a broker serving ``bench_echo.echo`` (it returns its payload)
and a caller broker, both with the NATS transporter on the nats-server the other baselines use.
The caller speaks the :class:`_bench_common.Worker` protocol, so ``_bench_rpc.py`` drives it like
its own callers. Without node, or when npm fails, :func:`prepare` says why and the Moleculer
figures are skipped (only those).

What passing Moleculer would take (measured 2026-12-07 on a busy 2-core machine, CPU per call with
16 in flight, caller/server): Moleculer 22-39/20-31 us; raw nats-py 75-112/43-65 us; WebOS
104-163/66-100 us. nats-py alone (a Python protocol parser, an asyncio future and a flusher
wake-up per request) costs two to three times Moleculer's whole stack, so no change in the
kernel's own layer gets WebOS to Moleculer's rate; it would need uvloop in every process, the
callers included (the module process has it already), a cheaper codec on the wire than JSON
through pydantic, and batching several calls per NATS message and per socket write.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from _bench_common import ROOT, Worker, make_payload

CACHE = Path.home() / ".cache" / "webos-bench" / "moleculer"
PACKAGES = ("moleculer@0.14", "nats@2")
SCRIPT = str(Path(__file__).resolve().parent / "_bench_moleculer.js")
NPM_TIMEOUT_S = 300


def _installed_version(package: str) -> str | None:
    manifest = CACHE / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def prepare() -> tuple[str | None, str]:
    """``(NODE_PATH, "")`` when the baseline can run, else ``(None, why not)``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, "node/npm not on PATH"
    moleculer, nats = _installed_version("moleculer"), _installed_version("nats")
    if not (moleculer or "").startswith("0.14.") or not (nats or "").startswith("2."):
        CACHE.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), *PACKAGES],
                check=True,
                capture_output=True,
                timeout=NPM_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError) as error:
            output = getattr(error, "stderr", b"") or b""
            return (
                None,
                f"npm install {' '.join(PACKAGES)} failed: {error} {output.decode()[-500:]}",
            )
    return str(CACHE / "node_modules"), ""


class NodeWorker(Worker):
    """A :class:`Worker` run by ``node`` instead of this interpreter."""

    def __init__(self, label: str, argv: list[str], node_path: str) -> None:
        super().__init__(label, argv)
        self.node_path = node_path

    async def start(self, ready_timeout: float = 60.0) -> dict[str, Any]:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH")
        self._process = await asyncio.create_subprocess_exec(
            node,
            *self.argv,
            cwd=ROOT,
            env={**os.environ, "NODE_PATH": self.node_path},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        return await self._read(ready_timeout)


def workers(nats_url: str, node_path: str) -> tuple[NodeWorker, NodeWorker]:
    """The Moleculer service broker and caller broker (not started)."""
    return (
        NodeWorker("moleculer server", [SCRIPT, "server", nats_url], node_path),
        NodeWorker(
            "moleculer caller",
            [SCRIPT, "caller", nats_url, json.dumps(make_payload(0))],
            node_path,
        ),
    )
