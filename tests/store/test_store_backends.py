"""The storage contract, run against a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest

from bot.store.base import FeedbackRow, QuestionRow, StoreError, is_postgres_url, open_store
from bot.store.migrations import LATEST_VERSION
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore

NOW = 1_750_000_000.0


def q(
    at: float, text: str | None = "what is a pod", band: str = "answered", entry: str | None = "pod"
) -> QuestionRow:
    return QuestionRow(at, "slack", "channel", band, entry, 0.8125, text, None)


def test_round_trip_keeps_every_field(store_url: str) -> None:
    store = open_store(store_url)
    try:
        questions = [
            q(NOW - 10),
            QuestionRow(NOW - 5, "discord", "direct", "declined", None, 0.125, None, "ab" * 32),
            q(NOW, "kubectl logs ünïcode ✓", "suggested", None),
        ]
        feedback = [
            FeedbackRow(NOW - 4, "pod", True, "slack", "channel", "what is a pod", None),
            FeedbackRow(NOW - 3, None, False, "discord", "command", None, "cd" * 32),
        ]
        store.write(questions, feedback)
        assert store.questions_since(0) == questions
        assert store.feedback_since(0) == feedback
        # the period filter is inclusive of its start and drops older rows
        assert store.questions_since(NOW - 5) == questions[1:]
        assert store.feedback_since(NOW - 3.5) == feedback[1:]
    finally:
        store.close()


def test_schema_is_created_versioned_and_not_remigrated(store_url: str) -> None:
    store = open_store(store_url)
    assert store.schema_version() == LATEST_VERSION
    store.write([q(NOW)], [])
    store.close()
    again = open_store(store_url)
    try:
        assert again.schema_version() == LATEST_VERSION
        assert len(again.questions_since(0)) == 1
    finally:
        again.close()


def _open(url: str, migrate_to: int) -> SQLiteStore | PostgresStore:
    if is_postgres_url(url):
        return PostgresStore(url, migrate_to=migrate_to)
    return SQLiteStore(url, migrate_to=migrate_to)


def _indexes(store: SQLiteStore | PostgresStore) -> set[str]:
    if isinstance(store, SQLiteStore):
        rows = store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    else:
        rows = store._conn.execute("SELECT indexname FROM pg_indexes").fetchall()
    return {str(r[0]) for r in rows}


def test_an_old_database_is_migrated_in_place(store_url: str) -> None:
    old = _open(store_url, migrate_to=1)
    assert old.schema_version() == 1
    assert "kubebot_questions_asked_at" not in _indexes(old)
    old.write([q(NOW)], [FeedbackRow(NOW, "pod", True, "slack", "channel", "q", None)])
    old.close()

    new = _open(store_url, migrate_to=LATEST_VERSION)
    try:
        assert new.schema_version() == LATEST_VERSION == 4
        assert {"kubebot_questions_asked_at", "kubebot_feedback_given_at"} <= _indexes(new)
        assert "kubebot_picks_picked_at" in _indexes(new)
        assert new.questions_since(0) == [q(NOW)]
        assert len(new.feedback_since(0)) == 1
    finally:
        new.close()


def test_a_batch_is_written_whole_or_not_at_all(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.write([q(NOW - 1)], [])
        broken = QuestionRow(NOW, cast(Any, None), "channel", "answered", "pod", 0.5)  # platform is NOT NULL
        with pytest.raises(StoreError):
            store.write([q(NOW), broken], [FeedbackRow(NOW, "pod", True, "slack", "channel")])
        assert store.questions_since(0) == [q(NOW - 1)]
        assert store.feedback_since(0) == []
        store.write([q(NOW + 1)], [])  # the store is still usable after a failed batch
        assert len(store.questions_since(0)) == 2
    finally:
        store.close()


def test_replicas_starting_together_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Any] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(open_store(store_url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [s.schema_version() for s in stores] == [LATEST_VERSION] * 4
    for i, s in enumerate(stores):
        s.write([q(NOW + i)], [])
    assert len(stores[0].questions_since(0)) == 4
    for s in stores:
        s.close()
