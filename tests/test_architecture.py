"""The kernel's own rules, checked from outside: what an import loads, what each process kind
loads, and one family of errors."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import kernel
from kernel.errors import WebOSError
from kernel.transport import EmbeddedNats

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("litestar", "faststream", "nats", "pymongo", "minio", "jinja2", "mongomock")


def _modules_after(code: str, **env: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WEBOS_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(
        name
        for name in loaded
        if name.split(".")[0] in HEAVY or name.startswith("opentelemetry.sdk")
    )


def test_importing_kernel_errors_loads_no_framework() -> None:
    assert _heavy(_modules_after("import kernel.errors")) == []


def test_public_names_resolve_on_first_use_whatever_was_imported_before() -> None:
    loaded = _modules_after(
        """
        import kernel.bus, kernel.registry  # the subpackages first: the names must not change
        from kernel import Event, ModuleContext, ModuleSettings, ThisModule
        from kernel import afs, bus, hookimpl, on, registry, service
        assert type(bus).__name__ == "Bus", bus
        assert type(registry).__name__ == "Registry", registry
        assert callable(on) and callable(service) and callable(hookimpl)
        assert type(afs).__name__ == "CurrentAFS"
        """
    )
    assert "kernel.modules._context" in loaded


def test_a_module_process_loads_only_what_it_runs(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    """A module process of greeter: no console templates, no OpenTelemetry SDK, no minio, no
    document store, no task broker. The same script as a gateway with contacts (documents),
    tracing, an S3 mount and the task worker does load them: the check can tell."""
    script = """
        import asyncio, os
        import kernel.assembly
        from kernel.gateway import create_app
        from kernel.settings import KernelSettings

        async def main() -> None:
            settings = KernelSettings(
                nats_url=os.environ["NATS"], data_dir=os.environ["DATA"],
                modules_path="modules", only=os.environ["ONLY"].split(","),
                heartbeat_interval=0.5, tasks_worker=bool(os.environ.get("WORKER")),
                tasks_scheduler=False,
            )
            if os.environ["ROLE"] == "module":  # each branch imports only its own preset
                node, _ = kernel.assembly.module_process(settings)
            else:
                node = kernel.assembly.gateway_kernel(settings)
                create_app(node, manage_kernel=False)
            if os.environ.get("S3"):
                from kernel.storage import build_afs, StorageSettings
                build_afs(StorageSettings(s3_endpoint="127.0.0.1:9", s3_access_key="a",
                                          s3_secret_key="b"), secret="x")
            await node.start()
            await node.stop()

        asyncio.run(main())
    """
    common = {"NATS": nats_server.url, "DATA": str(tmp_path / ".webos")}
    module = _modules_after(script, **common, ROLE="module", ONLY="greeter")
    # Nor Beanie or PyMongo (no models.py), taskiq (no tasks.py), aiohttp (no ws:// URL), httpx.
    lean = ("beanie", "pymongo", "taskiq", "aiohttp", "httpx")
    console = ("kernel.console._shell", "jinja2")  # Jinja: at the first page, even in a gateway
    for absent in (*console, "minio", "mongomock", "opentelemetry.sdk", *lean):
        assert not any(name == absent or name.startswith(absent + ".") for name in module), absent

    gateway = _modules_after(
        script, **common, ROLE="gateway", ONLY="contacts", S3="1", WEBOS_TRACING="on", WORKER="1"
    )
    for present in (console[0], "minio", "mongomock", "opentelemetry.sdk", "beanie", "taskiq"):
        assert any(name == present or name.startswith(present + ".") for name in gateway), present


def _kernel_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(kernel.__path__, "kernel."):
        if info.name.startswith("kernel.testing"):
            continue  # test helpers, not kernel errors (and they import pytest)
        names.append(info.name)
    return names


def test_every_kernel_error_is_a_webos_error_with_a_name_of_its_own() -> None:
    errors: dict[str, list[str]] = {}
    for name in _kernel_modules():
        source = importlib.import_module(name)
        for cls_name, value in vars(source).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                errors.setdefault(cls_name, []).append(name)
                assert issubclass(value, WebOSError), f"{name}.{cls_name} is not a WebOSError"
    assert len(errors) > 20  # the walk found the kernel's errors
    shared = {cls_name: where for cls_name, where in errors.items() if len(where) > 1}
    assert shared == {}
