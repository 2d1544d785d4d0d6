"""What the console reads: a date range of questions, feedback and picks from the store, with the
question text cut down to what KUBEBOT_STORE_QUESTIONS allows before any page sees it.

The store is opened per request (a maintainer tool: a handful of requests), read in a thread, and
never created: a missing SQLite file is "no data yet", as in `kubebot report`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from bot.store import describe, existing_store, store_exists
from bot.store.base import FeedbackRow, QuestionRow, StoreError, question_hash
from bot.store.picks import PickRow

log = logging.getLogger("kubebot.console")
T = TypeVar("T")

DEFAULT_DAYS = 14
MAX_DAYS = 366
PRESETS = (7, 14, 30, 90)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> float:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC).timestamp()

    @property
    def end(self) -> float:
        nxt = self.last + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=UTC).timestamp()

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def today() -> date:
    return datetime.now(UTC).date()


def last_days(days: int, end: date | None = None) -> Period:
    last = end or today()
    return Period(last - timedelta(days=days - 1), last)


def parse_period(query: Mapping[str, str], now: date | None = None) -> tuple[Period, str]:
    """The period in ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (or ``?days=N``), and a notice when the
    request asked for something unusable (the default period is used instead)."""
    end = now or today()
    days = query.get("days", "")
    if days:
        if days.isdigit() and 1 <= int(days) <= MAX_DAYS:
            return last_days(int(days), end), ""
        return last_days(DEFAULT_DAYS, end), f"Ignored days={days[:20]!r}: use 1 to {MAX_DAYS}."
    raw_from, raw_to = query.get("from", ""), query.get("to", "")
    if not raw_from and not raw_to:
        return last_days(DEFAULT_DAYS, end), ""
    try:
        last = date.fromisoformat(raw_to) if raw_to else end
        first = date.fromisoformat(raw_from) if raw_from else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return last_days(DEFAULT_DAYS, end), "Dates must look like 2025-01-31; showing the last 14 days."
    if first > last:
        first, last = last, first
    if (last - first).days + 1 > MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        return Period(first, last), f"A period is at most {MAX_DAYS} days; showing the last {MAX_DAYS}."
    return Period(first, last), ""


@dataclass(frozen=True, slots=True)
class Rows:
    questions: tuple[QuestionRow, ...] = ()
    feedback: tuple[FeedbackRow, ...] = ()
    picks: tuple[PickRow, ...] = ()
    error: str = ""  # the store could not be read (shown on the page)
    missing: bool = False  # no database yet


def redact(rows: Rows, mode: str) -> Rows:
    """Rows as KUBEBOT_STORE_QUESTIONS allows them to be shown: ``hash`` turns any stored text into
    its hash (rows written while the mode was ``full`` included), ``off`` drops text and hashes."""
    if mode == "full":
        return rows

    def cut(text: str | None, digest: str | None) -> tuple[str | None, str | None]:
        if mode == "off":
            return None, None
        return None, digest or (question_hash(text) if text else None)

    questions = []
    for q in rows.questions:
        text, digest = cut(q.text, q.text_hash)
        questions.append(replace(q, text=text, text_hash=digest))
    feedback = []
    for f in rows.feedback:
        text, digest = cut(f.question, f.question_hash)
        feedback.append(replace(f, question=text, question_hash=digest))
    picks = []
    for p in rows.picks:
        text, digest = cut(p.question, p.question_hash)
        picks.append(replace(p, question=text, question_hash=digest))
    return Rows(tuple(questions), tuple(feedback), tuple(picks), rows.error, rows.missing)


def _within(rows: Sequence[T], when: Callable[[T], float], period: Period) -> tuple[T, ...]:
    return tuple(r for r in rows if period.start <= when(r) < period.end)


class StoreReader:
    """Reads a period from the store that KUBEBOT_DB names."""

    def __init__(self, db_url: str | None, store_questions: str = "full") -> None:
        self.db_url = db_url
        self.mode = store_questions
        self.where = describe(db_url)

    def exists(self) -> bool:
        return store_exists(self.db_url)

    def read_sync(self, period: Period) -> Rows:
        try:
            with existing_store(self.db_url) as store:
                if store is None:
                    return Rows(missing=True)
                questions = store.questions_since(period.start)
                feedback = store.feedback_since(period.start)
                picks = store.picks_since(period.start)
        except StoreError as exc:
            log.warning("event=console_store_unreadable where=%s error=%r", self.where, str(exc)[:300])
            return Rows(error=f"cannot read the store ({self.where}): {exc}")
        rows = Rows(
            _within(questions, lambda q: q.asked_at, period),
            _within(feedback, lambda f: f.given_at, period),
            _within(picks, lambda p: p.picked_at, period),
        )
        return redact(rows, self.mode)

    async def read(self, period: Period) -> Rows:
        return await asyncio.to_thread(self.read_sync, period)
