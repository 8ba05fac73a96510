"""A reusable smoke workload in the spirit of StateFun's smoke e2e (statefun-reference §5.1).

- `commands`: a seeded generator of nested command trees and the expected outcome of running them.
- `interpreter`: `statefun.smoke.e2e/command-interpreter-fn`, written with the official Python SDK.
- `driver`: feed, wait for quiescence, verify and drain by URL (ingress, egress, admin API).
- `server`: `python -m tests.smoke.server --port N` serves the interpreter in its own process.
"""
