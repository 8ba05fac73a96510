"""Fault injection: make a function's calls fail, time out, or crash the runtime mid-call.

`Faults` holds what to inject, per function type (`"ns/type"`) or address (`"ns/type/id"`);
`SimulatedTransport` sits between the runtime and an endpoint's real transport (in-process or
HTTP) and applies them the way the failure would really play out: a failed attempt is retried
with the endpoint's backoff inside its `call` budget, a slow reply or a timeout takes virtual time
out of that budget, and a spent budget parks the address (statefun-reference §3.6). All of it on
the virtual clock, so a test sees a two-minute timeout at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from statefun.request_reply_pb2 import ToFunction

from baton.module.specs import EndpointSpec, HttpEndpointSpec, RetryPolicy
from baton.runtime.address import Address
from baton.runtime.transports import FailedAttempt, Transport, TransportError
from baton.runtime.transports.base import RetryBudget
from baton.testing.clock import VirtualClock


class FaultKind(Enum):
    FAIL = "fail"  # the attempt fails (as an HTTP 500 would); retried within the budget
    SLOW = "slow"  # the reply comes after `delay` (a timeout if that is beyond the budget)
    CRASH = "crash"  # the function runs, then the runtime crashes before applying its reply


@dataclass(slots=True)
class Fault:
    """One injected fault; `remaining` attempts left to affect (None: every attempt)."""

    kind: FaultKind
    target: str  # "ns/type" or "ns/type/id"
    remaining: int | None
    error: str = ""
    delay: float = 0.0
    injected: int = 0  # how many attempts it has affected so far

    def matches(self, address: Address) -> bool:
        return self.target in (str(address), f"{address.namespace}/{address.type}")


class Faults:
    """What to inject into calls to functions; shared by every runtime a harness starts."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def fail(self, target: str, times: int | None = 1, error: str = "injected failure") -> Fault:
        """The next `times` attempts to call `target` fail (None: every attempt, until `clear`)."""
        return self._add(Fault(FaultKind.FAIL, _checked(target), times, error=error))

    def slow(self, target: str, by: timedelta | float, times: int | None = 1) -> Fault:
        """The next `times` calls to `target` reply `by` later (in virtual time)."""
        delay = by.total_seconds() if isinstance(by, timedelta) else float(by)
        return self._add(Fault(FaultKind.SLOW, _checked(target), times, delay=delay))

    def time_out(self, target: str, times: int | None = 1) -> Fault:
        """The next `times` calls to `target` never reply: each spends the endpoint's whole
        `call` budget, and the address is parked as a real timeout would park it."""
        return self._add(Fault(FaultKind.SLOW, _checked(target), times, delay=float("inf")))

    def crash(self, target: str, times: int = 1) -> Fault:
        """The next `times` calls to `target` run the function, then the runtime crashes before
        applying the reply; the harness restarts it on the same store, and the batch is sent
        again (calls are at-least-once, state effects exactly-once)."""
        return self._add(Fault(FaultKind.CRASH, _checked(target), times))

    def clear(self) -> None:
        """Inject nothing more."""
        self._faults.clear()

    def take(self, address: Address) -> Fault | None:
        """The fault for this attempt at `address`, counted as used; None: call normally."""
        for fault in self._faults:
            if fault.matches(address):
                fault.injected += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _add(self, fault: Fault) -> Fault:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError(f"times must be at least 1 (or None for every call), got {fault.remaining}")
        self._faults.append(fault)
        return fault


def _checked(target: str) -> str:
    parts = target.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(
            f"a fault targets a function type 'namespace/type' or an address "
            f"'namespace/type/id', not {target!r}"
        )
    return target


class SimulatedTransport:
    """An endpoint's transport with `Faults` applied on the virtual clock."""

    def __init__(
        self, inner: Transport, endpoint: EndpointSpec, faults: Faults, clock: VirtualClock,
        *, durable: Callable[[], Awaitable[None]], on_crash: Callable[[], None],
    ) -> None:
        """`durable`: waits until what the runtime accepted so far is committed; `on_crash`:
        crashes the runtime (not from inside this call: the crash cancels it)."""
        self._inner = inner
        self._faults = faults
        self._clock = clock
        self._durable = durable
        self._on_crash = on_crash
        spec = endpoint.transport if isinstance(endpoint, HttpEndpointSpec) else endpoint
        self._budget_s = spec.call.total_seconds()
        okhttp = isinstance(endpoint, HttpEndpointSpec) and (
            endpoint.transport.retry_policy is RetryPolicy.OKHTTP
        )
        self._base_s = 0.010 if okhttp else 0.002  # as the real transports back off

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        address = _target_of(body)
        retry = RetryBudget(self._budget_s, self._base_s, on_failed_attempt, clock=self._clock)
        while True:
            fault = self._faults.take(address)
            if fault is None:
                return await self._inner.call(target, body, on_failed_attempt)
            if fault.kind is FaultKind.CRASH:
                # Between epochs: the batch's messages are committed, the reply's epoch never is.
                await self._durable()
                await self._inner.call(target, body, on_failed_attempt)  # the function runs...
                self._on_crash()  # ...and its reply is lost with the runtime
                await asyncio.Future()  # cancelled by the crash
            if fault.kind is FaultKind.SLOW:
                remaining = retry.remaining()
                if fault.delay < remaining:
                    await self._clock.sleep(fault.delay)
                    return await self._inner.call(target, body, on_failed_attempt)
                await self._clock.sleep(remaining)
                if on_failed_attempt is not None:
                    on_failed_attempt("timeout (injected)")
                raise TransportError(
                    f"gave up after {retry.attempts + 1} attempt(s) within the call timeout of "
                    f"{self._budget_s:g}s; the last attempt got no reply in time (injected timeout)"
                )
            await retry.failed(f"{fault.error} (injected)", target)

    async def close(self) -> None:
        await self._inner.close()


def _target_of(body: bytes) -> Address:
    target = ToFunction.FromString(body).invocation.target
    return Address(target.namespace, target.type, target.id)
