"""The one migration runner and the schema written once for both backends."""

from __future__ import annotations

import re
import sqlite3

import pytest

from bot.store.dialects import POSTGRES, SQLITE, Dialect
from bot.store.migrations import LATEST_VERSION, MIGRATIONS, migrate
from bot.store.sqlite import immediate_transaction


def _tables(dialect: Dialect) -> dict[str, list[tuple[str, str]]]:
    """table → [(column, type)] for every CREATE TABLE of every migration in this dialect."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for migration in MIGRATIONS:
        for statement in migration.sql(dialect):
            match = re.match(r"CREATE TABLE (\w+) \((.*)\)$", " ".join(statement.split()))
            if match:
                columns = [c.strip().split(" ", 1) for c in match.group(2).split(",")]
                tables[match.group(1)] = [(name, kind) for name, kind in columns]
    return tables


def test_both_backends_get_the_same_tables_and_columns_with_their_own_types() -> None:
    sqlite, postgres = _tables(SQLITE), _tables(POSTGRES)
    assert (
        set(sqlite)
        == set(postgres)
        == {
            "kubebot_questions",
            "kubebot_feedback",
            "kubebot_outbox",
            "kubebot_picks",
        }
    )
    for table in sqlite:
        assert [c for c, _ in sqlite[table]] == [c for c, _ in postgres[table]], table
    assert dict(postgres["kubebot_questions"])["asked_at"] == "TIMESTAMPTZ NOT NULL"
    assert dict(sqlite["kubebot_questions"])["asked_at"] == "REAL NOT NULL"
    assert dict(postgres["kubebot_feedback"])["helpful"] == "BOOLEAN NOT NULL"
    assert dict(sqlite["kubebot_outbox"])["created_at"] == "REAL NOT NULL"
    assert dict(postgres["kubebot_outbox"])["created_at"] == "DOUBLE PRECISION NOT NULL"
    statements = [s for m in MIGRATIONS for d in (SQLITE, POSTGRES) for s in m.sql(d)]
    assert not [s for s in statements if "{" in s or "}" in s]  # every placeholder filled


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT version FROM kubebot_schema").fetchone()[0])


def test_migrate_applies_what_is_pending_once_in_order(caplog: pytest.LogCaptureFixture) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    caplog.set_level("INFO", logger="kubebot.store")
    migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE, upto=2)
    assert _version(conn) == 2
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "kubebot_questions_asked_at" in names and "kubebot_outbox" not in names
    migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE)
    migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE)  # nothing left: no statement, no log
    assert _version(conn) == LATEST_VERSION
    assert [r.getMessage() for r in caplog.records if "store_migrated" in r.getMessage()] == [
        "event=store_migrated backend=sqlite from=0 to=2",
        f"event=store_migrated backend=sqlite from=2 to={LATEST_VERSION}",
    ]


def test_a_failing_migration_leaves_the_schema_as_it_was() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE, upto=1)
    conn.execute("CREATE TABLE kubebot_outbox (key TEXT)")  # migration 3 will collide with it

    with pytest.raises(sqlite3.OperationalError):
        migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE)
    assert _version(conn) == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "kubebot_questions_asked_at" not in names  # migration 2 rolled back with 3
