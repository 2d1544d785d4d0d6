"""`kubebot report [--since 7d] [--json]`: what maintainers should write next, from the store."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.app import kb_dir, load_snapshot
from bot.config import ConfigError, CoreSettings
from bot.models import Candidate
from bot.report import EntryStat, Report, build_report, parse_since
from bot.store import describe, existing_store
from bot.store.base import FeedbackRow, QuestionRow, StoreError

EXAMPLES_SHOWN = 4  # other spellings listed under a declined question


def cmd_report(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    """Store problems raise ConfigError (exit 2); a missing database is an empty report."""
    snapshot = load_snapshot(kb_dir(args.kb, settings))
    since_label: str = args.since
    seconds = parse_since(since_label)
    end = time.time()
    start = end - seconds
    where = describe(settings.db_url)
    questions: list[QuestionRow] = []
    feedback: list[FeedbackRow] = []
    exists = False
    try:
        with existing_store(settings.db_url) as store:
            if store is not None:
                exists = True
                questions = store.questions_since(start)
                feedback = store.feedback_since(start)
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
