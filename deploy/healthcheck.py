"""Container health check, with nothing but Python and webos (no curl in the image).

    python /app/healthcheck.py            # HTTP: GET /health of this container's gateway
    python /app/healthcheck.py ready      # HTTP: GET /ready (200 once every module started)
    python /app/healthcheck.py node       # module/worker: this host's node heartbeats on NATS

Exit 0 when healthy, 1 otherwise (Docker HEALTHCHECK, Kubernetes exec probes).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import urllib.request


def http(path: str) -> bool:
    port = os.environ.get("WEBOS_PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as answer:
            return answer.status == 200
    except OSError:
        return False


def node() -> bool:
    from kernel.errors import ConfigError
    from kernel.nodes import snapshot
    from kernel.settings import load_settings

    settings = load_settings()
    try:
        url = settings.nats.client_url(settings.data_dir)
        nodes = asyncio.run(snapshot(url, wait=1.0))
    except (OSError, ConfigError):
        return False
    return any(found.host == socket.gethostname() for found in nodes)


def main(mode: str) -> int:
    checks = {"health": lambda: http("/health"), "ready": lambda: http("/ready"), "node": node}
    if mode not in checks:
        print(f"usage: healthcheck.py [{'|'.join(checks)}]", file=sys.stderr)
        return 2
    return 0 if checks[mode]() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "health"))
