"""What maintainers should write next (`kubebot report` prints it, the console shows it).

Top declined questions clustered by similarity (with the closest existing entry: a candidate
for a new alternate question), the lowest-rated entries and the most-asked ones, over a period.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ConfigError
from bot.models import Candidate
from bot.question_groups import group_questions
from bot.service import Snapshot
from bot.store.base import FeedbackRow, QuestionRow

TOP_DECLINED = 20
TOP_ENTRIES = 10
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
ANSWERING = ("answered", "answered_with_alternatives")  # the bands that reply with an entry


@dataclass(frozen=True, slots=True)
class DeclinedGroup:
    representative: str
    count: int
    examples: tuple[str, ...]
    closest: Candidate | None  # the entry that came nearest: add the question to it, or write a new one
    hashed: bool = False  # KUBEBOT_STORE_QUESTIONS=hash: only the sha256 is known


@dataclass(frozen=True, slots=True)
class EntryStat:
    """One entry over the period: how often it answered, and its 👍/👎."""

    entry_id: str
    title: str  # "" when the entry is no longer in the knowledge base
    count: int = 0
    helpful: int = 0
    unhelpful: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
    """The period's counts: questions by band, and feedback on answers and on declines."""

    questions: int
    answered: int
    suggested: int
    declined: int
    declined_without_text: int  # KUBEBOT_STORE_QUESTIONS=off
    helpful: int
    unhelpful: int
    decline_helpful: int  # feedback given on a decline
    decline_unhelpful: int


@dataclass(frozen=True, slots=True)
class Report:
    since: str
    start: float
    end: float
    store: str
    totals: Totals
    declined: tuple[DeclinedGroup, ...]
    lowest_rated: tuple[EntryStat, ...]
    most_asked: tuple[EntryStat, ...]


def parse_since(text: str) -> int:
    """Seconds in a period like 30m, 24h, 7d, 4w."""
    match = _SINCE.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(f"--since must be a number and a unit (m, h, d, w), like 24h or 7d, not {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def build_report(
    questions: Sequence[QuestionRow],
    feedback: Sequence[FeedbackRow],
    snapshot: Snapshot,
    *,
    since: str,
    start: float,
    end: float,
    store: str = "",
) -> Report:
    bands = Counter(q.band for q in questions)
    declined = [q for q in questions if q.band == "declined"]
    texts = [q.text for q in declined if q.text]
    hashes = Counter(q.text_hash for q in declined if not q.text and q.text_hash)
    groups: list[DeclinedGroup] = []
    for c in group_questions(texts, snapshot.matcher.normalizer.tokens):
        ranked = snapshot.matcher.rank(c.representative, 1)
        groups.append(DeclinedGroup(c.representative, c.count, c.examples, ranked[0] if ranked else None))
    for digest, count in hashes.items():
        groups.append(DeclinedGroup(f"sha256:{digest[:16]}", count, (), None, hashed=True))
    groups.sort(key=lambda c: (-c.count, c.hashed, c.representative))

    entries = snapshot.kb.entries

    def title(entry_id: str) -> str:
        entry = entries.get(entry_id)
        return entry.title if entry else ""

    asked = Counter(q.entry_id for q in questions if q.band in ANSWERING and q.entry_id)
    most_asked = tuple(
        EntryStat(i, title(i), count=n) for i, n in sorted(asked.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    for f in feedback:
        if f.entry_id:
            (up if f.helpful else down)[f.entry_id] += 1
    rated = [EntryStat(i, title(i), asked.get(i, 0), up[i], down[i]) for i in set(up) | set(down)]
    rated.sort(key=lambda s: (s.helpful / (s.helpful + s.unhelpful), -s.unhelpful, s.entry_id))
    totals = Totals(
        questions=len(questions),
        answered=bands["answered"] + bands["answered_with_alternatives"],
        suggested=bands["suggested"],
        declined=bands["declined"],
        declined_without_text=sum(1 for q in declined if not q.text and not q.text_hash),
        helpful=sum(1 for f in feedback if f.entry_id and f.helpful),
        unhelpful=sum(1 for f in feedback if f.entry_id and not f.helpful),
        decline_helpful=sum(1 for f in feedback if not f.entry_id and f.helpful),
        decline_unhelpful=sum(1 for f in feedback if not f.entry_id and not f.helpful),
    )
    return Report(
        since,
        start,
        end,
        store,
        totals,
        tuple(groups[:TOP_DECLINED]),
        tuple(rated[:TOP_ENTRIES]),
        most_asked[:TOP_ENTRIES],
    )
