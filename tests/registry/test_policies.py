"""Call policies resolved from code and manifest; the breaker's state machine on a given clock."""

from __future__ import annotations

import pytest

from kernel import fallback, service
from kernel.errors import ConfigError
from kernel.modules import ServiceOptions
from kernel.registry import BreakerPolicy, CircuitState, declared_service
from kernel.registry._guard import Breaker
from kernel.registry._policy import resolve_policies
from kernel.settings import load_settings


@service("billing", timeout=2.0, concurrency=8, breaker=BreakerPolicy(cooldown=1.0))
class Billing:
    @service(idempotent=True, retries=3)
    async def balance(self, account: str) -> int:
        return 0

    @fallback(0)
    async def charge(self, account: str, cents: int) -> int:
        return cents


def _policies(*tables: ServiceOptions):  # type: ignore[no-untyped-def]
    declaration = declared_service(Billing)
    assert declaration is not None
    return resolve_policies(Billing, ["balance", "charge"], declaration.options, tables)


def test_method_markers_override_the_class_and_the_manifest_overrides_both() -> None:
    service_policy, methods = _policies()
    assert (methods["balance"].timeout, methods["balance"].retries_allowed()) == (2.0, 3)
    assert methods["charge"].retries_allowed() == 0  # not idempotent: never sent twice
    assert methods["charge"].fallback is not None and methods["charge"].fallback("a", 1) == 0
    assert service_policy.concurrency == 8 and service_policy.breaker.cooldown == 1.0

    table = ServiceOptions.model_validate(
        {"timeout": 9, "breaker": {"min_calls": 3}, "methods": {"balance": {"retries": 1}}}
    )
    service_policy, methods = _policies(table)
    assert methods["charge"].timeout == 9 and methods["balance"].retries_allowed() == 1
    assert service_policy.breaker.min_calls == 3 and service_policy.breaker.cooldown == 1.0

    # The caller's WEBOS_SERVICE_POLICIES comes after the manifest and wins over it.
    caller = ServiceOptions.model_validate({"timeout": 0.5, "breaker": {"cooldown": 3}})
    service_policy, methods = _policies(table, caller)
    assert methods["charge"].timeout == 0.5 and methods["balance"].retries_allowed() == 1
    assert service_policy.breaker.min_calls == 3 and service_policy.breaker.cooldown == 3


def test_a_bad_service_policies_variable_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBOS_SERVICE_POLICIES", '{"billing": {"timout": 1}}')
    with pytest.raises(ConfigError, match="WEBOS_SERVICE_POLICIES"):
        load_settings()
    monkeypatch.setenv("WEBOS_SERVICE_POLICIES", '{"billing": {"timeout": 1.5}}')
    assert load_settings().service.policies["billing"].timeout == 1.5


def test_bad_options_are_refused_with_the_option_named() -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        service("x", timeout=0)(type("X", (), {}))
    with pytest.raises(ValueError, match="retries must be an integer from 0 to 10"):

        class Shop:
            @service(retries=-1)
            async def sell(self) -> None: ...

    with pytest.raises(TypeError, match="name and provides belong on the class"):

        class Store:
            @service("store")
            async def sell(self) -> None: ...


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_on_the_failure_ratio_and_closes_after_a_good_trial() -> None:
    changes: list[CircuitState] = []
    clock = Clock()
    breaker = Breaker(
        BreakerPolicy(failure_ratio=0.5, window=4, min_calls=4, cooldown=5.0),
        lambda state, reason: changes.append(state),
        clock,
    )
    for failed in (False, False, True):
        assert breaker.admit()
        breaker.record(failed)
    assert breaker.state is CircuitState.CLOSED  # 1 of 3: below min_calls and the ratio
    breaker.record(True)
    assert breaker.state is CircuitState.OPEN and not breaker.admit()

    clock.now = 5.0
    assert breaker.admit()  # the one trial
    assert not breaker.admit()  # no second call while the trial runs
    breaker.record(True)
    assert breaker.state is CircuitState.OPEN and not breaker.admit()

    clock.now = 10.0
    assert breaker.admit()
    breaker.record(False)
    assert breaker.state is CircuitState.CLOSED and breaker.admit()
    assert changes == [
        CircuitState.OPEN,
        CircuitState.HALF_OPEN,
        CircuitState.OPEN,
        CircuitState.HALF_OPEN,
        CircuitState.CLOSED,
    ]


def test_a_window_of_successes_forgets_old_failures() -> None:
    breaker = Breaker(BreakerPolicy(window=4, min_calls=4), lambda state, reason: None, Clock())
    for failed in (True, False, False, False, False, True):
        breaker.record(failed)
    assert breaker.state is CircuitState.CLOSED  # 1 failure among the last 4
    breaker.record(True)
    assert breaker.state is CircuitState.OPEN  # 2 of the last 4
