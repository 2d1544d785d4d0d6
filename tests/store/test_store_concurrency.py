"""Several processes or threads opening one new store at once all succeed and migrate once.

Issue 18: four stores opening the same new SQLite file raced in set-up ("database is locked" from
the WAL switch or the migration's first BEGIN IMMEDIATE, without waiting for the busy timeout).
Each run races on a fresh file or database; threads race several rounds per run, since one round
alone missed the bug about nine times in ten. `pytest --count 200` (pytest-repeat) repeats it.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store import Store, open_store
from bot.store import sqlite as sqlite_module
from bot.store.base import QuestionRow, StoreError, is_postgres_url
from bot.store.migrations import LATEST_VERSION
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite_setup import retry_locked, setup_lock
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parents[2]
REPLICAS = 4
THREAD_ROUNDS = {"sqlite": 8, "postgres": 2}  # a new PostgreSQL database costs ~0.2 s
NOW = 1_750_000_000.0

OPENER = """
import logging, sys
from bot.store import open_store
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
print("ready", flush=True)
sys.stdin.readline()  # every process is imported and waiting: go together
store = open_store(sys.argv[1])
print(store.schema_version(), flush=True)
store.close()
"""


@pytest.fixture(params=["sqlite", "postgres"])
def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes a fresh KUBEBOT_DB for the backend each time it is called."""
    request.node.backend = request.param
    if request.param == "sqlite":
        counter = iter(range(1_000_000))
        return lambda: str(tmp_path / f"data{next(counter)}" / "kubebot.db")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database


def _schema_rows(url: str) -> list[int]:
    """Every row of kubebot_schema: exactly one when set-up ran once."""
    if is_postgres_url(url):
        import psycopg

        with psycopg.connect(url) as conn:
            return [int(r[0]) for r in conn.execute("SELECT version FROM kubebot_schema").fetchall()]
    with sqlite3.connect(url) as conn:
        return [int(r[0]) for r in conn.execute("SELECT version FROM kubebot_schema").fetchall()]


def _check_usable(url: str) -> None:
    store = open_store(url)
    try:
        store.write([QuestionRow(NOW, "slack", "channel", "answered", "pod", 0.5, "q")], [])
        assert len(store.questions_since(0)) == 1
    finally:
        store.close()


def _race_threads(url: str) -> tuple[list[BaseException], list[Store]]:
    errors: list[BaseException] = []
    stores: list[Store] = []
    barrier = threading.Barrier(REPLICAS)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(open_store(url))
        except BaseException as exc:  # collected and asserted by the caller
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(REPLICAS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors, stores


def test_threads_starting_together_all_open_and_migrate_once(
    new_url: Callable[[], str], caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO, logger="kubebot.store")
    for _round in range(THREAD_ROUNDS[request.node.backend]):
        url = new_url()
        caplog.clear()
        errors, stores = _race_threads(url)
        try:
            assert errors == []
            assert [s.schema_version() for s in stores] == [LATEST_VERSION] * REPLICAS
            for i, s in enumerate(stores):
                s.write([QuestionRow(NOW + i, "slack", "channel", "answered", "pod", 0.5, "q")], [])
            assert len(stores[0].questions_since(0)) == REPLICAS
        finally:
            for s in stores:
                s.close()
        assert _schema_rows(url) == [LATEST_VERSION]
        migrated = [r for r in caplog.records if "event=store_migrated" in r.getMessage()]
        assert len(migrated) == 1, [r.getMessage() for r in migrated]


def test_processes_starting_together_all_open_and_migrate_once(new_url: Callable[[], str]) -> None:
    url = new_url()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    try:
        for p in procs:  # wait until each has imported everything, so the opens really overlap
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    errors = [err for p, (_out, err) in zip(procs, results, strict=True) if p.returncode != 0]
    assert errors == []
    assert [out.strip() for out, _err in results] == [str(LATEST_VERSION)] * REPLICAS
    migrated = sum(err.count("event=store_migrated") for _out, err in results)
    assert migrated == 1, [err for _out, err in results]
    assert _schema_rows(url) == [LATEST_VERSION]
    _check_usable(url)


# -- the two mechanisms on their own ---------------------------------------------------------------
def test_locked_errors_are_retried_until_the_step_succeeds() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    def step() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert retry_locked(step, timeout=5.0, sleep=pauses.append) == "done"
    assert len(calls) == 4 and len(pauses) == 3


def test_other_errors_and_an_exhausted_budget_are_raised() -> None:
    def broken() -> None:
        raise sqlite3.OperationalError("no such table: nowhere")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_locked(broken, timeout=5.0, sleep=lambda _s: None)

    def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_locked(locked, timeout=0.0, sleep=lambda _s: None)


def test_set_up_waits_for_another_holder_of_the_set_up_lock(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with setup_lock(db, timeout=5.0):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    opened: list[SQLiteStore] = []
    opener = threading.Thread(target=lambda: opened.append(SQLiteStore(db)))
    opener.start()
    opener.join(0.3)
    assert opener.is_alive() and opened == []  # blocked on the lock, not failing
    release.set()
    opener.join(10)
    thread.join(10)
    assert len(opened) == 1 and opened[0].schema_version() == LATEST_VERSION
    opened[0].close()


def test_a_set_up_lock_held_too_long_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "SETUP_TIMEOUT_S", 0.2)
    db = tmp_path / "k.db"
    with setup_lock(db, timeout=5.0), pytest.raises(StoreError, match=r"k\.db\.lock"):
        SQLiteStore(db)
