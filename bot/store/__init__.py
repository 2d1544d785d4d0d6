"""Question and feedback store (SQLite by default, PostgreSQL optional): the factory.

`open_store` picks the backend KUBEBOT_DB names; the backends (`bot.store.sqlite`,
`bot.store.postgres`) are imported only here, when one is opened; they implement the `Store`
protocol below and depend only on the modules beside them (rows, SQL, migrations), never on this one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from bot.store.base import FeedbackRow, QuestionRow, StoreError, is_postgres_url, redact_url, sqlite_path
from bot.store.picks import PickRow

__all__ = ["Store", "StoreError", "describe", "existing_store", "open_store", "store_exists"]


class Store(Protocol):
    """What the recorder and the report need from a database. Methods raise StoreError."""

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> int:
        """Insert the rows in one transaction. A row whose data the database refuses (a lone
        surrogate, a NUL byte, a NULL where none may be) is left out and the others are written:
        returns how many were left out. Raises StoreError, with nothing written, when the database
        itself fails; never leaves a transaction open."""
        ...

    def questions_since(self, since: float) -> list[QuestionRow]: ...

    def feedback_since(self, since: float) -> list[FeedbackRow]: ...

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        """Insert picks (bot.store.picks) in one transaction."""
        ...

    def picks_since(self, since: float) -> list[PickRow]: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


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


def store_exists(url: str | None, env: Mapping[str, str] | None = None) -> bool:
    """PostgreSQL is assumed to exist; a SQLite store exists once its file does."""
    return is_postgres_url(url or "") or sqlite_path(url, env).exists()


@contextlib.contextmanager
def existing_store(url: str | None, env: Mapping[str, str] | None = None) -> Iterator[Store | None]:
    """The store to read from, closed afterwards; None when there is no database yet (readers never
    create an empty one just to read it). Raises StoreError when it cannot be opened."""
    if not store_exists(url, env):
        yield None
        return
    store = open_store(url, env)
    try:
        yield store
    finally:
        store.close()
