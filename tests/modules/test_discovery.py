"""Discovery reads manifests without importing code; loading imports conventions on request."""

import sys
from pathlib import Path

import pytest

from kernel.assembly import gateway_kernel
from kernel.bus import bus, marked_subscriptions
from kernel.errors import ConfigError, ModuleError
from kernel.modules import ModuleState, discover
from kernel.runtime import Kernel
from kernel.settings import KernelSettings
from kernel.testing import forget_modules, write_module

EVENTS = """
from kernel import on

@on("thing.happened")
async def seen(payload: dict) -> None:
    pass
"""


def _kernel(tmp_path: Path, **overrides) -> Kernel:
    settings = KernelSettings(modules_path=tmp_path, data_dir=tmp_path / ".webos", **overrides)
    return gateway_kernel(settings)


@pytest.fixture(autouse=True)
def _forget(tmp_path: Path):
    yield
    forget_modules(tmp_path)


def test_discovery_reads_manifest_and_lists_convention_files(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "shop",
        {"router.py": "", "events.py": ""},
        manifest='name = "shop"\nversion = "1.2.0"\ndepends = []\nemits = ["shop:sold"]\n',
    )
    found = discover(tmp_path, include_entry_points=False)
    spec = found.modules["shop"]
    assert spec.manifest.version == "1.2.0"
    assert spec.manifest.emits == ("shop.sold",)
    assert spec.files == ("events", "router")
    assert "shop" not in sys.modules, "discovery must not import module code"


def test_bad_manifest_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    write_module(tmp_path, "shop", {}, manifest='name = "shop"\nversoin = "1"\n')
    found = discover(tmp_path, include_entry_points=False)
    assert "shop" not in found.modules
    assert "module.toml" in str(found.problems[0])
    assert "versoin" in str(found.problems[0])


def test_module_named_like_stdlib_is_refused(tmp_path: Path) -> None:
    write_module(tmp_path, "json", {})
    found = discover(tmp_path, include_entry_points=False)
    assert "json" not in found.modules
    assert "standard library" in str(found.problems[0])


def test_module_shadowing_another_package_is_refused_but_a_symlink_to_it_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_module(elsewhere, "shelf", {})
    monkeypatch.syspath_prepend(str(elsewhere))
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "shelf").symlink_to(elsewhere / "shelf")
    found = discover(linked, include_entry_points=False)
    assert "shelf" in found.modules and not found.problems
    copied = tmp_path / "copied"
    write_module(copied, "shelf", {})
    found = discover(copied, include_entry_points=False)
    assert "shelf" not in found.modules
    assert "give the module another name" in str(found.problems[0])


def test_importing_events_file_registers_nothing(tmp_path: Path) -> None:
    write_module(tmp_path, "watcher", {"events.py": EVENTS})
    before = bus.handlers()
    sys.path.insert(0, str(tmp_path))
    try:
        import watcher.events

        assert marked_subscriptions(watcher.events.seen)[0].subject == "thing.happened"
        assert bus.handlers() == before
    finally:
        sys.path.remove(str(tmp_path))


def test_installed_distribution_is_found_by_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    package = site / "webos_billing"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "module.toml").write_text('name = "billing"\nversion = "2.0.0"\n')
    (package / "router.py").write_text("")
    info = site / "webos_billing-2.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: webos-billing\nVersion: 2.0.0\n")
    (info / "entry_points.txt").write_text("[webos.modules]\nbilling = webos_billing\n")
    monkeypatch.syspath_prepend(str(site))
    found = discover(tmp_path / "none")
    spec = found.modules["billing"]
    assert (spec.origin, spec.package, spec.manifest.version) == (
        "entry point",
        "webos_billing",
        "2.0.0",
    )
    assert spec.files == ("router",)


def test_loading_collects_handlers_into_the_kernel_bus(tmp_path: Path) -> None:
    write_module(tmp_path, "watcher", {"events.py": EVENTS})
    kernel = _kernel(tmp_path)
    kernel.load()
    assert [h["subject"] for h in kernel.bus.handlers()] == ["thing.happened"]
    assert kernel.modules["watcher"].state is ModuleState.LOADED


def test_broken_convention_file_names_module_and_file(tmp_path: Path) -> None:
    write_module(tmp_path, "broken", {"router.py": "import does_not_exist_anywhere\n"})
    with pytest.raises(ModuleError, match=r"module 'broken' failed to load router.py"):
        _kernel(tmp_path).load()


def test_only_and_exclude_choose_modules(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_module(tmp_path, name, {})
    kernel = _kernel(tmp_path, exclude=["b"])
    kernel.load()
    assert list(kernel.modules) == ["a", "c"]
    forget_modules(tmp_path)
    kernel = _kernel(tmp_path, only=["c"])
    kernel.load()
    assert list(kernel.modules) == ["c"]


def test_only_naming_an_unknown_module_is_a_config_error(tmp_path: Path) -> None:
    write_module(tmp_path, "a", {})
    with pytest.raises(ConfigError, match=r"'zzz', which is not installed\. Installed: a"):
        _kernel(tmp_path, only=["zzz"]).load()


def test_excluded_dependency_is_waited_for_not_refused(tmp_path: Path) -> None:
    write_module(tmp_path, "billing", {})
    write_module(tmp_path, "shop", {}, manifest='name = "shop"\ndepends = ["billing"]\n')
    kernel = _kernel(tmp_path, exclude=["billing"])
    kernel.load()
    assert list(kernel.modules) == ["shop"]
    assert kernel.loaded.external == {"billing"}
    assert list(kernel.loaded.elsewhere) == ["billing"]


def test_module_settings_use_their_own_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_py = (
        "from kernel import ModuleSettings\n\nclass S(ModuleSettings):\n    size: int = 1\n"
    )
    write_module(tmp_path, "shop", {"settings.py": settings_py})
    monkeypatch.setenv("WEBOS_MOD_SHOP_SIZE", "7")
    kernel = _kernel(tmp_path)
    kernel.load()
    assert kernel.modules["shop"].context.settings.size == 7


def test_bad_module_setting_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_py = (
        "from kernel import ModuleSettings\n\nclass S(ModuleSettings):\n    size: int = 1\n"
    )
    write_module(tmp_path, "shop", {"settings.py": settings_py})
    monkeypatch.setenv("WEBOS_MOD_SHOP_SIZE", "big")
    with pytest.raises(ConfigError, match="WEBOS_MOD_SHOP_SIZE"):
        _kernel(tmp_path).load()


def test_load_is_idempotent(tmp_path: Path) -> None:
    write_module(tmp_path, "watcher", {"events.py": EVENTS})
    kernel = _kernel(tmp_path)
    kernel.load()
    kernel.load()
    assert len(kernel.bus.handlers()) == 1
