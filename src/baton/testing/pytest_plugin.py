"""pytest fixtures for `baton.testing`, registered as the pytest plugin `baton` (entry point
`pytest11`), so installing baton makes them available to every test suite:

    async def test_greeting(baton_harness):
        h = await baton_harness("module.yaml", functions, auto=True)
        await h.send("example/greeter/Bob", {"name": "Bob"}, type="example/GreetRequest")
        assert [r.payload for r in await h.egress("greetings", count=1)] == ["Hello Bob!"]

- `baton_harness`: a factory taking `Harness`'s arguments; each harness it starts is stopped
  after the test. `durable=True` gives it a SQLite store in the test's `tmp_path` (for `crash`).
- `virtual_clock`: a `VirtualClock` at the default start, for tests of code that takes a Clock.

The async fixture needs pytest-asyncio (as the `asyncio_mode = "auto"` or
`@pytest.mark.asyncio` tests that use it do). Imports of baton happen on first use, so the
plugin costs nothing in test suites that do not use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from baton.testing import Harness, VirtualClock

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the fixture then explains what is missing
    pytest_asyncio = None  # type: ignore[assignment]


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """A virtual clock at baton.testing's fixed default start."""
    from baton.testing import VirtualClock

    return VirtualClock()


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def baton_harness(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
        """`await baton_harness(module, functions, **options)`: a started `Harness`."""
        from baton.testing import Harness

        started: list[Harness] = []

        async def start(*args: Any, durable: bool = False, **kwargs: Any) -> Harness:
            if durable:
                kwargs.setdefault("data_dir", tmp_path / f"baton-{len(started)}")
            harness = Harness(*args, **kwargs)
            await harness.start()
            started.append(harness)
            return harness

        yield start
        for harness in reversed(started):
            await harness.stop()

else:  # pragma: no cover

    @pytest.fixture
    def baton_harness() -> None:
        pytest.fail("the baton_harness fixture needs pytest-asyncio: pip install pytest-asyncio")
