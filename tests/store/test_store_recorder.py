"""The recorder: what the service records ends up in the store, and nothing ever blocks an answer."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.metrics import Metrics
from bot.models import Band, ChannelType, Message, Platform, ReplyKind
from bot.ports import QuestionRecord
from bot.service import QAService
from bot.store import Store, open_store
from bot.store.base import FeedbackRow, QuestionRow
from bot.store.recorder import MetricsRecorder, StoreRecorder
from bot.text import normalize_basic
from tests.helpers import sample

if TYPE_CHECKING:
    from tests.pg import PgServer


def ask(service: QAService, text: str) -> ReplyKind:
    return service.answer(text, Message(text, Platform.SLACK, ChannelType.CHANNEL, "C1")).kind


def read_back(url: str) -> tuple[list[QuestionRow], list[FeedbackRow]]:
    store = open_store(url)
    try:
        return store.questions_since(0), store.feedback_since(0)
    finally:
        store.close()


def test_questions_and_feedback_reach_the_store(service: QAService, store_url: str) -> None:
    recorder = StoreRecorder(lambda: open_store(store_url), metrics=Metrics()).start()
    service.recorder = recorder
    assert ask(service, "what is a pod") is ReplyKind.ANSWER
    assert ask(service, "how do i set up istio") is ReplyKind.DECLINE
    service.feedback("pod", True, Message("what is a pod", Platform.DISCORD, ChannelType.COMMAND))
    service.feedback(None, False, Message("how do i set up istio", Platform.SLACK, ChannelType.DIRECT))
    assert recorder.flush(10)
    recorder.close()
    questions, feedback = read_back(store_url)
    assert [(r.text, r.band, r.entry_id, r.platform, r.channel_type) for r in questions] == [
        ("what is a pod", "answered", "pod", "slack", "channel"),
        ("how do i set up istio", "declined", None, "slack", "channel"),
    ]
    assert questions[0].confidence > 0.6 and abs(questions[0].asked_at - time.time()) < 60
    assert [(f.entry_id, f.helpful, f.platform, f.channel_type, f.question) for f in feedback] == [
        ("pod", True, "discord", "command", "what is a pod"),
        (None, False, "slack", "direct", "how do i set up istio"),
    ]
    store = open_store(store_url)
    try:  # the 👍 on an answer is also a pick: that entry was right for that question
        picks = [(p.question, p.entry_id, p.kind, p.platform, p.channel_type) for p in store.picks_since(0)]
    finally:
        store.close()
    assert picks == [("what is a pod", "pod", "helpful", "discord", "command")]
    assert recorder.written == 5 and recorder.dropped == 0


@pytest.mark.parametrize("mode", ["hash", "off"])
def test_question_text_can_be_hashed_or_not_kept(service: QAService, tmp_path: Path, mode: str) -> None:
    url = str(tmp_path / "k.db")
    recorder = StoreRecorder(lambda: open_store(url), store_questions=mode, metrics=Metrics()).start()
    service.recorder = recorder
    ask(service, "What is a Pod?")
    service.feedback("pod", False, Message("What is a Pod?", Platform.SLACK, ChannelType.CHANNEL))
    recorder.close()
    (question,), (feedback,) = read_back(url)
    digest = (
        hashlib.sha256(normalize_basic("What is a Pod?").encode()).hexdigest() if mode == "hash" else None
    )
    assert (question.text, question.text_hash) == (None, digest)
    assert (feedback.question, feedback.question_hash) == (None, digest)
    assert question.entry_id == "pod" and question.band == "answered"  # everything else is kept
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("k.db*"))
    assert b"What is a Pod" not in raw and b"what is a pod" not in raw


class SlowStore:
    """A store whose writes wait until released: the database is stuck."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.rows: list[QuestionRow] = []

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> None:
        self.entered.set()
        self.release.wait(120)  # stuck until the test releases it (the bound only ends a broken run)
        self.rows.extend(questions)

    def questions_since(self, since: float) -> list[QuestionRow]:
        return list(self.rows)

    def feedback_since(self, since: float) -> list[FeedbackRow]:
        return []

    def schema_version(self) -> int:
        return 2

    def close(self) -> None:
        self.release.set()


def test_a_stuck_store_never_blocks_an_answer(service: QAService) -> None:
    slow = SlowStore()
    metrics = Metrics()
    recorder = StoreRecorder(lambda: slow, capacity=10, batch_size=1, metrics=metrics).start()
    service.recorder = recorder
    ask(service, "what is a pod")
    assert slow.entered.wait(30)  # the writer holds that row and is stuck in write()
    kinds: set[ReplyKind] = set()
    asker = threading.Thread(target=lambda: kinds.update(ask(service, "what is a pod") for _ in range(300)))
    asker.start()
    asker.join(60)
    # 300 answers while the store is still stuck: had one waited for it, it would still be waiting
    assert not asker.is_alive() and not slow.release.is_set()
    assert kinds == {ReplyKind.ANSWER}
    slow.release.set()
    assert recorder.flush(10)
    recorder.close()
    # one write was in flight, ten were queued; the rest were dropped and counted
    assert recorder.written == len(slow.rows) == 11
    assert recorder.dropped == 290 == sample(metrics, "kubebot_store_dropped_total")


def test_store_down_still_answers_and_logs_once(
    service: QAService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    metrics = Metrics()
    recorder = StoreRecorder(lambda: open_store(str(blocker / "k.db")), retry_seconds=0.01, metrics=metrics)
    service.recorder = MetricsRecorder(recorder.start(), metrics)
    with caplog.at_level(logging.INFO, logger="kubebot.store"):
        for i in range(20):
            assert ask(service, "what is a pod") is ReplyKind.ANSWER
            if i % 5 == 0:
                time.sleep(0.02)  # let the writer retry the connection a few times
        assert recorder.flush(10)
    assert sum("event=store_unavailable" in r.getMessage() for r in caplog.records) == 1
    assert recorder.dropped == 20 and recorder.written == 0 and not recorder.available
    assert sample(metrics, "kubebot_store_up") == 0
    # metrics do not depend on the store
    assert sample(metrics, "kubebot_questions_total", band="answered", platform="slack") == 20
    recorder.close()


def test_the_recorder_reconnects_when_the_store_comes_back(
    service: QAService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parent = tmp_path / "data"
    parent.write_text("a file, so the database cannot be created yet")
    url = str(parent / "k.db")
    recorder = StoreRecorder(lambda: open_store(url), retry_seconds=0.05, metrics=Metrics()).start()
    service.recorder = recorder
    with caplog.at_level(logging.INFO, logger="kubebot.store"):
        ask(service, "what is a pod")
        assert recorder.flush(5)
        assert recorder.dropped == 1
        parent.unlink()
        parent.mkdir()  # the volume is mounted now
        time.sleep(0.06)
        ask(service, "what is a node")
        assert recorder.flush(5)
    recorder.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("event=store_recovered" in m for m in messages)
    assert [r.text for r in read_back(url)[0]] == ["what is a node"]


def test_a_closed_postgres_port_still_answers(
    service: QAService, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql://kubebot@127.0.0.1:{closed_port}/kubebot"
    recorder = StoreRecorder(lambda: open_store(url), metrics=Metrics())
    service.recorder = recorder.start()
    with caplog.at_level(logging.INFO, logger="kubebot.store"):
        assert all(ask(service, "what is a pod") is ReplyKind.ANSWER for _ in range(5))
        assert recorder.flush(10)
    recorder.close()
    unavailable = [r.getMessage() for r in caplog.records if "event=store_unavailable" in r.getMessage()]
    assert len(unavailable) == 1 and "127.0.0.1" in unavailable[0]
    assert recorder.dropped == 5


def test_a_dropped_postgres_connection_is_reopened_without_losing_the_batch(
    service: QAService, pg_url: str, pg_server: PgServer
) -> None:
    import psycopg

    recorder = StoreRecorder(lambda: open_store(pg_url), metrics=Metrics()).start()
    service.recorder = recorder
    ask(service, "what is a pod")
    assert recorder.flush(10)
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:  # a server-side disconnect
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kubebot'"
        )
    ask(service, "what is a node")
    assert recorder.flush(10)
    recorder.close()
    assert [r.text for r in read_back(pg_url)[0]] == ["what is a pod", "what is a node"]
    assert recorder.dropped == 0


def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    url = str(tmp_path / "k.db")
    recorder = StoreRecorder(lambda: open_store(url), metrics=Metrics()).start()
    record = QuestionRecord("q", Platform.SLACK, ChannelType.CHANNEL, Band.DECLINED, None, 0.0)
    for _ in range(500):
        recorder.record_question(record)
    recorder.close()
    assert len(read_back(url)[0]) == 500
    recorder.record_question(record)  # after close: dropped, not raised
    assert recorder.dropped == 1


def test_an_opener_bug_is_just_a_store_down(tmp_path: Path) -> None:
    def broken() -> Store:
        raise RuntimeError("driver exploded")

    recorder = StoreRecorder(broken, metrics=Metrics()).start()
    recorder.record_question(
        QuestionRecord("q", Platform.SLACK, ChannelType.CHANNEL, Band.DECLINED, None, 0.0)
    )
    assert recorder.flush(5)
    assert recorder.dropped == 1
    recorder.close()
