"""SQLite specifics: where the file goes, WAL, unusable paths, and a writer killed mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import describe, open_store
from bot.store.base import StoreError, default_db_path, redact_url, sqlite_path
from bot.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


def test_default_path_follows_xdg_then_home(tmp_path: Path) -> None:
    assert (
        default_db_path({"XDG_DATA_HOME": str(tmp_path / "xdg")})
        == tmp_path / "xdg" / "kubebot" / "kubebot.db"
    )
    home = {"HOME": str(tmp_path / "home")}
    assert default_db_path(home) == tmp_path / "home" / ".local" / "share" / "kubebot" / "kubebot.db"
    assert sqlite_path(None, home) == default_db_path(home)


def test_default_store_is_created_under_the_data_dir(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    store = open_store(None, env)
    store.close()
    assert (tmp_path / "xdg" / "kubebot" / "kubebot.db").is_file()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/srv/kubebot.db", "/srv/kubebot.db"),
        ("sqlite:///srv/kubebot.db", "/srv/kubebot.db"),
        ("sqlite:rel/k.db", "rel/k.db"),
    ],
)
def test_kubebot_db_may_be_a_path_or_a_sqlite_url(url: str, expected: str) -> None:
    assert sqlite_path(url) == Path(expected)


def test_postgres_passwords_never_reach_logs() -> None:
    url = "postgresql://bot:s3cret@db.example:5432/kubebot"
    assert redact_url(url) == "postgresql://bot:***@db.example:5432/kubebot"
    assert "s3cret" not in describe(url)


def test_wal_mode_is_on(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "k.db")
    store.close()
    with sqlite3.connect(tmp_path / "k.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(StoreError, match="not-a-dir"):
        open_store(str(blocker / "kubebot.db"))


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / "k.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_store(str(bogus))


WRITER = """
import sys
from bot.store.base import QuestionRow
from bot.store.sqlite import SQLiteStore

store = SQLiteStore(sys.argv[1])
batch = int(sys.argv[2])
n = 0
while True:
    rows = [
        QuestionRow(float(n + i), "slack", "channel", "declined", None, 0.1, f"question {n + i} " + "x" * 300)
        for i in range(batch)
    ]
    store.write(rows, [])
    n += batch
    print(n, flush=True)
"""


def test_a_writer_killed_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    batch = 50
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    committed = 0
    try:
        for line in proc.stdout:  # each line is printed after its COMMIT returned
            committed = int(line)
            if committed >= 40 * batch:
                break
        # it is writing the next batch right now: kill it without any chance to clean up
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
        stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, stderr
    assert committed >= 40 * batch, stderr
    assert (tmp_path / "crash.db-wal").exists()  # the WAL was in use (and is now recovered)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SQLiteStore(db)
    try:
        rows = store.questions_since(0)
    finally:
        store.close()
    stamps = [int(r.asked_at) for r in rows]
    assert len(rows) >= committed  # nothing that was committed is lost
    assert len(rows) % batch == 0  # and no half batch: each transaction is all or nothing
    assert stamps == list(range(len(rows)))
    assert all(r.text and r.text.startswith(f"question {int(r.asked_at)} ") for r in rows)
