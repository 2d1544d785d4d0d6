"""The three record tables (questions, feedback, picks) and the statements both backends run on
them, built from one description per table and the backend's `Dialect`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from bot.store.base import FeedbackRow, QuestionRow
from bot.store.dialects import Dialect
from bot.store.picks import PickRow

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """A table whose rows are ``R``: the timestamp column, then ``columns`` in ``R``'s field order."""

    name: str
    time: str
    columns: tuple[str, ...]
    row: Callable[[tuple[Any, ...]], R]  # a row as `select_since` returns it

    def insert(self, d: Dialect) -> str:
        values = ", ".join([d.time_param, *(d.param for _ in self.columns)])
        return f"INSERT INTO {self.name} ({self.time}, {', '.join(self.columns)}) VALUES ({values})"

    def select_since(self, d: Dialect) -> str:
        """The rows at or after one epoch-seconds parameter, oldest first."""
        when = d.time_value.format(column=self.time)
        return (
            f"SELECT {when}, {', '.join(self.columns)} FROM {self.name}"
            f" WHERE {self.time} >= {d.time_param} ORDER BY {self.time}, id"
        )


QUESTIONS = Table(
    "kubebot_questions",
    "asked_at",
    ("platform", "channel_type", "band", "entry_id", "confidence", "text", "text_hash"),
    lambda r: QuestionRow(float(r[0]), r[1], r[2], r[3], r[4], float(r[5]), r[6], r[7]),
)
FEEDBACK = Table(
    "kubebot_feedback",
    "given_at",
    ("entry_id", "helpful", "platform", "channel_type", "question", "question_hash"),
    lambda r: FeedbackRow(float(r[0]), r[1], bool(r[2]), r[3], r[4], r[5], r[6]),
)
PICKS = Table(
    "kubebot_picks",
    "picked_at",
    ("entry_id", "kind", "platform", "channel_type", "question", "question_hash"),
    lambda r: PickRow(float(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]),
)


class TableReads:
    """The read side both stores share: a table's rows since a time, in the store's dialect."""

    dialect: ClassVar[Dialect]

    def _select(self, sql: str, params: tuple[object, ...]) -> Sequence[tuple[Any, ...]]:
        """Run one SELECT under the store's lock; database errors become StoreError."""
        raise NotImplementedError

    def questions_since(self, since: float) -> list[QuestionRow]:
        return self._since(QUESTIONS, since)

    def feedback_since(self, since: float) -> list[FeedbackRow]:
        return self._since(FEEDBACK, since)

    def picks_since(self, since: float) -> list[PickRow]:
        return self._since(PICKS, since)

    def _since(self, table: Table[R], since: float) -> list[R]:
        return [table.row(r) for r in self._select(table.select_since(self.dialect), (since,))]
