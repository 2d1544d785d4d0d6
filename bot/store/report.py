"""`kubebot report`: what maintainers should write next.

Top declined questions clustered by similarity (with the closest existing entry: a candidate
for a new alternate question), the lowest-rated entries and the most-asked ones, over a period.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.config import ConfigError, CoreSettings
from bot.models import Candidate
from bot.service import Snapshot
from bot.store.base import (
    FeedbackRow,
    QuestionRow,
    StoreError,
    describe,
    is_postgres_url,
    open_store,
    sqlite_path,
)
from bot.store.clusters import cluster_questions

TOP_DECLINED = 20
TOP_ENTRIES = 10
EXAMPLES_SHOWN = 4
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
ANSWERING = ("answered", "answered_with_alternatives")  # the bands that reply with an entry


@dataclass(frozen=True, slots=True)
class DeclinedCluster:
    representative: str
    count: int
    examples: tuple[str, ...]
    closest: Candidate | None  # the entry that came nearest: add the question to it, or write a new one
    hashed: bool = False  # KUBEBOT_STORE_QUESTIONS=hash: only the sha256 is known


@dataclass(frozen=True, slots=True)
class EntryStat:
    entry_id: str
    title: str  # "" when the entry is no longer in the knowledge base
    count: int = 0
    helpful: int = 0
    unhelpful: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
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
    declined: tuple[DeclinedCluster, ...]
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
    clusters: list[DeclinedCluster] = []
    for c in cluster_questions(texts, snapshot.matcher.normalizer.tokens):
        ranked = snapshot.matcher.rank(c.representative, 1)
        clusters.append(DeclinedCluster(c.representative, c.count, c.examples, ranked[0] if ranked else None))
    for digest, count in hashes.items():
        clusters.append(DeclinedCluster(f"sha256:{digest[:16]}", count, (), None, hashed=True))
    clusters.sort(key=lambda c: (-c.count, c.hashed, c.representative))

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
        tuple(clusters[:TOP_DECLINED]),
        tuple(rated[:TOP_ENTRIES]),
        most_asked[:TOP_ENTRIES],
    )


# -- output -------------------------------------------------------------------------------------
def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _entry_label(stat: EntryStat) -> str:
    return (
        f"{stat.entry_id}  {stat.title}"
        if stat.title
        else f"{stat.entry_id}  (no longer in the knowledge base)"
    )


def render_text(report: Report) -> str:
    t = report.totals
    lines = [
        f"kubebot report: last {report.since} ({_when(report.start)} to {_when(report.end)})",
        f"Store: {report.store}",
        f"Questions: {t.questions} (answered {t.answered}, did-you-mean {t.suggested}, "
        f"declined {t.declined})",
        f"Feedback: 👍 {t.helpful} 👎 {t.unhelpful} on answers, "
        f"👍 {t.decline_helpful} 👎 {t.decline_unhelpful} on declines",
        "",
        "Top declined questions (write an entry, or add the question to the closest one):",
    ]
    if not report.declined:
        lines.append("  none")
    for c in report.declined:
        lines.append(f"  {c.count:>4}×  {c.representative}")
        others = [e for e in c.examples if e != c.representative]
        if others:
            more = f" (+{len(others) - EXAMPLES_SHOWN} more)" if len(others) > EXAMPLES_SHOWN else ""
            lines.append(f"         also: {'; '.join(others[:EXAMPLES_SHOWN])}{more}")
        if c.closest is not None:
            lines.append(
                f"         closest entry: {c.closest.entry_id} ({c.closest.title}) {c.closest.confidence:.2f}"
            )
        elif not c.hashed:
            lines.append("         closest entry: none")
    if t.declined_without_text:
        lines.append(
            f"  {t.declined_without_text} declined question(s) without stored text"
            " (KUBEBOT_STORE_QUESTIONS=off)"
        )
    lines += ["", "Lowest-rated entries:"]
    lines += [f"  👍 {s.helpful:>3} 👎 {s.unhelpful:>3}  {_entry_label(s)}" for s in report.lowest_rated] or [
        "  none"
    ]
    lines += ["", "Most-asked entries:"]
    lines += [f"  {s.count:>5}  {_entry_label(s)}" for s in report.most_asked] or ["  none"]
    return "\n".join(lines)


def report_json(report: Report) -> dict[str, Any]:
    def candidate(c: Candidate | None) -> dict[str, Any] | None:
        return (
            None if c is None else {"id": c.entry_id, "title": c.title, "confidence": round(c.confidence, 4)}
        )

    def stat(s: EntryStat) -> dict[str, Any]:
        return {
            "id": s.entry_id,
            "title": s.title or None,
            "asked": s.count,
            "helpful": s.helpful,
            "unhelpful": s.unhelpful,
        }

    t = report.totals
    return {
        "since": report.since,
        "from": datetime.fromtimestamp(report.start, UTC).isoformat(),
        "to": datetime.fromtimestamp(report.end, UTC).isoformat(),
        "store": report.store,
        "totals": {
            "questions": t.questions,
            "answered": t.answered,
            "suggested": t.suggested,
            "declined": t.declined,
            "declined_without_text": t.declined_without_text,
            "helpful": t.helpful,
            "unhelpful": t.unhelpful,
            "decline_helpful": t.decline_helpful,
            "decline_unhelpful": t.decline_unhelpful,
        },
        "declined": [
            {
                "question": c.representative,
                "count": c.count,
                "examples": list(c.examples),
                "closest": candidate(c.closest),
                "hashed": c.hashed,
            }
            for c in report.declined
        ],
        "lowest_rated": [stat(s) for s in report.lowest_rated],
        "most_asked": [stat(s) for s in report.most_asked],
    }


def run_report(args: argparse.Namespace, settings: CoreSettings, snapshot: Snapshot, out: TextIO) -> int:
    """`kubebot report [--since 7d] [--json]`; store problems raise ConfigError (exit 2)."""
    since_label: str = args.since
    seconds = parse_since(since_label)
    end = time.time()
    start = end - seconds
    where = describe(settings.db_url)
    questions: list[QuestionRow] = []
    feedback: list[FeedbackRow] = []
    exists = is_postgres_url(settings.db_url or "") or sqlite_path(settings.db_url).exists()
    if exists:  # never create an empty database just to report on it
        try:
            store = open_store(settings.db_url)
            try:
                questions = store.questions_since(start)
                feedback = store.feedback_since(start)
            finally:
                store.close()
        except StoreError as exc:
            raise ConfigError(f"cannot read the store: {exc}") from None
    report = build_report(questions, feedback, snapshot, since=since_label, start=start, end=end, store=where)
    if args.json:
        out.write(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(render_text(report) + "\n")
        if not exists:
            out.write(f"(no database at {where} yet: questions are recorded while the bot serves)\n")
    return 0
