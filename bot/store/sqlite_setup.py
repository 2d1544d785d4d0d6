"""Opening one SQLite file from several processes or threads at once, safely.

Switching a new file to WAL and the first ``BEGIN IMMEDIATE`` can fail at once with "database is
locked" instead of waiting for the busy timeout (SQLite does not call the busy handler where
waiting could deadlock, e.g. while another connection changes the journal mode). So first-time
set-up runs under an exclusive lock on a side file (``<db>.lock``; `flock`, which, unlike the
POSIX locks SQLite uses, never interferes with SQLite's own), and the steps that can still meet a
writer that does not take that lock (an older kubebot, the sqlite3 shell) are retried on
"locked"/"busy" until the busy timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

log = logging.getLogger("kubebot.store")

T = TypeVar("T")

_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (the primary code: the low byte)


def is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked"/"busy" errors, which a retry can cure."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retry_locked(step: Callable[[], T], timeout: float, *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``step``; on "database is locked" retry with a short jittered backoff until ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_locked(exc) or time.monotonic() + delay > deadline:
                raise
        sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.1)


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextlib.contextmanager
def setup_lock(db: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` (every process and thread alike) while inside.

    Where locking is impossible (no ``fcntl``, a read-only directory) the set-up proceeds
    without it and relies on `retry_locked`. Raises TimeoutError (an OSError) after ``timeout``.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = lock_path(db)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        log.debug("event=sqlite_setup_unlocked path=%s error=%s", path, exc)
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"another process has held {path} (setting up the database) for over {timeout:g} s"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
