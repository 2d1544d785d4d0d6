"""What differs between SQLite and PostgreSQL in kubebot's SQL, so that every statement (the
schema in `bot.store.migrations`, the queries in `bot.store.tables`) is written once."""

from __future__ import annotations

from dataclasses import dataclass

MIGRATION_LOCK = 0x6B75_6265  # "kube": PostgreSQL's advisory lock id, held while migrating


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    param: str  # the parameter marker
    id: str  # an identity primary key
    time: str  # the questions/feedback/picks timestamps: epoch REAL in SQLite, TIMESTAMPTZ in PostgreSQL
    real: str
    bool: str
    time_param: str  # a parameter in epoch seconds, as a `time` value
    time_value: str  # a `time` column ({column}), read back in epoch seconds
    lock: str = ""  # run first in a migration (SQLite's BEGIN IMMEDIATE already serialises them)

    def sql(self, template: str) -> str:
        """A schema template with its {id}, {time}, {real} and {bool} column types filled in."""
        return template.format(id=self.id, time=self.time, real=self.real, bool=self.bool)


# name, param, id, time, real, bool, time_param, time_value (see `Dialect`)
SQLITE = Dialect(
    "sqlite", "?", "INTEGER PRIMARY KEY AUTOINCREMENT", "REAL", "REAL", "INTEGER", "?", "{column}"
)  # fmt: skip
POSTGRES = Dialect(
    "postgres", "%s", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ", "DOUBLE PRECISION",
    "BOOLEAN", "to_timestamp(%s)", "extract(epoch FROM {column})::float8",
    lock=f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})",  # released with the transaction
)  # fmt: skip
