"""Watching a running runtime from outside: Prometheus metrics and OpenTelemetry traces.

`prometheus` turns the runtime's plain counters (`baton.runtime.metrics`) into the Prometheus
text format at scrape time; `tracing` makes a span per invocation batch and carries its context
with the messages the batch sends. Neither costs anything per message while nobody looks.
"""
