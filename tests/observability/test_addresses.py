"""Listing the addresses of a function type: paged, by id prefix, from the store (API and CLI)."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from baton.cli import cli
from baton.module.typename import TypeName
from baton.runtime.address import Address
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import MemoryStore, StoredValue
from tests.conftest import playground_module
from tests.runtime.test_python_sdk import greeter_functions

VISITS = StoredValue("io.statefun.types/int", b"\x08\x01", None)


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path)
    yield store
    store.close()


def test_pages_in_id_order_with_a_prefix(store):
    for i in range(25):
        store.put_state(Address("shop", "cart", f"c{i:02d}"), "visits", VISITS)
    store.put_state(Address("shop", "cart", "x"), "visits", VISITS)
    store.put_state(Address("shop", "cartx", "c00"), "visits", VISITS)  # another type, same prefix
    store.put_state(Address("shop", "cart", "c03"), "visits", None)  # no state left
    if isinstance(store, SqliteStore):
        asyncio.run(store.commit())
        store.put_state(Address("shop", "cart", "c05"), "visits", None)  # deleted, not yet committed
        store.put_state(Address("shop", "cart", "c99"), "visits", VISITS)  # not yet committed

    expected = sorted({f"c{i:02d}" for i in range(25)} - {"c03"} | {"x"})
    if isinstance(store, SqliteStore):
        expected = sorted(set(expected) - {"c05"} | {"c99"})
    assert [a.id for a in store.address_page("shop", "cart", limit=10)] == expected[:10]
    everything, after = [], None
    while page := store.address_page("shop", "cart", after=after, limit=7):
        everything += [a.id for a in page]
        after = page[-1].id
    assert everything == expected
    assert [a.id for a in store.address_page("shop", "cart", prefix="c1")] == [f"c1{i}" for i in range(10)]
    assert [a.id for a in store.address_page("shop", "cart", prefix="c1", after="c17")] == ["c18", "c19"]
    assert store.address_page("shop", "cart", prefix="zz") == []


async def test_admin_api_and_cli_list_addresses(function_server, start_app):
    app = await start_app(playground_module(await function_server(greeter_functions())))
    for name in ("ann", "bob", "anna", "al"):
        assert await app.send(f"example/person/{name}", json.dumps({"name": name})) == 202
    await app.runtime.until_idle(10)

    page = await app.admin_get("/addresses/example/person?limit=2&prefix=a")
    assert page == {"function_type": "example/person",
                    "addresses": ["example/person/al", "example/person/ann"], "next": "ann"}
    page = await app.admin_get("/addresses/example/person?limit=2&prefix=a&after=ann")
    assert page["addresses"] == ["example/person/anna"] and page["next"] is None
    async with app.session.get(f"{app.admin}/addresses/example/person?limit=0") as response:
        assert response.status == 400 and "limit" in await response.text()

    def run(*args: str):
        return CliRunner().invoke(cli, [*args, "--admin", app.admin])

    result = await asyncio.to_thread(run, "addresses", "example/person", "--limit", "2", "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [f"example/person/{n}" for n in ("al", "ann", "anna", "bob")]
    result = await asyncio.to_thread(run, "addresses", "example/person", "--limit", "1")
    assert result.stdout.split() == ["example/person/al"]
    assert "--after al" in result.stderr
    result = await asyncio.to_thread(run, "addresses", "example/nobody")
    assert result.exit_code == 0 and "no address of example/nobody holds state" in result.stderr
    result = await asyncio.to_thread(run, "addresses", "person")
    assert result.exit_code != 0 and "<namespace>/<name>" in result.output
    assert TypeName.parse("example/person")  # the type the page names is a real type name
