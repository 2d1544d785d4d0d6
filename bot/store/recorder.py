"""Recorders the service writes through: never blocking, never raising.

`StoreRecorder` puts each record on a bounded queue and returns; one background thread opens
the store (lazily, so a slow or absent database never delays start-up), writes in batches and,
when the store is down, drops records, counts them and logs once per outage
(``event=store_unavailable``), retrying the connection every ``retry_seconds``.
`MetricsRecorder` counts questions, latency and feedback for /metrics and passes records on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Final

from bot.metrics import METRICS, Metrics, count_feedback, observe_question
from bot.ports import FeedbackRecord, PickRecord, QuestionRecord, Recorder
from bot.store.base import FeedbackRow, QuestionRow, Store, StoreError, feedback_row, question_row
from bot.store.picks import PickRow, pick_row

log = logging.getLogger("kubebot.store")

_STOP: Final = object()
Item = QuestionRow | FeedbackRow | PickRow


class StoreRecorder:
    """A `Recorder` that writes to a `Store` from one background thread."""

    def __init__(
        self,
        opener: Callable[[], Store],
        *,
        store_questions: str = "full",
        capacity: int = 10_000,
        batch_size: int = 200,
        retry_seconds: float = 30.0,
        where: str = "",
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._opener = opener
        self._mode = store_questions
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, capacity))
        self._batch_size = max(1, batch_size)
        self._retry_seconds = retry_seconds
        self._where = where
        self._metrics = metrics or METRICS
        self._clock = clock
        self._store: Store | None = None
        self._next_open = 0.0
        self._down = False
        self._full_logged = False
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # queued or being written
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0
        self.dropped = 0

    # -- the Recorder protocol (called on the answering path) ----------------------------------
    def record_question(self, record: QuestionRecord) -> None:
        self._offer(lambda: question_row(record, self._mode, self._clock()))

    def record_feedback(self, record: FeedbackRecord) -> None:
        self._offer(lambda: feedback_row(record, self._mode, self._clock()))

    def record_pick(self, record: PickRecord) -> None:
        self._offer(lambda: pick_row(record, self._mode, self._clock()))

    def _offer(self, make: Callable[[], Item]) -> None:
        try:
            item = make()
            with self._lock:
                if self._closed:
                    self._drop_locked(1)
                    return
                self._queue.put_nowait(item)
                self._pending += 1
        except queue.Full:
            with self._lock:
                self._drop_locked(1)
                if not self._full_logged:
                    self._full_logged = True
                    log.warning(
                        "event=store_queue_full capacity=%d where=%s", self._queue.maxsize, self._where
                    )
        except Exception:  # never cost an answer
            log.exception("event=record_failed")

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> StoreRecorder:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kubebot-store", daemon=True)
            self._thread.start()
        return self

    @property
    def available(self) -> bool:
        """False while the store is known to be down."""
        return not self._down

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is written (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to ``timeout``), stop the thread, close the store."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        thread = self._thread
        if thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(_STOP, timeout=timeout)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("event=store_close_timeout pending=%d", self._pending)
        if thread is None or not thread.is_alive():
            self._discard_queue()
            self._close_store()

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        # open eagerly, so a missing database is logged at start-up rather than at the first question
        store = self._open()
        if store is not None:
            self._metrics.store_up.set(1)
            log.info("event=store_opened where=%s schema=%s", self._where, _version(store))
        while True:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[object] = [first]
            stop = False
            while len(batch) < self._batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                break
        self._close_store()

    def _write(self, batch: list[object]) -> None:
        questions = [i for i in batch if isinstance(i, QuestionRow)]
        feedback = [i for i in batch if isinstance(i, FeedbackRow)]
        picks = [i for i in batch if isinstance(i, PickRow)]
        ok = False
        try:
            ok = self._try_write(questions, feedback, picks)
        except Exception:  # a bug must not kill the writer thread
            log.exception("event=store_write_bug")
        with self._idle:
            if ok:
                self.written += len(batch)
            else:
                self._drop_locked(len(batch))
            self._pending -= len(batch)
            self._idle.notify_all()

    def _try_write(
        self, questions: list[QuestionRow], feedback: list[FeedbackRow], picks: list[PickRow]
    ) -> bool:
        main_written = False  # a retry after the picks failed must not write the questions twice
        for attempt in (1, 2):  # a second try with a fresh connection (a restarted server, say)
            store = self._open()
            if store is None:
                return False
            try:
                if not main_written:
                    store.write(questions, feedback)
                    main_written = True
                if picks:
                    store.write_picks(picks)
            except StoreError as exc:
                self._close_store()
                if attempt == 2:
                    self._mark_down(str(exc))
                continue
            self._mark_up()
            return True
        return False

    def _open(self) -> Store | None:
        if self._store is not None:
            return self._store
        now = time.monotonic()
        if now < self._next_open:
            return None
        try:
            self._store = self._opener()
        except StoreError as exc:
            self._mark_down(str(exc))
            return None
        except Exception as exc:  # an unexpected driver error is still just "store down"
            self._mark_down(f"{type(exc).__name__}: {exc}")
            return None
        return self._store

    def _mark_down(self, reason: str) -> None:
        self._next_open = time.monotonic() + self._retry_seconds
        self._metrics.store_up.set(0)
        if not self._down:
            self._down = True
            log.warning(
                "event=store_unavailable where=%s error=%r retry_seconds=%s note=answers_continue",
                self._where,
                reason,
                self._retry_seconds,
            )

    def _mark_up(self) -> None:
        self._metrics.store_up.set(1)
        if self._down:
            self._down = False
            log.info("event=store_recovered where=%s dropped=%d", self._where, self.dropped)

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # pragma: no cover - closing a broken store
                log.debug("event=store_close_failed", exc_info=True)

    def _discard_queue(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                with self._idle:
                    self._pending -= 1
                    self._drop_locked(1)
                    self._idle.notify_all()

    def _drop_locked(self, count: int) -> None:
        self.dropped += count
        self._metrics.store_dropped.inc(amount=count)


def _version(store: Store) -> str:
    try:
        return str(store.schema_version())
    except StoreError:
        return "unknown"


class MetricsRecorder:
    """Counts questions (band, platform, latency) and feedback, then hands records to ``inner``."""

    def __init__(self, inner: Recorder, metrics: Metrics | None = None) -> None:
        self.inner = inner
        self._metrics = metrics or METRICS

    def record_question(self, record: QuestionRecord) -> None:
        try:
            observe_question(record.band.value, record.platform.value, record.latency_seconds, self._metrics)
        except Exception:  # pragma: no cover - counting must not cost an answer
            log.exception("event=metrics_failed")
        self.inner.record_question(record)

    def record_feedback(self, record: FeedbackRecord) -> None:
        try:
            count_feedback(record.helpful, self._metrics)
        except Exception:  # pragma: no cover
            log.exception("event=metrics_failed")
        self.inner.record_feedback(record)

    def record_pick(self, record: PickRecord) -> None:
        self.inner.record_pick(record)
