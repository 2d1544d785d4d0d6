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
from dataclasses import dataclass
from typing import Final

from bot.metrics import METRICS, Metrics, count_feedback, observe_question
from bot.ports import FeedbackRecord, PickRecord, QuestionRecord, Recorder
from bot.store import Store
from bot.store.base import FeedbackRow, QuestionRow, StoreError, feedback_row, question_row, redact_url
from bot.store.picks import PickRow, pick_row

log = logging.getLogger("kubebot.store")

_STOP: Final = object()
Item = QuestionRow | FeedbackRow | PickRow


@dataclass(frozen=True, slots=True)
class StoreHealth:
    up: bool
    where: str
    down_since: float | None  # epoch seconds
    error: str | None  # the last failure, without passwords
    dropped: int  # records not stored since start

    def line(self) -> str:
        """One line for /readyz: ``store: up (where)`` or ``store: down since ... (error)``."""
        if self.up:
            return f"store: up ({self.where}) dropped={self.dropped}"
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.down_since or 0))
        error = self.error or "unknown error"
        return f"store: down since {since} ({self.where}): {error}; dropped={self.dropped}"


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
        self.rejected = 0  # rows the database refused (counted in dropped too)
        self._last_error: str | None = None
        self._down_since: float | None = None

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

    def health(self) -> StoreHealth:
        """The store's state for /readyz detail (the store never makes the bot unready)."""
        return StoreHealth(
            up=not self._down,
            where=redact_url(self._where),
            down_since=self._down_since if self._down else None,
            error=self._last_error if self._down else None,
            dropped=self.dropped,
        )

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
        rejected: int | None = None
        try:
            rejected = self._try_write(questions, feedback, picks)
        except Exception as exc:  # a bug must not kill the writer thread, nor hide as "store up"
            log.exception("event=store_write_bug")
            self._mark_down(f"{type(exc).__name__}: {exc}")
        with self._idle:
            if rejected is not None:
                self.written += len(batch) - rejected
                self.rejected += rejected
                self._drop_locked(rejected)  # only the rows the database refused
            else:
                self._drop_locked(len(batch))
            self._pending -= len(batch)
            self._idle.notify_all()

    def _try_write(
        self, questions: list[QuestionRow], feedback: list[FeedbackRow], picks: list[PickRow]
    ) -> int | None:
        """How many rows were not stored (refused, or picks that failed after the questions went
        in), or None: nothing was written."""
        rejected: int | None = None  # set once questions and feedback are in: a retry must not repeat them
        for attempt in (1, 2):  # a second try with a fresh connection (a restarted server, say)
            store = self._open()
            if store is None:
                break
            try:
                if rejected is None:
                    rejected = int(store.write(questions, feedback) or 0)
                if picks:
                    store.write_picks(picks)
            except Exception as exc:  # StoreError, or any driver error that escaped the store
                self._close_store()
                if attempt == 2:
                    self._mark_down(_reason(exc))
                continue
            self._mark_up()
            return rejected
        return None if rejected is None else rejected + len(picks)

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
        self._last_error = redact_url(reason)[:300]
        if not self._down:
            self._down = True
            self._down_since = self._clock()
            log.warning(
                "event=store_unavailable where=%s error=%r retry_seconds=%s note=answers_continue",
                self._where,
                redact_url(reason),  # a driver's message may echo the DSN
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


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"


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
