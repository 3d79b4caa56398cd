"""What `webos run` prints when start-up fails: the module author's own lines, or one line naming
the cause; the traceback only at DEBUG."""

import socket
import time
from pathlib import Path

import httpx

from kernel.testing import write_module
from tests.cli.conftest import REPO_MODULES, processes_mentioning

ROUTER = (
    "from litestar import get\n"
    "from .helpers import total\n"
    "\n"
    "x = total([1, 2])\n"
    "\n"
    "@get('/ping')\n"
    "async def ping() -> dict:\n"
    "    return {'ok': True}\n"
)
HELPERS = "def total(values):\n    return sum(values) / 0\n"


def _error_lines(stderr: str) -> list[str]:
    """The lines from the command's one error on (its summary and the module's frames)."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("webos: error: "))
    return lines[start:]


def test_a_module_whose_router_raises_shows_its_file_and_line(make_gateway, tmp_path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {"router.py": ROUTER, "helpers.py": HELPERS})
    gateway = make_gateway(modules)

    result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    assert _error_lines(result.stderr) == [
        "webos: error: module 'shop' failed to load router.py: ZeroDivisionError: division by zero",
        f"  {Path('mods/shop/router.py')}:4 in <module>: x = total([1, 2])",
        f"  {Path('mods/shop/helpers.py')}:2 in total: return sum(values) / 0",
    ], result.stderr
    assert "Traceback" not in result.stderr
    assert processes_mentioning(str(gateway.data_dir)) == []


def test_a_syntax_error_names_the_file_and_line(make_gateway, tmp_path) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {"events.py": "import json\n\ndef broken(:\n    pass\n"})
    gateway = make_gateway(modules)
    verbose = make_gateway(modules, WEBOS_LOG_LEVEL="DEBUG")

    result = gateway.command("run", timeout=30)
    debugged = verbose.command("run", timeout=30)

    assert result.returncode != 0
    summary, *frames = _error_lines(result.stderr)
    assert summary.startswith("webos: error: module 'shop' failed to load events.py: SyntaxError")
    assert frames == [f"  {Path('mods/shop/events.py')}:3: def broken(:"], result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" in debugged.stderr and "SyntaxError" in debugged.stderr


HOOKS = (
    "from kernel import hookimpl\n"
    "\n"
    "@hookimpl\n"
    "async def webos_startup():\n"
    "    raise RuntimeError('no disk')\n"
)


def test_a_failing_startup_hook_ends_in_one_line_and_its_traceback_is_for_debug(
    make_gateway, tmp_path
) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "fragile", {"hooks.py": HOOKS})
    quiet = make_gateway(modules)
    verbose = make_gateway(modules, WEBOS_LOG_LEVEL="DEBUG")

    result = quiet.command("run", timeout=30)
    debugged = verbose.command("run", timeout=30)

    assert result.returncode != 0 and debugged.returncode != 0
    assert _error_lines(result.stderr) == [
        "webos: error: module 'fragile' failed to start: RuntimeError: no disk",
        f"  {Path('mods/fragile/hooks.py')}:5 in webos_startup: raise RuntimeError('no disk')",
    ], result.stderr
    for noise in ("Traceback", "Application startup failed", "ERROR"):
        assert noise not in result.stderr, result.stderr
    assert "Traceback" in debugged.stderr and "no disk" in debugged.stderr
    assert processes_mentioning(str(quiet.data_dir)) == []


def test_a_failing_configure_app_hook_shows_its_line(make_gateway, tmp_path) -> None:
    hooks = (
        "from kernel import hookimpl\n"
        "\n"
        "@hookimpl\n"
        "def webos_configure_app(app_config):\n"
        "    app_config.middleware.append(undefined_middleware)\n"
        "    return app_config\n"
    )
    write_module(tmp_path / "mods", "shop", {"hooks.py": hooks})
    gateway = make_gateway(tmp_path / "mods")

    result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    assert _error_lines(result.stderr) == [
        "webos: error: module 'shop': webos_configure_app failed: "
        "NameError: name 'undefined_middleware' is not defined",
        f"  {Path('mods/shop/hooks.py')}:5 in webos_configure_app: "
        "app_config.middleware.append(undefined_middleware)",
    ], result.stderr
    assert "Traceback" not in result.stderr


def test_a_weak_admin_password_is_one_line_naming_the_variable(make_gateway) -> None:
    gateway = make_gateway(
        REPO_MODULES, WEBOS_ADMIN_EMAIL="ada@example.org", WEBOS_ADMIN_PASSWORD="password"
    )

    result = gateway.command("run", timeout=60)

    assert result.returncode != 0
    (line,) = _error_lines(result.stderr)
    assert "WEBOS_ADMIN_PASSWORD" in line, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_storage_endpoint_is_one_line_naming_it(make_gateway, tmp_path) -> None:
    with socket.socket() as closed:  # a port nobody listens on: connections are refused
        closed.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{closed.getsockname()[1]}"
    gateway = make_gateway(
        tmp_path / "mods",
        WEBOS_STORAGE_S3_ENDPOINT=endpoint,
        WEBOS_STORAGE_S3_ACCESS_KEY="key",
        WEBOS_STORAGE_S3_SECRET_KEY="secret-secret",
    )

    result = gateway.command("run", timeout=60)

    assert result.returncode != 0
    (line,) = _error_lines(result.stderr)
    assert endpoint in line, result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line_naming_the_setting(make_gateway, tmp_path) -> None:
    gateway = make_gateway(tmp_path / "mods")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", gateway.port))
        blocker.listen()
        result = gateway.command("run", timeout=30)

    assert result.returncode != 0
    (line,) = _error_lines(result.stderr)
    assert f"127.0.0.1:{gateway.port}: the port is in use" in line
    assert "WEBOS_PORT" in line
    assert "Traceback" not in result.stderr


def _answer_once(url: str, status: int) -> httpx.Response:
    """The first answer with ``status`` (the reloader needs a moment to see a change)."""
    deadline = time.monotonic() + 60  # a failure bound, not a threshold
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = response = httpx.get(url, timeout=2)
            if response.status_code == status:
                return response
        except httpx.HTTPError as error:  # the worker is being replaced
            last = error
        time.sleep(0.2)
    raise AssertionError(f"no {status} from {url} within the bound; last: {last}")


def test_reload_answers_503_naming_the_broken_line_until_it_is_fixed(
    make_gateway, tmp_path
) -> None:
    modules = tmp_path / "mods"
    good = (
        "from litestar import get\n"
        "from kernel.auth import PUBLIC\n"
        "\n"
        "@get('/ping', opt=PUBLIC)\n"
        "async def ping() -> dict:\n"
        "    return {}\n"
    )
    folder = write_module(modules, "shop", {"router.py": good})
    gateway = make_gateway(modules)
    gateway.start("--reload")
    try:
        gateway.wait_ready()
        ping = f"{gateway.url}/api/shop/ping"

        (folder / "router.py").write_text(good.replace("async def ping()", "async def ping(:"))
        broken = _answer_once(ping, 503)

        assert broken.headers["content-type"] == "application/problem+json"
        detail = broken.json()["detail"]
        assert "module 'shop' failed to load router.py: SyntaxError" in detail
        assert f"{Path('mods/shop/router.py')}:5: async def ping(:" in detail
        assert _answer_once(f"{gateway.url}/health", 503).json()["detail"] == detail

        (folder / "router.py").write_text(good)
        assert _answer_once(ping, 200).json() == {}

        (folder / "hooks.py").write_text(HOOKS)  # now the module loads, but fails to start
        failing = _answer_once(ping, 503).json()["detail"]
        assert "module 'shop' failed to start: RuntimeError: no disk" in failing
        assert f"{Path('mods/shop/hooks.py')}:5 in webos_startup:" in failing

        (folder / "hooks.py").write_text("")
        assert _answer_once(ping, 200).json() == {}
        assert gateway.stop() == 0
    finally:
        # SIGTERM, not the fixture's SIGKILL: the reloader stops its worker, which a
        # SIGKILLed reloader would leave running.
        if gateway.process.poll() is None:
            gateway.stop()
