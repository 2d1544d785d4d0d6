"""`kubebot kb suggest [--since 30d] [--apply] [--only ID ...] [--json]`."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import TextIO

from bot.app import build_service, kb_dir
from bot.config import ConfigError, CoreSettings
from bot.console.data import Period, StoreReader, today
from bot.console.stats import day_of
from bot.console.suggest import STATUSES, Suggestion, chosen, suggestions
from bot.report import parse_since
from bot.service import QAService


def _line(s: Suggestion) -> str:
    target = f"{s.entry_id} ({s.entry_title})" if s.entry_id else "(no entry)"
    kinds = f" [{', '.join(f'{k} {n}' for k, n in s.kinds)}]" if s.kinds else ""
    note = f"\n      {s.note}" if s.note else ""
    where = f"  {s.path}" if s.path else ""
    return f"  {s.status:<10} {s.id}  {s.question!r} → {target}  ×{s.count}{kinds}{where}{note}"


def _as_json(s: Suggestion) -> dict[str, object]:
    return {
        "id": s.id,
        "source": s.source,
        "status": s.status,
        "question": s.question,
        "entry": s.entry_id,
        "path": s.path or None,
        "count": s.count,
        "kinds": dict(s.kinds),
        "note": s.note or None,
        "now": s.decided or None,
    }


def cmd_suggest(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    service = build_service(kb_dir(args.kb, settings))
    seconds = parse_since(args.since)
    period = Period(day_of(time.time() - seconds), today())
    reader = StoreReader(settings.db_url, settings.store_questions)
    rows = reader.read_sync(period)
    if rows.error:
        raise ConfigError(rows.error)
    picks, declines = suggestions(rows, service, period)
    items = picks + declines
    only: Sequence[str] = args.only or ()
    unknown = sorted(set(only) - {s.id for s in items})
    if unknown:
        raise ConfigError(f"no suggestion with id {', '.join(unknown)} in the last {args.since}")
    if args.json:
        out.write(json.dumps([_as_json(s) for s in items], ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(f"Suggestions from the last {args.since} ({reader.where}):\n")
        for title, group in (("Picked by people", picks), ("Declined, with the closest entry", declines)):
            out.write(f"{title}:\n")
            out.write("".join(_line(s) + "\n" for s in group) or "  none\n")
        if rows.missing:
            out.write(f"(no database at {reader.where} yet: questions are recorded while the bot serves)\n")
    if not args.apply:
        auto = sum(1 for s in items if s.auto)
        if not args.json:
            out.write(f"{auto} to apply: run again with --apply (or --apply --only ID ...).\n")
        return 0
    if only:
        bad = [s for s in items if s.id in set(only) and not s.selectable]
        if bad:
            reasons = "; ".join(f"{s.id} is {s.status}: {STATUSES[s.status][0]}" for s in bad)
            raise ConfigError(f"cannot apply {reasons}")
    return _apply(chosen(items, only), service, out)


def _apply(selected: list[Suggestion], service: QAService, out: TextIO) -> int:
    from bot.console.kbwrite import ApplyError, apply

    if not selected:
        out.write("Nothing to apply.\n")
        return 0
    kb = service.kb
    pairs = [(s.entry_id, s.question) for s in selected if s.entry_id]
    try:
        changes = apply(kb, pairs)
    except ApplyError as exc:
        raise ConfigError(str(exc)) from None
    for change in changes:
        out.write(f"wrote {change.path}: " + ", ".join(f"{e} += {q!r}" for e, q in change.added) + "\n")
    out.write("Review the change with `git diff` and commit it like any other knowledge-base edit.\n")
    return 0
