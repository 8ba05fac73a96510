"""A deterministic generator of smoke command trees (StateFun's `CommandGenerator`, in JSON).

A *source command* is `{"target": "<id>", "commands": [...]}`: the command list is sent to
`statefun.smoke.e2e/command-interpreter-fn/<id>`. Commands are plain JSON dicts:

- `{"op": "increment"}`: add one to the function's `state`.
- `{"op": "send", "target": id, "commands": [...]}`: send the nested commands to `target`.
- `{"op": "send_after", "target": id, "commands": [...], "delay_ms": n}` (plus `"token"` when it is
  the first half of a send-after-with-cancellation: then `commands` is empty).
- `{"op": "cancel", "target": id, "token": uuid}`: cancel the delayed message with that token (a
  token is scoped by the *sender's* id, so `target` is informational only).
- `{"op": "egress", "seq": n}`: a playground egress record `"<id>:<n>"` to topic `events`; `n` is
  unique across one generator's output, so payloads are unique and duplicates are detectable.
- `{"op": "noop"}`: nothing.
- `{"op": "verify"}` (never generated): reply `{"id", "actual"[, "expected"]}` to `verification`.

Generation follows §5.1: top-level depth `rand(10)`; at each level `rand(3)` commands sampled with
weights increment 0.4, send 0.9, send_after 0.1, noop 0.2, egress 0.03 and send-after-with-
cancellation 0.1; a level with nothing effective gets a single increment; depth 0 is an increment.
Everything is JSON-serialisable, so another process can regenerate the same stream from the seed.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FUNCTION_TYPE = "statefun.smoke.e2e/command-interpreter-fn"
COMMANDS_TYPE = "statefun.smoke.e2e/commands"
EVENTS_TOPIC = "events"
VERIFICATION_TOPIC = "verification"

WEIGHTS: dict[str, float] = {
    "increment": 0.4,
    "send": 0.9,
    "send_after": 0.1,
    "noop": 0.2,
    "egress": 0.03,
    "send_after_with_cancellation": 0.1,
}


@dataclass(frozen=True, slots=True)
class Parameters:
    n_ids: int = 128
    command_depth: int = 10
    max_commands_per_depth: int = 3
    min_delay_ms: int = 1
    max_delay_ms: int = 50


class CommandGenerator:
    """Seeded source of source commands; the same seed and parameters give the same stream."""

    def __init__(self, seed: int, params: Parameters | None = None, **overrides: int) -> None:
        if params is None:
            params = Parameters(**overrides)
        elif overrides:
            raise TypeError("give either params or keyword overrides, not both")
        self.params = params
        self._random = random.Random(seed)
        self._egress_seq = 0
        self._kinds = list(WEIGHTS)
        self._cumulative: list[float] = []
        total = 0.0
        for kind in self._kinds:
            total += WEIGHTS[kind]
            self._cumulative.append(total)

    def __iter__(self) -> Iterator[dict]:
        while True:
            yield self.next()

    def next(self) -> dict:
        """One source command: `{"target": id, "commands": [...]}`."""
        depth = self._random.randrange(self.params.command_depth)
        return {"target": self._address(), "commands": self._commands(depth)}

    def take(self, count: int) -> list[dict]:
        return [self.next() for _ in range(count)]

    # --- internals ---------------------------------------------------------------------------

    def _address(self) -> str:
        return str(self._random.randrange(self.params.n_ids))

    def _delay(self) -> int:
        return self._random.randint(self.params.min_delay_ms, self.params.max_delay_ms)

    def _commands(self, depth: int) -> list[dict]:
        if depth <= 0:
            return [{"op": "increment"}]
        commands: list[dict] = []
        for _ in range(self._random.randrange(self.params.max_commands_per_depth)):
            self._generate(self._sample(), depth, commands)
        if all(c["op"] == "noop" for c in commands):  # Java's Noop adds nothing: level is empty
            commands.append({"op": "increment"})
        return commands

    def _sample(self) -> str:
        point = self._random.random() * self._cumulative[-1]
        for kind, bound in zip(self._kinds, self._cumulative):
            if point < bound:
                return kind
        return self._kinds[-1]

    def _generate(self, kind: str, depth: int, out: list[dict]) -> None:
        if kind == "increment" or kind == "noop":
            out.append({"op": kind})
        elif kind == "send":
            out.append({"op": "send", "target": self._address(), "commands": self._commands(depth - 1)})
        elif kind == "send_after":
            out.append(
                {
                    "op": "send_after",
                    "target": self._address(),
                    "commands": self._commands(depth - 1),
                    "delay_ms": self._delay(),
                }
            )
        elif kind == "egress":
            self._egress_seq += 1
            out.append({"op": "egress", "seq": self._egress_seq})
        elif kind == "send_after_with_cancellation":
            target = self._address()
            token = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
            out.append(
                {"op": "send_after", "target": target, "commands": [], "delay_ms": self._delay(), "token": token}
            )
            out.append({"op": "cancel", "target": target, "token": token})
        else:  # pragma: no cover
            raise ValueError(kind)


def generate(seed: int, count: int, n_ids: int = 128, **overrides: int) -> list[dict]:
    """`count` source commands from a fresh generator."""
    return CommandGenerator(seed, n_ids=n_ids, **overrides).take(count)


# --- expected outcome -----------------------------------------------------------------------


def _walk(current: str, commands: list[dict], counts: Counter, payloads: list[str]) -> None:
    stack = [(current, commands)]
    while stack:
        current, commands = stack.pop()
        for command in commands:
            op = command["op"]
            if op == "increment":
                counts[current] += 1
            elif op in ("send", "send_after"):
                stack.append((command["target"], command["commands"]))
            elif op == "egress":
                payloads.append(egress_payload(current, command["seq"]))


def egress_payload(function_id: str, seq: int) -> str:
    return f"{function_id}:{seq}"


def expected_counts(source_commands: Iterable[dict], n_ids: int | None = None) -> dict[str, int]:
    """Increments per id (ids never incremented are 0 when `n_ids` is given, else absent)."""
    counts: Counter = Counter()
    payloads: list[str] = []
    for source in source_commands:
        _walk(source["target"], source["commands"], counts, payloads)
    result = {str(i): 0 for i in range(n_ids)} if n_ids is not None else {}
    result.update(counts)
    return result


def expected_egress_payloads(source_commands: Iterable[dict]) -> list[str]:
    """Every `events` payload the workload must produce exactly once (unordered)."""
    counts: Counter = Counter()
    payloads: list[str] = []
    for source in source_commands:
        _walk(source["target"], source["commands"], counts, payloads)
    return payloads


def expected_egress(source_commands: Iterable[dict]) -> int:
    """How many `events` egress records the workload must produce."""
    return len(expected_egress_payloads(source_commands))


def count_messages(source_commands: Iterable[dict]) -> int:
    """Function invocations the workload causes: source commands plus every send/send_after."""
    total = 0
    stack: list[list[dict]] = []
    for source in source_commands:
        total += 1
        stack.append(source["commands"])
        while stack:
            for command in stack.pop():
                if command["op"] in ("send", "send_after") and not command.get("token"):
                    total += 1
                    stack.append(command["commands"])
    return total


def verify_command(expected: int | None = None) -> dict:
    command: dict = {"op": "verify"}
    if expected is not None:
        command["expected"] = expected
    return command
