"""The dispatcher: per-address mailboxes, one invocation batch in flight per address.

Messages to one address are sent in arrival order; what arrives while a batch is in flight goes
in the next batch (up to the endpoint's `maxNumBatchRequests`). A reply's effects are checked
first and then applied all at once, in StateFun's order: messages, delayed messages, egress,
state. Where StateFun would fail the whole job, the dispatcher parks just that address, with
its messages intact, and everything else keeps flowing; a call that failed for good on an
endpoint with `failureMode: DROP` (the fransking fork's key) dead-letters its batch instead.

Ingress is admitted against bounds per address, per function type and for the runtime (see
`admission`); messages between functions are never refused and never wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from statefun.request_reply_pb2 import FromFunction, TypedValue

from baton.module.specs import EndpointSpec, FailureMode, HttpEndpointSpec, ModuleSpec
from baton.module.typename import TypeName
from baton.runtime.address import Address, InvalidAddress
from baton.runtime.admission import DEFAULT_LIMITS, Limits, Refused
from baton.runtime.background import stop_tasks
from baton.runtime.batch_sizing import BatchSizer, call_budget_s
from baton.runtime.clock import SYSTEM_CLOCK, Clock
from baton.runtime.egress import EgressRejected, EgressRouter
from baton.runtime.invoker import AddressFailure, CallFailed, InvocationResponse, Invoker
from baton.runtime.messages import DelayedMessage, EgressRecord, Message
from baton.runtime.metrics import FunctionMetrics, Metrics
from baton.runtime.observability.tracing import TRACEPARENT, BatchSpan, BatchTracing
from baton.runtime.state_registry import StateRegistry
from baton.runtime.store import DeadLetter, Store, StoredValue, key_digest
from baton.runtime.timers import Timers

log = logging.getLogger(__name__)

_MODIFY = FromFunction.PersistedValueMutation.MODIFY
_DELETE = FromFunction.PersistedValueMutation.DELETE


def _drops(endpoint: EndpointSpec, failure: AddressFailure) -> bool:
    """Whether a failure skips the batch instead of parking: only a failed call (never a protocol
    violation in a reply), and only where the endpoint says `failureMode: DROP`."""
    return (
        isinstance(failure, CallFailed)
        and isinstance(endpoint, HttpEndpointSpec)
        and endpoint.failure_mode is FailureMode.DROP
    )


def _value(typed: TypedValue) -> bytes | None:
    return typed.value if typed.has_value or typed.value else None


@dataclass(slots=True)
class _FunctionType:
    """What the dispatcher keeps per function type."""

    endpoint: EndpointSpec | None
    metrics: FunctionMetrics
    sizer: BatchSizer | None = None  # None when no endpoint serves the type
    queued: int = 0  # messages accepted and not yet applied, parked addresses' included


class Dispatcher:
    """Routes messages into mailboxes and drives one batch at a time per address."""

    def __init__(
        self,
        module: ModuleSpec,
        store: Store,
        invoker: Invoker,
        registry: StateRegistry,
        egress: EgressRouter,
        metrics: Metrics,
        *,
        limits: Limits = DEFAULT_LIMITS,
        idempotency_window_s: float = 86_400.0,
        clock: Clock = SYSTEM_CLOCK,
        tracing: BatchTracing | None = None,
    ) -> None:
        self._module = module
        self._tracing = tracing
        self._store = store
        self._invoker = invoker
        self._registry = registry
        self._egress = egress
        self._metrics = metrics
        self._clock = clock
        self.timers = Timers(store, self._fire, clock)
        # Per function type, looked up by (namespace, type) so no TypeName is built per message.
        self._types: dict[tuple[str, str], _FunctionType] = {}
        self._inflight: set[Address] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued = 0
        self._limits = limits
        self._per_type = limits.per_type  # a computed bound, read per message
        self._key_window_s = idempotency_window_s
        # Set (and dropped) on every change a waiter may be waiting for; created only while
        # someone waits, so the hot path pays one attribute test.
        self._changed: asyncio.Event | None = None

    # --- routing ---------------------------------------------------------------------------

    def endpoint(self, function_type: TypeName) -> EndpointSpec | None:
        """The endpoint of a function type (exact binding before wildcard).

        Asking makes no entry (nor metrics row): ingresses ask for any type a client names.
        """
        info = self._types.get((function_type.namespace, function_type.name))
        return info.endpoint if info is not None else self._module.endpoint_for(function_type)

    def _type_of(self, namespace: str, type_: str) -> _FunctionType:
        info = self._types.get((namespace, type_))
        if info is None:
            function_type = TypeName(namespace, type_)
            endpoint = self._module.endpoint_for(function_type)
            info = self._types[(namespace, type_)] = _FunctionType(
                endpoint,
                self._metrics.of(function_type),
                BatchSizer(call_budget_s(endpoint)) if endpoint is not None else None,
            )
        return info

    # --- admission -------------------------------------------------------------------------

    def refusal(self, address: Address) -> Refused | None:
        """Why an ingress message for `address` cannot be taken now, or None if it can."""
        if self._store.error is not None:
            return Refused("runtime", f"{self._store.error}; retry later", retry_after_s=5)
        return self._over_bounds(address)

    def _over_bounds(self, address: Address) -> Refused | None:
        limits = self._limits
        if self._queued >= limits.max_queued:
            return Refused(
                "runtime", f"the runtime holds {self._queued} queued messages, its limit; retry later"
            )
        if address not in self._inflight and len(self._inflight) >= limits.max_inflight:
            return Refused(
                "runtime",
                f"{len(self._inflight)} invocation batches are in flight, the limit; retry later",
            )
        info = self._type_of(address.namespace, address.type)
        backlog = self._store.backlog(address)
        if backlog:
            if address in self._store.parked():
                bound, why = limits.max_parked_backlog, "it is parked"
            else:
                bound = info.endpoint.max_num_batch_requests if info.endpoint else 0
                why = "maxNumBatchRequests"
            if 0 < bound <= backlog:
                return Refused(
                    "address",
                    f"{address} has {backlog} messages waiting, its limit ({why}: {bound}); "
                    "retry later",
                )
        if info.queued >= self._per_type:
            return Refused(
                "function type",
                f"function type {address.function_type} has {info.queued} messages waiting, its "
                "limit; retry later",
            )
        return None

    async def ingest(self, *messages: Message, idempotency_key: str | None = None) -> bool:
        """Accept messages from a pull source: wait while a target (or the runtime) is full,
        return once they are durable.

        With an idempotency key, messages already accepted under that key are not delivered
        again (returns False), so a client may safely retry after a lost acknowledgement.
        """
        return await self._accept(messages, idempotency_key, wait=True)

    async def offer(self, *messages: Message, idempotency_key: str | None = None) -> bool:
        """Accept messages from a push source (HTTP): raise `Refused` at once when a target or
        the runtime is full (nothing is delivered then); otherwise like `ingest`."""
        return await self._accept(messages, idempotency_key, wait=False)

    async def _accept(
        self, messages: tuple[Message, ...], idempotency_key: str | None, *, wait: bool
    ) -> bool:
        for message in messages:
            if not message.target.valid:
                raise InvalidAddress(message.target)
        digest = key_digest(idempotency_key) if idempotency_key is not None else None
        if not wait:
            if digest is not None and self._seen(digest):
                await self._store.durable()  # acknowledged once the first copy is durable
                return False
            for message in messages:
                refused = self.refusal(message.target)
                if refused is not None:
                    raise refused
        for i, message in enumerate(messages):
            # A store failure is not waited for here: `durable()` below waits for it.
            while wait and self._over_bounds(message.target) is not None:
                await self.changed()
            if i == 0 and digest is not None:  # no await between the check and remembering
                if self._seen(digest):
                    await self._store.durable()
                    return False
                now = self._clock.now()
                self._store.remember_ingress_key(digest, now, now - self._key_window_s)
            self.deliver(message)
        await self._store.durable()
        return True

    def _seen(self, digest: str) -> bool:
        return self._store.seen_ingress_key(digest, self._clock.now() - self._key_window_s)

    def seen_key(self, idempotency_key: str) -> bool:
        """Whether messages were accepted under this key within the window."""
        return self._seen(key_digest(idempotency_key))

    def remember_key(self, idempotency_key: str) -> None:
        """Keep a key as accepted (in this epoch) without delivering anything under it."""
        now = self._clock.now()
        self._store.remember_ingress_key(key_digest(idempotency_key), now, now - self._key_window_s)

    def would_wait(self, messages: Sequence[Message]) -> bool:
        """Whether a pull source would have to wait before delivering these messages now (a
        target, its function type or the runtime is full); raises InvalidAddress for a target
        no function can have."""
        for message in messages:
            if not message.target.valid:
                raise InvalidAddress(message.target)
            if self._over_bounds(message.target) is not None:
                return True
        return False

    async def admit(self, messages: Sequence[Message]) -> None:
        """Wait, as `ingest` does, until every target can take its message; the caller then
        delivers them without awaiting (so they land in one epoch with what goes with them)."""
        while self.would_wait(messages):
            await self.changed()

    def deliver(self, message: Message) -> None:
        """Queue a message for its target and start a batch if the address is idle."""
        address = message.target
        self._store.append(message)
        self._queued += 1
        info = self._type_of(address.namespace, address.type)
        info.queued += 1
        info.metrics.messages_in += 1
        if address not in self._inflight and address not in self._store.parked():
            self._start(address, info)

    def _fire(self, message: Message) -> None:
        """Deliver a delayed message that came due (a change even if its address is parked)."""
        self.deliver(message)
        self._notify()

    def resume_mailboxes(self) -> None:
        """Start every non-empty, non-parked mailbox (after a restart)."""
        parked = self._store.parked()
        for address in self._store.busy_addresses():
            backlog = self._store.backlog(address)
            self._queued += backlog
            info = self._type_of(address.namespace, address.type)
            info.queued += backlog
            if address not in parked and address not in self._inflight:
                self._start(address, info)

    def _start(self, address: Address, info: _FunctionType) -> None:
        if info.endpoint is None:
            self.park(
                address,
                f"no endpoint serves function type {address.function_type}; add an endpoint "
                "document (io.statefun.endpoints.v2/http or baton.endpoints.v1/lambda) whose "
                "`functions` matches it",
            )
            return
        self._inflight.add(address)
        task = asyncio.get_running_loop().create_task(self._drive(address, info))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drive(self, address: Address, info: _FunctionType) -> None:
        endpoint, metrics, sizer = info.endpoint, info.metrics, info.sizer
        assert endpoint is not None and sizer is not None  # `_start` checked
        try:
            while address not in self._store.parked():
                batch = self._store.head(address, sizer.limit(endpoint.max_num_batch_requests))
                if not batch:
                    break
                started = time.perf_counter()
                span = self._tracing.start(address, batch) if self._tracing is not None else None
                try:
                    response = await self._call(address, endpoint, batch, sizer, span)
                    self._apply(address, response, span.traceparent if span is not None else None)
                except AddressFailure as failure:
                    if span is not None:
                        span.failed(str(failure))
                    if not _drops(endpoint, failure):
                        self.park(address, str(failure))
                        break
                    self._dead_letter(address, batch, f"dropped (failureMode: DROP): {failure}")
                finally:
                    if span is not None:
                        span.end()
                self._dequeue(address, info, len(batch))
                metrics.batches += 1
                metrics.batch_size.observe(len(batch))
                metrics.latency.observe(time.perf_counter() - started)
                self._notify()
        except Exception:  # a bug must not wedge the address silently
            log.exception("unexpected error driving %s", address,
                          extra={"event": "internal_error", "address": str(address)})
            self.park(address, "internal error in baton (see the log); resume to retry")
        finally:
            self._inflight.discard(address)
            self._notify()

    async def _call(
        self, address: Address, endpoint: EndpointSpec, batch: list[Message], sizer: BatchSizer,
        span: BatchSpan | None,
    ) -> InvocationResponse:
        if span is None:
            return await self._invoke(address, endpoint, batch, sizer)
        # This task's context: the transport sends it as the request's traceparent header.
        token = TRACEPARENT.set(span.traceparent)
        try:
            return await self._invoke(address, endpoint, batch, sizer)
        finally:
            TRACEPARENT.reset(token)

    async def _invoke(
        self, address: Address, endpoint: EndpointSpec, batch: list[Message], sizer: BatchSizer
    ) -> InvocationResponse:
        """Invoke one batch; when the call for a batch of several fails after spending the whole
        call budget, shrink it to its first message and try once more before giving up (the
        caller parks then, or drops the batch)."""
        started = time.perf_counter()
        try:
            response = await self._invoker.invoke(address, endpoint, batch)
        except CallFailed as failure:
            elapsed = time.perf_counter() - started
            if len(batch) == 1 or elapsed < sizer.budget_s:
                raise
            log.warning(
                "a batch of %d messages to %s spent the call budget (%gs); retrying its first "
                "message alone", len(batch), address, sizer.budget_s,
            )
            started = time.perf_counter()
            try:
                response = await self._invoker.invoke(address, endpoint, batch[:1])
            except CallFailed as single:
                raise CallFailed(
                    f"{single} (a batch of {len(batch)} messages spent the call timeout of "
                    f"{sizer.budget_s:g}s, and so did its first message alone)"
                ) from None
            del batch[1:]  # only the first message was applied
            log.info("%s: first message alone succeeded after %s", address, failure)
        sizer.observe(len(batch), time.perf_counter() - started)
        return response

    def _dequeue(self, address: Address, info: _FunctionType, count: int) -> None:
        """Drop the first `count` messages of a mailbox (applied or dead-lettered)."""
        self._store.drop_head(address, count)
        self._queued -= count
        info.queued -= count

    # --- applying a reply ------------------------------------------------------------------

    def _apply(self, address: Address, response: InvocationResponse, trace: str | None = None) -> None:
        """Check every effect of a reply, then apply them all (no await: atomic per epoch).

        Messages and delayed messages it sends carry `trace`, the batch span's traceparent.
        """
        now = self._clock.now()
        records = self._check_egress(response)
        self._check_targets(response)
        self._check_delayed(address, response)
        mutations = self._check_mutations(address, response, now)
        metrics = self._type_of(address.namespace, address.type).metrics

        for outgoing in response.outgoing_messages:
            t = outgoing.target
            self.deliver(
                Message(
                    Address(t.namespace, t.type, t.id),
                    address,
                    outgoing.argument.typename,
                    _value(outgoing.argument),
                    trace=trace,
                )
            )
        metrics.out_local += len(response.outgoing_messages)
        for delayed in response.delayed_invocations:
            if delayed.is_cancellation_request:
                self.timers.cancel(address.id, delayed.cancellation_token)
                continue
            t = delayed.target
            message = Message(
                Address(t.namespace, t.type, t.id),
                address,
                delayed.argument.typename,
                _value(delayed.argument),
                trace=trace,
            )
            self.timers.schedule(
                DelayedMessage(now + delayed.delay_in_ms / 1000.0, message, delayed.cancellation_token)
            )
            metrics.delayed += 1
        for record in records:
            self._egress.publish(record)
            self._metrics.count_egress(record.egress)
        metrics.out_egress += len(records)
        for name, value in mutations:
            self._store.put_state(address, name, value)

    def _check_egress(self, response: InvocationResponse) -> list[EgressRecord]:
        try:
            return [
                self._egress.check(
                    f"{e.egress_namespace}/{e.egress_type}", e.argument.typename, _value(e.argument)
                )
                for e in response.outgoing_egresses
            ]
        except EgressRejected as error:
            raise AddressFailure(str(error)) from None

    @staticmethod
    def _check_targets(response: InvocationResponse) -> None:
        targets = [m.target for m in response.outgoing_messages]
        targets += [d.target for d in response.delayed_invocations if not d.is_cancellation_request]
        for t in targets:
            target = Address(t.namespace, t.type, t.id)
            if not target.valid:
                raise AddressFailure(
                    f"the function sent a message to {target.namespace!r}/{target.type!r} (id "
                    f"{target.id!r}), which is not a function type: {target.problem}"
                )

    def _check_delayed(self, address: Address, response: InvocationResponse) -> None:
        pending: dict[str, bool] = {}  # token → pending after the entries seen so far
        for delayed in response.delayed_invocations:
            token = delayed.cancellation_token
            if delayed.is_cancellation_request:
                if not token:
                    raise AddressFailure(
                        "the function asked to cancel a delayed message without a cancellation token"
                    )
                pending[token] = False
                continue
            if delayed.delay_in_ms < 0:
                raise AddressFailure(
                    f"the function scheduled a delayed message with a negative delay "
                    f"({delayed.delay_in_ms} ms)"
                )
            if token:
                is_pending = pending.get(token)
                if is_pending is None:
                    is_pending = self._store.delayed_by_token(address.id, token) is not None
                if is_pending:
                    raise AddressFailure(
                        f"a delayed message with cancellation token {token!r} is already pending "
                        f"for id {address.id!r}; tokens must be unique until delivered or cancelled"
                    )
                pending[token] = True

    def _check_mutations(
        self, address: Address, response: InvocationResponse, now: float
    ) -> list[tuple[str, StoredValue | None]]:
        specs = self._registry.specs(address.function_type)
        checked: list[tuple[str, StoredValue | None]] = []
        for mutation in response.state_mutations:
            spec = specs.get(mutation.state_name)
            if spec is None:
                raise AddressFailure(
                    f"the function changed state {mutation.state_name!r}, which it never declared; "
                    "declare it with a ValueSpec in the SDK"
                )
            if mutation.mutation_type == _DELETE:
                checked.append((spec.name, None))
            elif mutation.mutation_type == _MODIFY:
                typename = mutation.state_value.typename
                if typename != spec.typename:
                    raise AddressFailure(
                        f"state {spec.name!r} is declared as {spec.typename!r} but the function "
                        f"wrote a {typename!r}"
                    )
                ttl = spec.ttl_seconds
                checked.append(
                    (spec.name, StoredValue(typename, mutation.state_value.value, now + ttl if ttl else None))
                )
            else:
                raise AddressFailure(f"unknown state mutation type {mutation.mutation_type}")
        return checked

    # --- parking and operators -------------------------------------------------------------

    def park(self, address: Address, reason: str) -> None:
        """Stop invoking an address, keeping its messages, and say why."""
        self._store.park(address, reason, self._clock.now())
        self._type_of(address.namespace, address.type).metrics.parked += 1
        self._notify()
        backlog = self._store.backlog(address)
        log.warning("parked %s: %s (messages kept: %d)", address, reason, backlog, extra={
            "event": "address_parked", "address": str(address), "reason": reason, "backlog": backlog,
        })

    def _dead_letter(self, address: Address, batch: list[Message], reason: str) -> None:
        """What the fork's DROP skips, kept: each message of the batch becomes a dead letter."""
        now = self._clock.now()
        for message in batch:
            self._store.add_dead_letter(DeadLetter(message, reason, now))
        log.warning("dead-lettered %d message(s) of %s: %s", len(batch), address, reason)

    def resume(self, address: Address) -> bool:
        """Unpark an address and invoke it again; False if it was not parked."""
        if address not in self._store.parked():
            return False
        self._store.unpark(address)
        backlog = self._store.backlog(address)
        log.info("resumed %s (messages waiting: %d)", address, backlog, extra={
            "event": "address_resumed", "address": str(address), "backlog": backlog,
        })
        if backlog and address not in self._inflight:
            self._start(address, self._type_of(address.namespace, address.type))
        self._notify()
        return True

    def dead_letter_head(self, address: Address) -> Message | None:
        """Move a parked address's first message to the dead letters, then resume it."""
        parked = self._store.parked().get(address)
        if parked is None or address in self._inflight:
            return None
        dropped = self._store.head(address, 1)
        if not dropped:
            return None
        self._dequeue(address, self._type_of(address.namespace, address.type), 1)
        self._store.add_dead_letter(DeadLetter(dropped[0], parked.reason, self._clock.now()))
        log.warning("dead-lettered a %s message to %s", dropped[0].typename, address, extra={
            "event": "message_dead_lettered", "address": str(address), "typename": dropped[0].typename,
            "reason": parked.reason,
        })
        self.resume(address)
        return dropped[0]

    # --- observation -----------------------------------------------------------------------

    @property
    def unavailable(self) -> str | None:
        """Why new input cannot be accepted now (the store cannot persist), or None."""
        return self._store.error

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def is_idle(self, *, timers: bool = False) -> bool:
        """Whether nothing can happen without new input: no batch in flight, no message waiting
        except at parked addresses (they wait for an operator), and, with `timers`, no delayed
        message pending."""
        if self._inflight or (timers and len(self.timers)):
            return False
        if not self._queued:
            return True
        return self._queued == sum(self._store.backlog(a) for a in self._store.parked())

    def _notify(self) -> None:
        changed = self._changed
        if changed is not None:
            self._changed = None
            changed.set()

    async def changed(self) -> None:
        """Return after the next change: a batch applied or finished, an address parked or resumed."""
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    async def stop(self) -> None:
        await self.timers.stop()
        await stop_tasks(*self._tasks, ignore_failures=True)
