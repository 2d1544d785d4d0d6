"""Once-only claims in PostgreSQL, so several HTTP replicas answer a Slack retry once.

A Slack retry or a duplicate event can land on another replica than the first delivery; the
in-memory dedupe of one process cannot see it. Replicas already share PostgreSQL for the store,
so a claim is one `INSERT ... ON CONFLICT` there: the first replica to insert the key wins, an
expired key can be claimed again. One connection of its own (the store's belongs to the writer
thread), short timeouts, and failing open when the database is unreachable.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from bot.store.base import redact_url

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("kubebot.store")

CONNECT_TIMEOUT_S = 2
STATEMENT_TIMEOUT_MS = 500
RETRY_AFTER_S = 30.0

_CREATE = "CREATE TABLE IF NOT EXISTS kubebot_claims ( key text PRIMARY KEY, expires_at timestamptz NOT NULL)"
_CLAIM = (
    "INSERT INTO kubebot_claims (key, expires_at) VALUES (%s, now() + make_interval(secs => %s))"
    " ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at"
    " WHERE kubebot_claims.expires_at < now() RETURNING 1"
)
_PRUNE = "DELETE FROM kubebot_claims WHERE expires_at < now() - interval '1 hour'"


class PostgresClaims:
    """`bot.ports.Claims` on PostgreSQL. Thread-safe; reconnects after an outage."""

    def __init__(self, url: str, *, clock: Any = time.monotonic) -> None:
        self._url = url
        self.where = redact_url(url)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._down_since: float | None = None
        self._clock = clock
        self._claims = 0

    def claim(self, key: str, ttl_seconds: float) -> bool:
        with self._lock:
            try:
                conn = self._connection()
                if conn is None:
                    return True
                row = conn.execute(_CLAIM, (key, ttl_seconds)).fetchone()
                self._claims += 1
                if self._claims % 1000 == 0:
                    conn.execute(_PRUNE)
                return row is not None
            except Exception as exc:  # fail open: a duplicate answer beats a lost one
                self._lost(exc)
                return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> psycopg.Connection[Any] | None:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        if self._down_since is not None and self._clock() - self._down_since < RETRY_AFTER_S:
            return None
        import psycopg

        self._conn = psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="kubebot-claims",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
        self._conn.execute(_CREATE)
        if self._down_since is not None:
            log.info("event=claims_recovered where=%s", self.where)
        self._down_since = None
        return self._conn

    def _lost(self, exc: Exception) -> None:
        if self._down_since is None:
            log.warning(
                "event=claims_unavailable where=%s error=%s", self.where, str(exc).splitlines()[0][:200]
            )
        self._down_since = self._clock()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
