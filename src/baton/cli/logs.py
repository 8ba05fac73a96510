"""Log output for the command line: readable lines, or one JSON object per line (`--log-format json`).

Significant runtime events are logged with an `event` name and their facts as extra fields
(`log.warning("parked %s ...", ..., extra={"event": "address_parked", "address": ...})`); the
JSON format writes those fields as they are, so a log pipeline can filter on them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import click

# Attributes every LogRecord has: anything else was passed as `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, event and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


_log = logging.getLogger("baton")
_json = False  # whether `--log-format json` is on: then every warning is a JSON line too


def warn(message: str, event: str) -> None:
    """A warning for the user: `baton: warning: ...` on stderr, or a JSON log line."""
    if _json:
        _log.warning(message, extra={"event": event})
    else:
        click.echo(f"baton: warning: {message}", err=True)


def configure_logging(verbose: int, log_format: str) -> None:
    """Text: warnings by default (-v info, -vv debug). JSON: info by default, for the events.

    Like `logging.basicConfig`, it leaves a process whose logging is already set up alone
    (e.g. the CLI invoked inside a test run, or an application embedding it).
    """
    levels = [logging.WARNING, logging.INFO, logging.DEBUG]
    handler = logging.StreamHandler()
    global _json
    _json = log_format == "json"
    if _json:
        handler.setFormatter(JsonFormatter())
        level = levels[min(max(verbose, 1), 2)]
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        level = levels[min(verbose, 2)]
    logging.basicConfig(level=level, handlers=[handler])
