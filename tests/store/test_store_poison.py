"""Issue 14.4 and the lost-rows items: one bad question never costs other people's records, a
store failure shows (``store_up`` 0, /readyz detail), and a deleted or replaced SQLite file is
reopened instead of silently receiving writes nobody will ever read."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.metrics import Metrics
from bot.models import Band, ChannelType, Platform
from bot.ports import QuestionRecord
from bot.service import QAService
from bot.store import open_store
from bot.store.base import FeedbackRow, QuestionRow
from bot.store.recorder import StoreRecorder
from bot.store.sqlite import SQLiteStore
from tests.helpers import sample
from tests.store.test_store_recorder import ask, read_back

NOW = 1_750_000_000.0


def record(text: str) -> QuestionRecord:
    return QuestionRecord(text, Platform.SLACK, ChannelType.CHANNEL, Band.DECLINED, None, 0.1)


def test_one_poison_question_never_drops_the_batch(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    recorder = StoreRecorder(lambda: open_store(store_url), metrics=metrics)
    texts = [f"question {i}" for i in range(20)]
    for text in texts[:10]:  # queued before the writer starts: one batch with the poison inside
        recorder.record_question(record(text))
    recorder.record_question(record("a lone surrogate \ud800 straight from a client"))
    for text in texts[10:]:
        recorder.record_question(record(text))
    with caplog.at_level(logging.WARNING, logger="kubebot.store"):
        recorder.start()
        assert recorder.flush(10)
    recorder.close()
    assert [r.text for r in read_back(store_url)[0]] == texts
    assert (recorder.written, recorder.rejected, recorder.dropped) == (20, 1, 1)
    assert sample(metrics, "kubebot_store_up") == 1  # the store is fine
    assert sample(metrics, "kubebot_store_dropped_total") == 1
    lines = [r.getMessage() for r in caplog.records if "event=store_rows_rejected" in r.getMessage()]
    assert len(lines) == 1 and "count=1" in lines[0] and "UnicodeEncodeError" in lines[0]
    assert "surrogate" not in lines[0]  # the question text is never logged


class BrokenStore:
    """A store whose driver raises something that is not a StoreError."""

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> int:
        raise RuntimeError("driver bug: cursor already closed")

    def questions_since(self, since: float) -> list[QuestionRow]:
        return []

    def feedback_since(self, since: float) -> list[FeedbackRow]:
        return []

    def schema_version(self) -> int:
        return 2

    def close(self) -> None:
        return None


def test_any_store_failure_flips_store_up_and_the_health_detail(service: QAService) -> None:
    metrics = Metrics()
    recorder = StoreRecorder(BrokenStore, metrics=metrics, where="/data/kubebot.db").start()
    service.recorder = recorder
    assert recorder.health().up
    ask(service, "what is a pod")
    assert recorder.flush(10)
    health = recorder.health()
    recorder.close()
    assert sample(metrics, "kubebot_store_up") == 0 and recorder.dropped == 1
    assert not health.up and health.down_since is not None and health.dropped == 1
    line = health.line()
    assert line.startswith("store: down since ") and "/data/kubebot.db" in line
    assert "RuntimeError: driver bug" in line


def test_an_unopenable_store_shows_in_the_health_detail(service: QAService, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    secret = "postgresql://bot:hunter2@127.0.0.1:1/kubebot"
    recorder = StoreRecorder(
        lambda: open_store(str(tmp_path / "file" / "k.db")), metrics=Metrics(), where=secret
    ).start()
    service.recorder = recorder
    ask(service, "what is a pod")
    assert recorder.flush(10)
    line = recorder.health().line()
    recorder.close()
    assert "store: down" in line and "cannot open SQLite database" in line
    assert "hunter2" not in line


# -- the SQLite file under the store ---------------------------------------------------------------
def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_deleted_sqlite_file_is_recreated_not_written_into_the_void(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "k.db"
    store = SQLiteStore(db)
    store.write([QuestionRow(NOW, "slack", "channel", "declined", None, 0.1, "before")], [])
    _remove_db(db)  # an operator "cleans up", or a volume is swapped
    with caplog.at_level(logging.WARNING, logger="kubebot.store"):
        assert (
            store.write([QuestionRow(NOW + 1, "slack", "channel", "declined", None, 0.1, "after")], []) == 0
        )
    store.close()
    assert db.exists()
    assert [r.text for r in read_back(str(db))[0]] == ["after"]
    assert any(
        "event=sqlite_reopened" in r.getMessage() and "reason=deleted" in r.getMessage()
        for r in caplog.records
    )


def test_a_replaced_sqlite_file_is_reopened(tmp_path: Path) -> None:
    db, other = tmp_path / "k.db", tmp_path / "restored.db"
    store = SQLiteStore(db)
    store.write([QuestionRow(NOW, "slack", "channel", "declined", None, 0.1, "old file")], [])
    restored = SQLiteStore(other)  # a backup restored over the live file
    restored.write([QuestionRow(NOW + 1, "slack", "channel", "declined", None, 0.1, "restored")], [])
    restored.close()
    os.replace(other, db)
    for suffix in ("-wal", "-shm"):
        Path(f"{other}{suffix}").unlink(missing_ok=True)
    store.write([QuestionRow(NOW + 2, "slack", "channel", "declined", None, 0.1, "after")], [])
    store.close()
    assert [r.text for r in read_back(str(db))[0]] == ["restored", "after"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_recorder_loses_nothing_when_the_file_is_deleted(service: QAService, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    metrics = Metrics()
    recorder = StoreRecorder(lambda: open_store(str(db)), metrics=metrics).start()
    service.recorder = recorder
    ask(service, "what is a pod")
    assert recorder.flush(10)
    _remove_db(db)
    ask(service, "what is a node")
    assert recorder.flush(10)
    recorder.close()
    assert [r.text for r in read_back(str(db))[0]] == ["what is a node"]
    assert recorder.dropped == 0 and sample(metrics, "kubebot_store_up") == 1
