"""The reply outbox (/work/plan/OUTBOX.md) on a real SQLite file and a real PostgreSQL server:
durable, idempotent, oldest first, and each due reply handed to one replica only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.base import StoreError
from bot.store.migrations import LATEST_VERSION, MIGRATIONS
from bot.store.outbox import PendingReply, PostgresOutbox, SQLiteOutbox, StoreOutbox, open_outbox
from tests.pg import PgServer

NOW = 1_750_000_000.0


def reply(key: str, created: float = NOW, next_at: float = NOW, **extra: object) -> PendingReply:
    fields: dict[str, object] = {
        "key": key,
        "platform": "slack",
        "method": "chat.postMessage",
        "target": "C1",
        "body": '{"channel": "C1", "text": "What is a Pod? ünïcode ✓", "thread_ts": "1.2"}',
        "created_at": created,
        "expires_at": None,
        "attempts": 0,
        "next_at": next_at,
    }
    fields.update(extra)
    return PendingReply(**fields)  # type: ignore[arg-type]


@pytest.fixture
def outbox(store_url: str) -> Iterator[StoreOutbox]:
    box = open_outbox(store_url, lease_seconds=60, clock=lambda: NOW)
    yield box
    box.close()


def test_the_outbox_is_migration_3_of_the_store(store_url: str, outbox: StoreOutbox) -> None:
    assert [m.version for m in MIGRATIONS if "kubebot_outbox" in m.statements[0]] == [3]
    store = open_store(store_url)
    try:
        assert store.schema_version() == LATEST_VERSION
    finally:
        store.close()
    assert isinstance(outbox, PostgresOutbox if store_url.startswith("postgresql") else SQLiteOutbox)


def test_put_is_idempotent_and_due_is_oldest_first(outbox: StoreOutbox) -> None:
    outbox.put(reply("b", created=NOW - 5))
    outbox.put(reply("a", created=NOW - 10, expires_at=NOW + 1800, method="response_url"))
    outbox.put(reply("later", created=NOW - 20, next_at=NOW + 30))  # not due yet
    outbox.put(reply("a", created=NOW - 10, body="a second put of the same key changes nothing"))
    due = outbox.due(NOW, 10)
    assert [r.key for r in due] == ["a", "b"]
    first = due[0]
    assert (first.method, first.expires_at, first.attempts) == ("response_url", NOW + 1800, 0)
    assert first.body == reply("a").body
    assert due[1].body.endswith('"thread_ts": "1.2"}') and "ünïcode ✓" in due[1].body


def test_due_leases_each_reply_until_done_retried_or_given_up(outbox: StoreOutbox) -> None:
    for i in range(3):
        outbox.put(reply(f"r{i}", created=NOW - 10 + i))
    assert [r.key for r in outbox.due(NOW, 2)] == ["r0", "r1"]
    assert [r.key for r in outbox.due(NOW, 10)] == ["r2"]  # r0, r1 are leased to the first caller
    assert outbox.due(NOW + 1, 10) == []
    outbox.done("r0")
    outbox.retry_at("r1", NOW + 5, 1)
    outbox.give_up("r2", "slack answered channel_not_found")
    assert outbox.due(NOW + 4, 10) == []
    retried = outbox.due(NOW + 5, 10)
    assert [(r.key, r.attempts) for r in retried] == [("r1", 1)]
    assert outbox.due(NOW + 60 + 5, 10)[0].key == "r1"  # a caller that died: due again after the lease
    assert outbox.given_up(NOW - 1) == 1 and outbox.given_up(NOW + 1) == 0
    outbox.retry_at("r2", NOW, 1)  # a given-up reply stays given up
    assert [r.key for r in outbox.due(NOW + 1000, 10)] == ["r1"]


def test_replies_survive_a_restart(store_url: str) -> None:
    first = open_outbox(store_url)
    first.put(reply("kept"))
    first.close()
    again = open_outbox(store_url)
    try:
        assert [r.key for r in again.due(NOW, 10)] == ["kept"]
    finally:
        again.close()


def test_two_replicas_never_get_the_same_due_reply(store_url: str) -> None:
    replicas = [open_outbox(store_url), open_outbox(store_url)]
    keys = [f"k{i:03d}" for i in range(300)]
    for i, key in enumerate(keys):
        replicas[i % 2].put(reply(key, created=NOW - 1000 + i))
    handed: list[list[str]] = [[] for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(handed))

    def drain(worker: int) -> None:  # three workers per replica, as concurrent as it gets
        box = replicas[worker % 2]
        barrier.wait()
        try:
            while batch := box.due(NOW, 7):
                handed[worker].extend(r.key for r in batch)
                for r in batch:
                    box.done(r.key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in range(len(handed))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for box in replicas:
        box.close()
    assert errors == []
    everything = [key for worker in handed for key in worker]
    assert sorted(everything) == keys  # every reply handed out exactly once


def test_a_postgres_failure_is_a_store_error_and_the_outbox_reconnects(
    pg_url: str, pg_server: PgServer
) -> None:
    import psycopg

    box = open_outbox(pg_url)
    box.put(reply("before"))
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:  # a server-side disconnect
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kubebot-outbox'"
        )
    with pytest.raises(StoreError) as raised:
        box.put(reply("lost-connection"))
    assert "PostgreSQL" in str(raised.value)
    box.put(reply("after"))  # a new connection
    assert [r.key for r in box.due(NOW, 10)] == ["after", "before"]  # same created_at: by key
    box.close()


def test_the_sqlite_outbox_follows_kubebot_db(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    box = open_outbox(None, env)
    try:
        assert isinstance(box, SQLiteOutbox)
        assert box.where == str(tmp_path / "xdg" / "kubebot" / "kubebot.db")
    finally:
        box.close()
