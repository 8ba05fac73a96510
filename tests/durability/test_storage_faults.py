"""Storage faults speak plainly and never reset silently (issue 12, item 7)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from baton.module import load_module_text
from baton.runtime import Address, Message, Runtime
from baton.runtime.sqlite_store import SqliteStore, StoreError
from tests.conftest import ROOT, eventually, playground_module
from tests.durability.test_sqlite_store import counter_functions
from tests.runtime.test_python_sdk import JSON

NOBODY = 65534


def _unprivileged() -> list[str]:
    """A command prefix that drops root: root ignores file permissions, a user does not."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without `setpriv`: cannot run baton as a user who is "
                    "subject to file permissions")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory the unprivileged user can reach (pytest's are root-only)."""
    path = Path(tempfile.mkdtemp(prefix="baton-faults-"))
    path.chmod(0o755)
    yield path
    for entry in path.rglob("*"):
        if entry.is_dir():
            entry.chmod(0o755)
    shutil.rmtree(path)


async def _baton_run(tmp_path: Path, data_dir: Path) -> tuple[int, str]:
    module = tmp_path / "module.yaml"
    module.write_text(playground_module("http://127.0.0.1:9/statefun"))
    proc = await asyncio.create_subprocess_exec(
        *_unprivileged(), sys.executable, "-m", "baton.cli", "run", str(module),
        "--data-dir", str(data_dir), "--admin-port", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    return proc.returncode or 0, err.decode()


def _owned_by_runner(path: Path) -> None:
    if os.geteuid() == 0:
        for entry in (path, *path.iterdir()):
            os.chown(entry, NOBODY, NOBODY)


async def test_a_read_only_data_dir_is_a_clean_error(open_tmp):
    tmp_path = open_tmp
    data = tmp_path / "data"
    data.mkdir()
    _owned_by_runner(data)
    data.chmod(0o555)
    code, err = await _baton_run(tmp_path, data)
    assert code == 1 and "Traceback" not in err
    assert f"cannot write to data dir {data}" in err and "writable" in err


async def test_a_read_only_database_file_is_refused_at_start(open_tmp):
    tmp_path = open_tmp
    data = tmp_path / "data"
    SqliteStore(data).close()
    _owned_by_runner(data)
    (data / "baton.db").chmod(0o444)
    code, err = await _baton_run(tmp_path, data)
    assert code == 1 and "Traceback" not in err
    assert "read-only" in err and "writable" in err


def test_an_empty_file_where_a_database_was_is_refused(tmp_path):
    (tmp_path / "baton.db").write_bytes(b"")
    with pytest.raises(StoreError, match=r"holds no baton tables \(0 bytes\)"):
        SqliteStore(tmp_path)
    assert (tmp_path / "baton.db").read_bytes() == b""  # left as it was


def test_a_database_that_lost_its_tables_is_refused(tmp_path):
    SqliteStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "baton.db") as db:
        db.execute("DROP TABLE mailbox")
        db.execute("DROP TABLE state")
    with pytest.raises(StoreError, match="lost its tables state, mailbox"):
        SqliteStore(tmp_path)


def test_fsync_full_sets_synchronous_full(tmp_path):
    store = SqliteStore(tmp_path, fsync="full")
    try:
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
    store = SqliteStore(tmp_path)
    try:
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        store.close()


async def test_a_full_disk_answers_503_saying_the_disk_is_full(tmp_path, function_server):
    url = await function_server(counter_functions())
    store = SqliteStore(tmp_path / "data")
    module = load_module_text(playground_module(url), "module.yaml")
    runtime = Runtime(module, store, admin_port=None)
    await runtime.start()
    try:
        pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
        store._writer.execute(f"PRAGMA max_page_count={pages}")  # the disk is now "full"
        big = json.dumps({"label": "x" * 200_000}).encode()
        target = Address("example", "counter", "x")
        pending = asyncio.create_task(runtime.ingest(Message(target, None, JSON.typename, big)))
        await eventually(lambda: store.error is not None)
        assert "the disk holding" in store.error and "is full" in store.error
        assert "cannot rollback" not in store.error
        ingress = runtime.url_of("ingress")
        async with aiohttp.ClientSession() as session, session.put(
            f"{ingress}/example/counter/y", data=b"{}",
            headers={"Content-Type": "application/vnd.example/Json"},
        ) as response:
            assert response.status == 503 and response.headers["Retry-After"]
            assert "is full" in await response.text()
        store._writer.execute("PRAGMA max_page_count=1073741823")  # space again
        await asyncio.wait_for(pending, 10)
        assert store.error is None
    finally:
        await runtime.stop()
