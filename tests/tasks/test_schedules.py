"""Schedules fire through taskiq's scheduler, as ``system:scheduler``, once per tick."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
from taskiq import ScheduledTask

from kernel.tasks import KvScheduleSource, tick_of
from kernel.testing import KernelHarness
from kernel.testing._processes import module_env
from kernel.testing._workers import TaskProcess
from tests.tasks._modules import ticker_module


def _read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _lines(path: Path, count: int, timeout: float = 30.0) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        lines = _read_lines(path)
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{path} has fewer than {count} lines")


async def test_schedule_fires_as_the_scheduler(
    webos: KernelHarness, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "ticks.txt"
    monkeypatch.setenv("TICKER_OUT", str(out))
    modules = ticker_module(tmp_path / "mods")
    await webos.start(["ticker"], modules_path=modules, tasks_worker=True, tasks_scheduler=True)

    lines = await _lines(out, 2)

    ticks = [int(line.split()[0]) for line in lines]
    assert ticks == sorted(set(ticks))
    assert {line.split()[1] for line in lines} == {"system:scheduler"}


async def test_two_scheduler_processes_fire_each_tick_once(
    webos: KernelHarness, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "ticks.txt"
    monkeypatch.setenv("TICKER_OUT", str(out))
    modules = ticker_module(tmp_path / "mods")
    await webos.start(["ticker"], modules_path=modules, tasks_worker=True)
    schedulers = []
    for index in range(2):
        process = TaskProcess(
            ["scheduler"],
            module_env(webos.nats_url, webos.data_dir, modules),
            cwd=tmp_path,
            log=tmp_path / f"scheduler-{index}.log",
        )
        process.start()
        webos._processes.append(process)
        schedulers.append(process)
        await process.wait_visible(webos.nats_url)

    lines = await _lines(out, 5)

    ticks = [int(line.split()[0]) for line in lines]
    assert len(ticks) == len(set(ticks)), f"a tick fired twice: {ticks}"
    # The scheduler processes signed their own identity into every tick.
    assert {line.split()[1] for line in lines} == {"system:scheduler"}

    # One scheduler stops (SIGTERM, exit 0); the other keeps every following tick firing.
    assert await schedulers[0].stop() == 0, schedulers[0].output()
    after = await _lines(out, len(_read_lines(out)) + 3)
    later = [int(line.split()[0]) for line in after]
    assert len(later) == len(set(later)), f"a tick fired twice: {later}"


async def test_a_tick_is_claimed_once_and_cron_ticks_are_minutes(webos: KernelHarness) -> None:
    moment = datetime(2030, 1, 1, 12, 15, 42, tzinfo=UTC)
    cron = ScheduledTask(
        schedule_id="m.report@declared",
        task_name="m.report",
        labels={},
        args=[],
        kwargs={},
        cron="*/15 * * * *",
    )
    every = cron.model_copy(update={"cron": None, "interval": timedelta(seconds=10)})
    assert tick_of(cron, moment) == int(datetime(2030, 1, 1, 12, 15, tzinfo=UTC).timestamp())
    assert tick_of(every, moment) == int(moment.timestamp()) - 2

    clients = [await nats.connect(webos.nats_url) for _ in range(2)]
    try:
        sources = [
            KvScheduleSource(client, owner=f"s{index}", clock=lambda: moment)
            for index, client in enumerate(clients)
        ]
        for source in sources:
            await source.startup()
        tick = tick_of(cron, moment)
        claims = await asyncio.gather(*(source.claim(cron, tick) for source in sources))
        assert sorted(claims) == [False, True]
        assert await sources[0].claim(cron, tick + 60) is True

        await sources[0].add_schedule(cron)
        await sources[1].add_schedule(every.model_copy(update={"schedule_id": "other"}))
        assert {s.schedule_id for s in await sources[1].get_schedules()} == {
            "m.report@declared",
            "other",
        }
        await sources[1].delete_schedule("other")
        assert [s.cron for s in await sources[0].get_schedules()] == ["*/15 * * * *"]
    finally:
        for client in clients:
            await client.close()


async def test_a_schedule_label_grants_nothing(
    webos: KernelHarness, tmp_path: Path, monkeypatch
) -> None:
    """Anyone who may publish task messages could write a schedule's label: the task runs as
    whoever its signed identity says (nobody here), not as the scheduler."""
    from taskiq import TaskiqMessage

    out = tmp_path / "ticks.txt"
    monkeypatch.setenv("TICKER_OUT", str(out))
    modules = ticker_module(tmp_path / "mods")
    app = await webos.start(["ticker"], modules_path=modules, tasks_worker=True)
    forged = TaskiqMessage(
        task_id="forged1",
        task_name="ticker.tick",
        labels={"schedule_id": "ticker.tick@declared", "webos-tick": "1"},
        args=[],
        kwargs={},
    )
    await app.nats.jetstream().publish(
        "webos.tasks.ticker.tick.forged1", forged.model_dump_json().encode()
    )

    assert await _lines(out, 1) == ["1 anonymous"]
