import pytest

from kernel.errors import ModuleError
from kernel.modules import start_order


def test_dependencies_start_first() -> None:
    order = start_order({"shop": ["billing", "auth"], "billing": ["auth"], "auth": []})
    assert order == ["auth", "billing", "shop"]


def test_missing_dependency_names_both_modules() -> None:
    with pytest.raises(ModuleError) as caught:
        start_order({"billing": ["payments"], "greeter": []})
    message = str(caught.value)
    assert "'billing' depends on 'payments', which is not installed" in message
    assert "Installed: billing, greeter" in message


def test_cycle_names_every_module_in_it() -> None:
    with pytest.raises(ModuleError, match="cycle") as caught:
        start_order({"a": ["b"], "b": ["c"], "c": ["a"], "d": []})
    assert set(caught.value.modules) == {"a", "b", "c"}


def test_dependency_available_elsewhere_is_not_ordered_here() -> None:
    assert start_order({"shop": ["billing"]}, available_elsewhere={"billing"}) == ["shop"]
