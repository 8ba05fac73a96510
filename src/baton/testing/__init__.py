"""Test StateFun functions and workflows in-process, on a virtual clock.

    from baton.testing import Harness

    async with Harness("module.yaml", functions, auto=True) as h:
        await h.send("example/greeter/Bob", {"name": "Bob"}, type="example/GreetRequest")
        await h.until_idle()
        assert h.state("example/greeter/Bob") == {"seen": 1}
        assert [r.payload for r in await h.egress("greetings")] == ["Hello Bob!"]
        await h.advance(timedelta(days=1))          # delayed messages, TTLs, workflow waits

- `Harness`: the real runtime (dispatcher, store, workflow interpreter, parking) with the
  functions called in-process (or over loopback HTTP), an in-memory or SQLite store, and:
  `send`, `until_idle`, `until`, `advance`, `state`, `egress`, `parked`, `resume`,
  `start_workflow`, `execution`, `result`, `crash`/`restart`.
- `VirtualClock`: the `Clock` the harness runs on; `advance` fires what is due in time order.
- `Faults` (`harness.faults`): make a function `fail` N times, be `slow`, `time_out`, or
  `crash` the runtime mid-call.
- A pytest plugin (`baton.testing.pytest_plugin`, registered as `baton`) with fixtures.
"""

from baton.testing.clock import VirtualClock
from baton.testing.faults import Fault, FaultKind, Faults
from baton.testing.harness import Harness, Record
from baton.testing.values import UnknownValueType, typed_value

__all__ = [
    "Fault",
    "FaultKind",
    "Faults",
    "Harness",
    "Record",
    "UnknownValueType",
    "VirtualClock",
    "typed_value",
]
