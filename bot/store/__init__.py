"""Question and feedback store (SQLite by default, PostgreSQL optional): the factory.

`open_store` picks the backend KUBEBOT_DB names; the backends (`bot.store.sqlite`,
`bot.store.postgres`) are imported only here, when one is opened, and they depend on
`bot.store.base` (rows, the `Store` protocol, DSN handling) and `bot.store.migrations` alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from bot.store.base import Store, StoreError, is_postgres_url, redact_url, sqlite_path

__all__ = ["Store", "StoreError", "describe", "existing_store", "open_store", "store_exists"]


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
