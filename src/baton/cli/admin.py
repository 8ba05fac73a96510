"""Daily-use commands against a running baton, through its admin API.

`baton send | state | egress | parked | resume | dead-letter | dead-letters`. Each takes
`--admin URL` (env `BATON_ADMIN`, default http://127.0.0.1:8081) and says what to do when
something is wrong: the runtime is not reachable, an address is malformed, no endpoint serves a
function type (the server's own 404 text).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from baton.cli.admin_client import DEFAULT_ADMIN, AdminClient, AdminError
from baton.module.kinds import (
    PLAYGROUND_EGRESS_ID,
    PLAYGROUND_EGRESS_RECORD_TYPE,
    WORKFLOW_START_TYPENAME,
)
from baton.runtime.address import Address
from baton.runtime.typed_values import encode_builtin, is_builtin

BUILTIN_NAMESPACE = "io.statefun.types"
BUILTIN_SHORT = ("string", "int", "long", "bool", "double", "float")

admin_option = click.option(
    "--admin", "admin_url", default=DEFAULT_ADMIN, show_default=True, envvar="BATON_ADMIN",
    metavar="URL", help="The admin API of the running baton (env BATON_ADMIN).",
)


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an address: write <namespace>/<type>/<id>, e.g. orders/order/o-0001",
            param_hint="ADDRESS",
        ) from None


def _path(address: Address) -> str:
    return "/".join(quote(part, safe="") for part in address)


def _call(client: AdminClient, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float | None = None) -> tuple[int, bytes]:
    try:
        return client.request(method, path, body, headers, timeout)
    except AdminError as error:
        raise click.ClickException(str(error)) from None
    except ValueError as error:  # a malformed --admin URL
        raise click.BadParameter(f"{error}; write e.g. {DEFAULT_ADMIN}", param_hint="--admin") from None


def _fail(status: int, body: bytes, what: str) -> click.ClickException:
    text = body.decode("utf-8", "replace").strip() or f"HTTP {status}"
    return click.ClickException(f"{what}: {text} (HTTP {status})")


def get_json(client: AdminClient, path: str, what: str) -> Any:
    """GET a JSON document from the admin API, turning failures into CLI errors."""
    status, body = _call(client, "GET", path)
    if status != 200:
        raise _fail(status, body, what)
    return json.loads(body)


# --- send -------------------------------------------------------------------------------------


def resolve_typename(type_: str) -> str:
    """`int` → `io.statefun.types/int`; `<namespace>/<name>` as it is."""
    if type_ in BUILTIN_SHORT:
        return f"{BUILTIN_NAMESPACE}/{type_}"
    if type_.count("/") != 1 or type_.startswith("/") or type_.endswith("/"):
        raise click.BadParameter(
            f"{type_!r} is not a typename: write <namespace>/<name> (e.g. orders/OrderHeader) or "
            f"one of {', '.join(BUILTIN_SHORT)}",
            param_hint="--type",
        )
    return type_


def read_data(data: str | None) -> bytes:
    """DATA as bytes: `-` reads stdin, `@path` reads a file, anything else is the text itself."""
    if data is None and sys.stdin.isatty():
        raise click.UsageError("give DATA: the text itself, @file, or - to read stdin")
    if data is None or data == "-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as error:
            raise click.BadParameter(f"cannot read {data[1:]}: {error.strerror}", param_hint="DATA") from None
    return data.encode()


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def encode_value(typename: str, raw: bytes) -> bytes:
    """The message body: built-in types encoded as StateFun does; anything else sent as given."""
    if not is_builtin(typename):
        return raw
    kind = typename.rpartition("/")[2]
    text = raw.decode("utf-8")
    try:
        if kind == "string":
            return encode_builtin(typename, text)
        stripped = text.strip()
        if kind in ("int", "long"):
            value: Any = int(stripped)
            bits = 31 if kind == "int" else 63
            if not -(2**bits) <= value < 2**bits:
                raise ValueError(f"out of range for {kind}")
        elif kind in ("double", "float"):
            value = float(stripped)
        else:
            lowered = stripped.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError("write true or false")
            value = lowered in _TRUE
        return encode_builtin(typename, value)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a {kind}: {error}", param_hint="DATA") from None


@click.command(short_help="Send a message to an address.")
@click.argument("address")
@click.argument("data", required=False)
@click.option("--type", "-t", "type_", default=None, metavar="TYPE",
              help="The message's typename (<namespace>/<name>), or string, int, long, bool, "
              "double, float (encoded as StateFun's built-in types). Default: "
              f"{WORKFLOW_START_TYPENAME} (JSON) for a workflow, else string.")
@click.option("--idempotency-key", "key", default=None, metavar="KEY",
              help="Sent as Idempotency-Key (default: a new random key), so that a retry of "
              "this very request is not delivered twice; reuse a key to retry safely.")
@admin_option
def send(address: str, data: str | None, type_: str | None, key: str | None, admin_url: str) -> None:
    """Send DATA as a message to ADDRESS (<namespace>/<type>/<id>), like an ingress would.

    DATA is the text itself, `-` (or nothing) for stdin, or `@file` for a file's bytes. With a
    typename of your own (a JSON type, a protobuf type) DATA is sent as it is; with a built-in
    type it is parsed and encoded the way the SDKs do (`--type int 42`).

    \b
    Examples:
      baton send orders/order/o-1 --type orders/OrderHeader '{"line_count": 1}'
      baton send orders/order/o-1 --type orders/OrderLine @line.json
      baton send example/counter/a --type int 42
      baton send example/counter/a --type long -- -5    # `--` before a negative number
      baton send example/greeter/Bob "Hello"         # io.statefun.types/string
      baton send orders/fulfillment/o-1 '{"order_id": "o-1"}'   # a workflow: JSON input
      protoc --encode=orders.OrderLine orders.proto < line.txt | \\
        baton send orders/order/o-1 --type type.googleapis.com/orders.OrderLine -
    """
    target = _address(address)
    client = AdminClient(admin_url)
    if type_ is None:
        typename = WORKFLOW_START_TYPENAME if _is_workflow(client, target) else f"{BUILTIN_NAMESPACE}/string"
    else:
        typename = resolve_typename(type_)
    body = encode_value(typename, read_data(data))
    if typename == WORKFLOW_START_TYPENAME:
        try:
            json.loads(body)
        except ValueError as error:
            raise click.BadParameter(
                f"a workflow's input is JSON ({error}); e.g. '{{\"order_id\": \"o-1\"}}'",
                param_hint="DATA",
            ) from None
    status, reply = _call(
        client, "POST", f"/send/{_path(target)}", body,
        {"Content-Type": f"application/vnd.{typename}", "Idempotency-Key": key or str(uuid.uuid4())},
    )
    if status == 200:
        click.echo(f"already sent to {target} (same idempotency key); not delivered again")
        return
    if status != 202:
        raise _fail(status, reply, f"not sent to {target}")
    click.echo(f"sent to {target}: {typename}, {len(body)} bytes")


def _is_workflow(client: AdminClient, target: Address) -> bool:
    """Whether a running baton serves the target's function type as a workflow."""
    status, body = _call(client, "GET", "/workflows")
    if status != 200:
        return False
    function_type = f"{target.namespace}/{target.type}"
    return any(w.get("workflow") == function_type for w in json.loads(body))


# --- state ------------------------------------------------------------------------------------


def _value_of(entry: dict[str, Any]) -> Any:
    """The readable value of an admin state entry: decoded, JSON, or base64 (marked)."""
    if "value" in entry:
        return entry["value"]
    if "json" in entry:
        return entry["json"]
    return {"base64": entry.get("base64")}


def _expires(at: float | None) -> str:
    if at is None:
        return ""
    left = at - time.time()
    return f"  (expires in {left:,.0f} s)" if left > 0 else "  (expired)"


@click.command(short_help="Show an address's state, decoded.")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="Print the admin API's JSON document as it is.")
@admin_option
def state(address: str, as_json: bool, admin_url: str) -> None:
    """Show the state of ADDRESS (<namespace>/<type>/<id>): every stored value, decoded.

    Built-in types are decoded, JSON types shown as JSON, anything else as base64. The
    address's backlog (messages not yet applied) and parked reason follow.

    \b
    Examples:
      baton state orders/order/o-0001
      baton state orders/fulfillment/o-0001 --json | jq .state.execution.json
    """
    target = _address(address)
    data = get_json(AdminClient(admin_url), f"/state/{_path(target)}", f"no state for {target}")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    values = data.get("state") or {}
    click.secho(str(target), bold=True)
    if not values:
        click.echo("  no state (never written, deleted, or expired)")
    for name, entry in values.items():
        click.echo(f"  {name}  [{entry.get('typename')}]{_expires(entry.get('expires_at'))}")
        rendered = json.dumps(_value_of(entry), indent=2, ensure_ascii=False)
        click.echo("\n".join(f"    {line}" for line in rendered.splitlines()))
    if data.get("backlog"):
        click.echo(f"  backlog: {data['backlog']} message(s) not yet applied")
    if data.get("parked"):
        click.echo(f"  PARKED: {data['parked']}  (baton resume {target} | baton dead-letter {target})")


@click.command(short_help="List the addresses of a function type that hold state.")
@click.argument("function_type", metavar="TYPE")
@click.option("--prefix", default="", help="Only ids starting with this.")
@click.option("--after", default=None, metavar="ID", help="Start after this id (the next page).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="At most this many.")
@click.option("--all", "every", is_flag=True, help="Every page, not just the first.")
@admin_option
def addresses(function_type: str, prefix: str, after: str | None, limit: int, every: bool,
              admin_url: str) -> None:
    """List the addresses of function TYPE (<namespace>/<name>) that hold state, one per line,
    in id order, read page by page from the store.

    \b
    Examples:
      baton addresses orders/order                  # the first 50
      baton addresses orders/order --prefix o-00 --all
      baton addresses orders/fulfillment --after o-0050
    """
    if function_type.count("/") != 1 or function_type.startswith("/") or function_type.endswith("/"):
        raise click.BadParameter(
            f"{function_type!r} is not a function type: write <namespace>/<name>, e.g. orders/order",
            param_hint="TYPE",
        )
    client = AdminClient(admin_url)
    path = f"/addresses/{'/'.join(quote(p, safe='') for p in function_type.split('/'))}"
    shown = 0
    while True:
        query = f"?limit={limit}&prefix={quote(prefix, safe='')}"
        if after is not None:
            query += f"&after={quote(after, safe='')}"
        page = get_json(client, path + query, f"cannot list addresses of {function_type}")
        for address in page["addresses"]:
            click.echo(address)
        shown += len(page["addresses"])
        after = page["next"]
        if after is None:
            break
        if not every:
            click.echo(f"(more: baton addresses {function_type} --after {after})", err=True)
            break
    if shown == 0:
        matching = f" with id prefix {prefix!r}" if prefix else ""
        click.echo(f"no address of {function_type} holds state{matching}", err=True)


# --- egress -----------------------------------------------------------------------------------


def render_record(record: dict[str, Any]) -> str:
    """One egress record as one line: a playground payload as it is, anything else as JSON.

    Kafka and Kinesis egresses publish their records (the admin API answers 409 for them).
    """
    typename = record.get("typename")
    if typename == PLAYGROUND_EGRESS_RECORD_TYPE and isinstance(record.get("json"), dict):
        return str(record["json"].get("payload"))
    return json.dumps(record)


@click.command(short_help="Take records from an egress topic (--follow: keep waiting).")
@click.argument("topic")
@click.option("--egress", "egress_id", default=str(PLAYGROUND_EGRESS_ID), show_default=True,
              metavar="NS/NAME",
              help="The egress id (a playground egress; Kafka and Kinesis egresses publish their records).")
@click.option("--follow", "-f", is_flag=True, help="Keep waiting for records until Ctrl-C.")
@click.option("--wait", default=1.0, show_default=True, type=click.FloatRange(0, 60),
              help="Without --follow: stop once no record came for this many seconds.")
@click.option("--max", "limit", type=click.IntRange(1), default=None, help="Stop after N records.")
@admin_option
def egress(topic: str, egress_id: str, follow: bool, wait: float, limit: int | None,
           admin_url: str) -> None:
    """Take records from TOPIC of an egress and print one per line.

    Taking removes a record from baton's outbox (as the playground egress's GET /<topic> does),
    so each record is printed once, by whichever reader takes it. Playground payloads are printed
    as they are; Kinesis records as JSON with their key and value. A Kafka egress's records are
    published to Kafka: read them there.

    \b
    Examples:
      baton egress orders-completed                  # what is there now
      baton egress orders-incomplete --follow        # and whatever comes, until Ctrl-C
      baton egress orders --egress example/kinesis --max 10 | jq .value
    """
    if egress_id.count("/") != 1:
        raise click.BadParameter(f"{egress_id!r}: write <namespace>/<name>", param_hint="--egress")
    client = AdminClient(admin_url)
    path = f"/egress/{egress_id}/{quote(topic, safe='')}"
    per_request = 30.0 if follow else wait
    taken = 0
    try:
        while limit is None or taken < limit:
            status, body = _call(client, "GET", f"{path}?wait={per_request:g}", timeout=per_request + 30)
            if status == 404 and not body:
                if follow:
                    continue
                break
            if status != 200:
                raise _fail(status, body, f"cannot read {egress_id} topic {topic}")
            click.echo(render_record(json.loads(body)))
            taken += 1
    except KeyboardInterrupt:
        pass
    if not follow and taken == 0:
        click.echo(f"no records in {egress_id} topic {topic!r} (waited {wait:g} s)", err=True)


# --- parked addresses and dead letters -------------------------------------------------------


def _age(since: float) -> str:
    seconds = max(0.0, time.time() - since)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@click.command(short_help="List parked addresses and why they are parked.")
@click.option("--json", "as_json", is_flag=True, help="Print the admin API's JSON as it is.")
@admin_option
def parked(as_json: bool, admin_url: str) -> None:
    """List parked addresses: where baton stopped invoking, why, and what waits there.

    An address is parked where StateFun would restart the whole job (a call failing past its
    timeout, a malformed reply, ...). Fix the cause, then `baton resume ADDRESS`, or move the
    message that fails to the dead letters with `baton dead-letter ADDRESS`.

    \b
    Example:
      baton parked
    """
    listing = get_json(AdminClient(admin_url), "/parked", "cannot list parked addresses")
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    if not listing:
        click.echo("no parked addresses")
        return
    for entry in listing:
        click.secho(entry["address"], bold=True, nl=False)
        click.echo(f"  parked {_age(entry['since'])} ago, {entry['backlog']} message(s) waiting")
        click.echo(f"    {entry['reason']}")


@click.command(short_help="Invoke a parked address (or every one) again.")
@click.argument("address", required=False)
@click.option("--all", "every", is_flag=True, help="Resume every parked address.")
@admin_option
def resume(address: str | None, every: bool, admin_url: str) -> None:
    """Invoke a parked ADDRESS again (after fixing what made it fail), or all of them.

    \b
    Examples:
      baton resume orders/order/o-0042
      baton resume --all
    """
    if (address is None) == (not every):
        raise click.UsageError("give an ADDRESS or --all (not both)")
    client = AdminClient(admin_url)
    if address is not None:
        targets = [_address(address)]
    else:
        listing = get_json(client, "/parked", "cannot list parked addresses")
        targets = [Address.parse(entry["address"]) for entry in listing]
        if not targets:
            click.echo("no parked addresses")
    for target in targets:
        status, body = _call(client, "POST", f"/parked/{_path(target)}/resume")
        if status != 200:
            raise _fail(status, body, f"cannot resume {target}")
        click.echo(f"resumed {target}")


@click.command(name="dead-letter", short_help="Dead-letter a parked address's first message, resume it.")
@click.argument("address")
@admin_option
def dead_letter(address: str, admin_url: str) -> None:
    """Move the first message of a parked ADDRESS to the dead letters, then resume it.

    \b
    Example:
      baton dead-letter orders/order/o-0042
      baton dead-letters                         # what was moved, and why
    """
    target = _address(address)
    status, body = _call(AdminClient(admin_url), "POST", f"/parked/{_path(target)}/dead-letter")
    if status != 200:
        raise _fail(status, body, f"cannot dead-letter at {target}")
    moved = json.loads(body)["dead_lettered"]
    argument = moved.get("argument") or {}
    click.echo(f"dead-lettered a {argument.get('typename')} message to {target} and resumed it")


@click.command(name="dead-letters", short_help="List dead-lettered messages and why; re-send one.")
@click.option("--resend", "index", type=click.IntRange(0), default=None, metavar="INDEX",
              help="Deliver dead letter INDEX (its `index` in the list) again, once.")
@admin_option
def dead_letters(index: int | None, admin_url: str) -> None:
    """List the dead-lettered messages, with the reason each was moved (as JSON lines).

    After fixing the cause, `--resend INDEX` delivers a dead letter again, exactly as it was
    (typename, bytes and caller); a letter is re-sent at most once.

    \b
    Examples:
      baton dead-letters | jq -r .reason
      baton dead-letters --resend 0
    """
    client = AdminClient(admin_url)
    if index is not None:
        status, body = _call(client, "POST", f"/dead-letters/{index}/resend")
        if status != 202:
            raise _fail(status, body, f"cannot re-send dead letter {index}")
        click.echo(f"re-sent dead letter {index} to {json.loads(body)['resent']['target']}")
        return
    for letter in get_json(client, "/dead-letters", "cannot list dead letters"):
        click.echo(json.dumps(letter))


COMMANDS = (send, state, addresses, egress, parked, resume, dead_letter, dead_letters)
