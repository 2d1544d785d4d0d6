"""The storage interface, the row types it stores, and how a recorded question becomes a row.

Two backends implement `Store`: SQLite (the default, a file under the user's data dir) and
PostgreSQL (when KUBEBOT_DB is a ``postgresql://`` URL, for several replicas). Rows never hold a
user id; the question text is kept in full, as a sha256 hash, or not at all (KUBEBOT_STORE_QUESTIONS).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.ports import FeedbackRecord, QuestionRecord
from bot.text import normalize_basic

if TYPE_CHECKING:
    from bot.store.picks import PickRow

STORE_MODES = ("full", "hash", "off")


class StoreError(Exception):
    """The store could not be opened, migrated, written or read; the message says why."""


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """One asked question as stored: where (never who), what it matched, and when (epoch seconds)."""

    asked_at: float
    platform: str
    channel_type: str
    band: str
    entry_id: str | None
    confidence: float
    text: str | None = None
    text_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """One 👍/👎; ``entry_id`` is None for feedback on a decline."""

    given_at: float
    entry_id: str | None
    helpful: bool
    platform: str
    channel_type: str
    question: str | None = None
    question_hash: str | None = None


class Store(Protocol):
    """What the recorder and the report need from a database. Methods raise StoreError."""

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> None:
        """Insert the rows in one transaction: all of them or none."""
        ...

    def questions_since(self, since: float) -> list[QuestionRow]: ...

    def feedback_since(self, since: float) -> list[FeedbackRow]: ...

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        """Insert picks (bot.store.picks) in one transaction."""
        ...

    def picks_since(self, since: float) -> list[PickRow]: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


# -- records → rows -----------------------------------------------------------------------------
def question_hash(text: str) -> str:
    """sha256 of the normalised question, so trivially different spellings share a hash."""
    return hashlib.sha256(normalize_basic(text).encode("utf-8")).hexdigest()


def _text_fields(text: str, mode: str) -> tuple[str | None, str | None]:
    if mode == "off" or not text:
        return None, None
    if mode == "hash":
        return None, question_hash(text)
    return text, None


def question_row(record: QuestionRecord, mode: str, now: float) -> QuestionRow:
    text, digest = _text_fields(record.text, mode)
    return QuestionRow(
        asked_at=now,
        platform=record.platform.value,
        channel_type=record.channel_type.value,
        band=record.band.value,
        entry_id=record.entry_id,
        confidence=float(record.confidence),
        text=text,
        text_hash=digest,
    )


def feedback_row(record: FeedbackRecord, mode: str, now: float) -> FeedbackRow:
    text, digest = _text_fields(record.question, mode)
    return FeedbackRow(
        given_at=now,
        entry_id=record.entry_id,
        helpful=record.helpful,
        platform=record.platform.value,
        channel_type=record.channel_type.value,
        question=text,
        question_hash=digest,
    )


# -- where the store lives ------------------------------------------------------------------------
_PG_SCHEMES = ("postgresql://", "postgres://")
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


def is_postgres_url(url: str) -> bool:
    return url.strip().lower().startswith(_PG_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    return _PASSWORD.sub(r"\1***@", url)


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/kubebot/kubebot.db, or ~/.local/share/kubebot/kubebot.db."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".local" / "share"
    return root / "kubebot" / "kubebot.db"


def sqlite_path(url: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The SQLite file for KUBEBOT_DB: a plain path, ``sqlite:///abs/path``, or the default."""
    if not url:
        return default_db_path(env)
    if url.startswith("sqlite:///"):
        return Path("/" + url[len("sqlite:///") :].lstrip("/"))
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://") :])
    if url.startswith("sqlite:"):
        return Path(url[len("sqlite:") :])
    return Path(url).expanduser()


def describe(url: str | None, env: Mapping[str, str] | None = None) -> str:
    """Where the store is, safe to log."""
    if url and is_postgres_url(url):
        return redact_url(url)
    return str(sqlite_path(url, env))


def open_store(url: str | None, env: Mapping[str, str] | None = None) -> Store:
    """Open (creating and migrating as needed) the store KUBEBOT_DB names; raise StoreError."""
    if url and is_postgres_url(url):
        from bot.store.postgres import PostgresStore

        return PostgresStore(url)
    from bot.store.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(url, env))
