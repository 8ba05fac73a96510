"""OpenTelemetry traces: a span per invocation batch, its context carried with what it sends.

A message carries a W3C `traceparent` (`Message.trace`): from the HTTP ingress's request
header, or from the batch that sent it. The batch's span has the first carried context as its
parent and every message's as a link (each message is also an event), and the span's own
context goes to the function as the `traceparent` header of the StateFun request and onto every
message and delayed message the batch sends. So one request can be followed through functions
and workflow tasks as one trace. Contexts live in memory only: after a restart, messages read
back from the store start new traces.

Off by default. `tracer_provider_from_env()` follows the standard `OTEL_*` variables; the SDK
is imported only then, so a runtime without tracing never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from baton.runtime.address import Address
from baton.runtime.messages import Message

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

TRACEPARENT: ContextVar[str | None] = ContextVar("baton_traceparent", default=None)
"""The `traceparent` of the batch being called in this task (the HTTP transport sends it)."""

_ENABLING = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracer_provider_from_env(environ: dict[str, str] | None = None) -> TracerProvider | None:
    """A tracer provider exporting as the `OTEL_*` variables say, or None when tracing is off.

    On when `OTEL_TRACES_EXPORTER` (`otlp` or `console`) or an OTLP endpoint variable is set;
    off when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The OTLP exporter
    (HTTP/protobuf) reads its own `OTEL_EXPORTER_OTLP_*` settings; `OTEL_SERVICE_NAME`
    defaults to `baton`.
    """
    env = os.environ if environ is None else environ
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true" or exporter_name == "none":
        return None
    if not any(env.get(name) for name in _ENABLING):
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if exporter_name == "console":
        exporter = ConsoleSpanExporter()
    elif exporter_name in ("", "otlp"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        raise ValueError(
            f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported by baton; use otlp, console or none"
        )
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or "baton"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class BatchTracing:
    """Starts the span of each invocation batch (given a provider, e.g. with an in-memory exporter)."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("baton.runtime")

    def start(self, address: Address, batch: Sequence[Message]) -> BatchSpan:
        from opentelemetry import trace

        contexts = [self._context(m.trace) for m in batch]
        carried = [c for c in contexts if c is not None]
        parent = trace.set_span_in_context(trace.NonRecordingSpan(carried[0])) if carried else None
        span = self._tracer.start_span(
            f"invoke {address.function_type}",
            context=parent,
            kind=trace.SpanKind.CLIENT,
            links=[trace.Link(c) for c in carried],
            attributes={
                "baton.address": str(address),
                "baton.function_type": str(address.function_type),
                "baton.batch_size": len(batch),
            },
        )
        for message in batch:
            span.add_event("message", {
                "baton.caller": str(message.caller) if message.caller else "",
                "baton.typename": message.typename,
            })
        return BatchSpan(span)

    @staticmethod
    def _context(traceparent: str | None) -> Any:
        """The SpanContext of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), or None
        when absent or malformed (parsed here: the SDK's propagator costs more per message)."""
        if not traceparent:
            return None
        parts = traceparent.strip().split("-")
        if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or parts[0] == "ff":
            return None
        try:
            trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3][:2], 16)
        except ValueError:
            return None
        if not trace_id or not span_id:
            return None
        from opentelemetry.trace import SpanContext, TraceFlags

        return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))

    def shutdown(self) -> None:
        """Export what is buffered (a provider of our own, from the environment, only)."""
        shutdown = getattr(self._provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


class BatchSpan:
    """One batch's span: its `traceparent` for the call and for the messages the batch sends."""

    __slots__ = ("_span", "traceparent")

    def __init__(self, span: Span) -> None:
        self._span = span
        context = span.get_span_context()
        self.traceparent = f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"

    def failed(self, reason: str) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_status(Status(StatusCode.ERROR, reason))
        self._span.add_event("parked", {"baton.reason": reason})

    def end(self) -> None:
        self._span.end()
