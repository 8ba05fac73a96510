"""The pytest plugin's fixtures, found through the `pytest11` entry point (no conftest here)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baton.testing import Harness, VirtualClock
from tests.testing.functions import COMMAND, functions


def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("baton")
    assert plugin is not None and plugin.__name__ == "baton.testing.pytest_plugin"


async def test_baton_harness_starts_and_stops_harnesses(baton_harness) -> None:
    h = await baton_harness(functions=functions, egress_topics=["counts"], auto=True)
    assert isinstance(h, Harness)
    await h.send("example/counter/p", {"op": "remind", "after_s": 60, "amount": 2}, type=COMMAND)
    [record] = await h.egress("counts", count=1)
    assert record.payload == "p=2"


async def test_baton_harness_durable_gets_a_store_in_tmp_path(baton_harness, tmp_path) -> None:
    h = await baton_harness(functions=functions, egress_topics=["counts"], durable=True)
    await h.send("example/counter/q", 1)
    await h.until_idle()
    await h.crash()
    assert h.state("example/counter/q") == {"count": 1}
    assert (tmp_path / "baton-0" / "baton.db").exists()


async def test_virtual_clock_fixture(virtual_clock: VirtualClock) -> None:
    start = virtual_clock.now()
    await virtual_clock.advance(timedelta(days=1))
    assert virtual_clock.now() - start == 86400
