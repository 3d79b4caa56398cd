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


def test_account_limit_with_retry_after(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_account=5, window=900, clock=clock)
    for _ in range(5):
        assert limiter.check("ada@example.com", "10.0.0.1") is None
        limiter.record_failure("ada@example.com", "10.0.0.1")
        clock.now += 10
    # Five failures at t=1000..1040; the oldest leaves the window at t=1900.
    assert limiter.check("ada@example.com", "10.0.0.2") == pytest.approx(850)
    assert limiter.check("ADA@example.com ", None) == pytest.approx(850)
    assert limiter.check("bob@example.com", "10.0.0.1") is None


def test_sliding_window_frees_one_attempt_at_a_time(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_account=2, window=60, clock=clock)
    limiter.record_failure("a", None)
    clock.now += 30
    limiter.record_failure("a", None)
    assert limiter.check("a", None) == pytest.approx(30)
    clock.now += 30
    assert limiter.check("a", None) is None
    limiter.record_failure("a", None)
    assert limiter.check("a", None) == pytest.approx(30)


def test_address_limit_spans_accounts(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_account=5, max_per_address=3, window=60, clock=clock)
    for name in ("a", "b", "c"):
        limiter.record_failure(name, "10.0.0.9")
    assert limiter.check("d", "10.0.0.9") == pytest.approx(60)
    assert limiter.check("d", "10.0.0.8") is None


def test_reset_clears_the_account_but_not_the_address(clock: Clock) -> None:
    limiter = LoginLimiter(max_per_account=2, max_per_address=2, window=60, clock=clock)
    limiter.record_failure("a", "ip")
    limiter.record_failure("a", "ip")
    limiter.reset("A")
    assert limiter.check("a", None) is None
    assert limiter.check("a", "ip") == pytest.approx(60)


def test_memory_is_bounded(clock: Clock) -> None:
    limiter = LoginLimiter(
        max_per_account=3, max_per_address=3, window=60, max_keys=10, clock=clock
    )
    for index in range(1000):
        limiter.record_failure(f"user{index}", f"10.0.{index // 250}.{index % 250}")
    accounts, addresses = limiter.tracked()
    assert accounts <= 10 and addresses <= 10


def test_expired_keys_are_dropped(clock: Clock) -> None:
    limiter = LoginLimiter(window=60, clock=clock)
    for index in range(50):
        limiter.record_failure(f"user{index}", "ip")
    clock.now += 61
    limiter.record_failure("late", "ip2")
    assert limiter.tracked() == (1, 1)


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginLimiter(max_per_account=0)
