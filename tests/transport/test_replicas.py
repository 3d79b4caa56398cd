"""WEBOS_JETSTREAM_REPLICAS on a single server: more than one copy cannot be kept there, and the
gateway says so naming the setting, whether it creates the streams or finds them made.

(Replicas on a real 3-node cluster: tests/distribution/test_cluster.py.)"""

from pathlib import Path

import pytest

from kernel.errors import ConfigError
from kernel.testing import KernelHarness, purge_jetstream, write_module

LEDGER = """
from kernel import on

@on("ledger.entry", durable=True)
async def keep(payload: dict) -> None:
    pass
"""


async def test_replicas_above_one_on_a_single_server_stop_start_up_naming_the_setting(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "ledger", {"events.py": LEDGER})
    first = await webos.start(modules_path=tmp_path)  # the streams exist now, with one copy
    await first.stop()

    with pytest.raises(ConfigError, match="WEBOS_JETSTREAM_REPLICAS=3") as existing:
        await webos.start(modules_path=tmp_path, jetstream_replicas=3)
    await purge_jetstream(webos.nats_url)
    with pytest.raises(ConfigError, match="WEBOS_JETSTREAM_REPLICAS=3") as created:
        await webos.start(modules_path=tmp_path, jetstream_replicas=3)
    for refused in (existing.value, created.value):
        assert "1 for a single server" in str(refused)

    # Nothing was left half-connected: the same process starts with a value the server takes.
    again = await webos.start(modules_path=tmp_path)
    assert (await again.client.get("/ready")).status_code == 200
