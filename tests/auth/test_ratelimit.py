"""Login throttling: refuse per (account, address) and per address, slow down per account."""

import pytest

from kernel.auth import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_pair_limit_with_retry_after(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_pair=5, window=900, clock=clock)
    for _ in range(5):
        assert limiter.check("ada@example.com", "10.0.0.1") is None
        limiter.record_failure("ada@example.com", "10.0.0.1")
        clock.now += 10
    # Five failures at t=1000..1040; the oldest leaves the window at t=1900.
    assert limiter.check("ADA@example.com ", "10.0.0.1") == pytest.approx(850)
    assert limiter.check("bob@example.com", "10.0.0.1") is None


def test_the_owner_from_another_address_is_never_refused(clock: Clock) -> None:
    """Failing on purpose from one address must not lock the account's owner out."""
    limiter = LoginLimiter(max_per_pair=5, window=900, clock=clock)
    for _ in range(50):
        limiter.record_failure("ada@example.com", "203.0.113.9")
    assert limiter.check("ada@example.com", "203.0.113.9") is not None
    assert limiter.check("ada@example.com", "198.51.100.7") is None


def test_many_failures_on_one_account_slow_every_attempt_on_it(clock: Clock) -> None:
    limiter = LoginLimiter(slow_after=3, max_delay=2.0, window=60, clock=clock)
    delays = []
    for index in range(8):
        delays.append(limiter.delay("ada@example.com"))
        limiter.record_failure("ada@example.com", f"10.0.0.{index}")
    assert delays == [0, 0, 0, 0.25, 0.5, 1.0, 2.0, 2.0]
    assert limiter.delay("bob@example.com") == 0
    clock.now += 61
    assert limiter.delay("ada@example.com") == 0  # the failures left the window


def test_sliding_window_frees_one_attempt_at_a_time(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_pair=2, window=60, clock=clock)
    limiter.record_failure("a", None)
    clock.now += 30
    limiter.record_failure("a", None)
    assert limiter.check("a", None) == pytest.approx(30)
    clock.now += 30
    assert limiter.check("a", None) is None
    limiter.record_failure("a", None)
    assert limiter.check("a", None) == pytest.approx(30)


def test_address_limit_spans_accounts(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_pair=5, max_per_address=3, window=60, clock=clock)
    for name in ("a", "b", "c"):
        limiter.record_failure(name, "10.0.0.9")
    assert limiter.check("d", "10.0.0.9") == pytest.approx(60)
    assert limiter.check("d", "10.0.0.8") is None


def test_reset_clears_the_pair_and_slowdown_but_not_the_address(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_pair=2, max_per_address=2, slow_after=1, window=60, clock=clock)
    limiter.record_failure("a", "ip")
    limiter.record_failure("a", "ip")
    assert limiter.delay("a") > 0
    limiter.reset("A", "ip")
    assert limiter.delay("a") == 0
    assert limiter.check("a", "other") is None
    assert limiter.check("a", "ip") == pytest.approx(60)  # the address still counts


def test_memory_is_bounded(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_pair=3, max_per_address=3, window=60, max_keys=10, clock=clock)
    for index in range(1000):
        limiter.record_failure(f"user{index}", f"10.0.{index // 250}.{index % 250}")
    assert all(count <= 10 for count in limiter.tracked())


def test_expired_keys_are_dropped(clock: Clock) -> None:
    limiter = LoginLimiter(window=60, clock=clock)
    for index in range(50):
        limiter.record_failure(f"user{index}", "ip")
    clock.now += 61
    limiter.record_failure("late", "ip2")
    assert limiter.tracked() == (1, 1, 1)


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginLimiter(max_per_pair=0)
    with pytest.raises(ValueError, match="negative"):
        LoginLimiter(max_delay=-1)
