"""The harness itself: sending, decoded state, egress, delayed messages and TTL on virtual time,
a module.yaml or bare SDK functions, in-process or over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from statefun import IntType

from baton.testing import Harness, UnknownValueType
from tests.conftest import playground_module
from tests.testing.functions import COMMAND, PROFILE, functions


@pytest.fixture
async def h():
    async with Harness(functions=functions, egress_topics=["counts"]) as harness:
        yield harness


async def test_send_then_state_decoded_and_egress_taken(h: Harness) -> None:
    await h.send("example/counter/a", 2)  # a Python int: io.statefun.types/int
    await h.send("example/counter/a", 3, type=IntType)
    await h.send("example/counter/a", "hello")
    await h.send("example/counter/a", {"name": "Ann"}, type=PROFILE)
    await h.until_idle()
    assert h.state("example/counter/a") == {"count": 5, "last": "hello", "profile": {"name": "Ann"}}
    assert h.raw_state("example/counter/a")["count"].typename == "io.statefun.types/int"
    records = await h.egress("counts")
    assert [r.payload for r in records] == ["a=2", "a=5"]
    assert await h.egress("counts") == []  # taken


async def test_egress_count_waits_for_records(h: Harness) -> None:
    await h.send("example/counter/b", {"op": "remind", "after_s": 3600, "amount": 4}, type=COMMAND)
    h.auto = True
    [record] = await h.egress("counts", count=1)  # an hour passes in auto mode
    assert record.payload == "b=4"
    assert h.now().hour == 1


async def test_unknown_values_and_targets_are_explained(h: Harness) -> None:
    with pytest.raises(UnknownValueType, match="pass type="):
        await h.send("example/counter/a", {"no": "type"})
    with pytest.raises(LookupError, match="no endpoint serves example/nobody"):
        await h.send("example/nobody/a", 1)
    with pytest.raises(LookupError, match="no playground egress declares topic 'nope'"):
        await h.egress("nope")


async def test_delayed_message_fires_when_its_time_comes(h: Harness) -> None:
    await h.send("example/counter/c", {"op": "remind", "after_s": 600, "amount": 7}, type=COMMAND)
    status = await h.until_idle()
    assert status.delayed == 1 and h.state("example/counter/c") == {}
    await h.advance(timedelta(seconds=599))
    assert h.state("example/counter/c") == {}
    await h.advance(timedelta(seconds=1))
    assert h.state("example/counter/c") == {"count": 7}
    assert h.runtime.status().delayed == 0


async def test_cancelled_delayed_message_never_fires(h: Harness) -> None:
    await h.send("example/counter/d", {"op": "remind", "after_s": 60, "amount": 1, "token": "t"},
                 type=COMMAND)
    await h.send("example/counter/d", {"op": "cancel", "token": "t"}, type=COMMAND)
    status = await h.until_idle(timers=True)
    assert status.delayed == 0
    assert h.state("example/counter/d") == {}


async def test_delayed_messages_fire_in_time_order(h: Harness) -> None:
    for after_s, amount in [(30, 100), (10, 1), (20, 10)]:
        await h.send("example/counter/e", {"op": "remind", "after_s": after_s, "amount": amount},
                     type=COMMAND)
    await h.until_idle(timers=True)
    assert [r.payload for r in await h.egress("counts")] == ["e=1", "e=11", "e=111"]
    assert h.now().second == 30


async def test_ttl_after_write_expires_on_virtual_time(h: Harness) -> None:
    await h.send("example/counter/f", "hi")
    await h.until_idle()
    await h.advance(timedelta(minutes=59))
    assert h.state("example/counter/f") == {"last": "hi"}
    await h.send("example/counter/f", {"op": "touch"}, type=COMMAND)  # reads do not refresh it
    await h.advance(timedelta(minutes=1))
    assert h.state("example/counter/f") == {}


async def test_ttl_after_call_is_refreshed_by_every_invocation(h: Harness) -> None:
    await h.send("example/counter/g", {"name": "Bo"}, type=PROFILE)
    await h.until_idle()
    for _ in range(5):  # 45 minutes, kept alive by a call every 9 minutes
        await h.advance(timedelta(minutes=9))
        await h.send("example/counter/g", {"op": "touch"}, type=COMMAND)
        await h.until_idle()
    assert h.state("example/counter/g") == {"profile": {"name": "Bo"}}
    await h.advance(timedelta(minutes=10))
    assert h.state("example/counter/g") == {}


async def test_a_function_that_raises_parks_its_address_with_the_reason(h: Harness) -> None:
    await h.send("example/counter/h", {"op": "unknown-op"}, type=COMMAND)
    await h.send("example/counter/h", 1)
    await h.until_idle()
    assert h.parked() == {}  # an unknown op is ignored by the function
    await h.send("example/counter/h", b"\xff", type="io.statefun.types/int")  # not an IntWrapper
    await h.until_idle()
    [(address, reason)] = h.parked().items()
    assert address == "example/counter/h"
    assert "the in-process function failed" in reason


async def test_module_yaml_with_in_process_functions(tmp_path) -> None:
    path = tmp_path / "module.yaml"
    path.write_text(playground_module("http://127.0.0.1:1/never-called", topics=("counts",)))
    async with Harness(path, functions) as h:
        await h.send("example/counter/m", 4)
        await h.until_idle()
        assert h.state("example/counter/m") == {"count": 4}
        assert [r.payload for r in await h.egress("counts")] == ["m=4"]


async def test_over_http_with_a_sqlite_store(tmp_path) -> None:
    async with Harness(playground_module_spec(), functions, http=True, data_dir=tmp_path) as h:
        await h.send("example/counter/n", {"op": "remind", "after_s": 86400, "amount": 2}, type=COMMAND)
        await h.until_idle(timers=True)
        assert h.state("example/counter/n") == {"count": 2}
        assert [r.payload for r in await h.egress("counts")] == ["n=2"]
        assert h.now().timestamp() - h.runtime.started_at == 86400  # a day, on the virtual clock
    assert (tmp_path / "baton.db").exists()


def playground_module_spec():
    from baton.module import load_module_text

    return load_module_text(playground_module("http://replaced.invalid/statefun", topics=("counts",)))
