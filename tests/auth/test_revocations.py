"""The in-memory list of ended sessions: refused until their tokens expire, then forgotten."""

from kernel.auth._revocations import SWEEP_EVERY, SessionRevocations


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_session_is_refused_until_its_tokens_expire_and_shared_once() -> None:
    clock = Clock()
    sessions = SessionRevocations(clock)
    shared: list[tuple[str, float]] = []

    async def share(session: str, until: float) -> None:
        shared.append((session, until))

    sessions.share = share
    await sessions.revoke("s1", clock.now + 900)
    assert sessions.is_revoked("s1") and not sessions.is_revoked("s2")
    assert shared == [("s1", clock.now + 900)]
    sessions.add("s1", clock.now + 10)  # an earlier end never shortens a listed one
    clock.now += 899
    assert sessions.is_revoked("s1")
    clock.now += 2
    assert not sessions.is_revoked("s1")


def test_memory_is_bounded_by_the_token_lifetime() -> None:
    clock = Clock()
    sessions = SessionRevocations(clock)
    for index in range(1000):
        sessions.add(f"s{index}", clock.now + 60)
    sessions.add("already over", clock.now - 1)
    assert len(sessions) == 1000
    clock.now += SWEEP_EVERY + 61
    sessions.add("fresh", clock.now + 60)
    assert len(sessions) == 1
