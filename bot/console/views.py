"""The console's pages. Read-only: every handler is a GET (login aside) and nothing here writes."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypedDict

from aiohttp import web

from bot.commands import Ask, parse_command
from bot.console import charts, stats
from bot.console.context import CONSOLE, Console
from bot.console.data import PRESETS, Period, Rows, parse_period
from bot.console.suggest import STATUSES
from bot.console.suggest import suggestions as build_suggestions
from bot.evidence import FEATURES, Evidence
from bot.models import Band, Entry
from bot.report import build_report
from bot.service import Decision
from bot.text import MAX_QUESTION_CHARS

MAX_LISTED_QUESTIONS = 20
DECLINED_SHOWN = 10


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


async def _period_rows(request: web.Request, default_days: int | None = None) -> tuple[Period, str, Rows]:
    query = dict(request.query)
    if default_days and not any(k in query for k in ("from", "to", "days")):
        query["days"] = str(default_days)
    period, notice = parse_period(query)
    rows = await _console(request).reader.read(period)
    return period, notice, rows


class _PeriodContext(TypedDict):
    period: Period
    presets: tuple[int, ...]
    notice: str
    rows: Rows


def _period_context(period: Period, notice: str, rows: Rows) -> _PeriodContext:
    """What every page with a period picker shows: the period, the presets, a notice, the rows."""
    return {"period": period, "presets": PRESETS, "notice": notice, "rows": rows}


# -- Overview -----------------------------------------------------------------------------------
async def overview(request: web.Request) -> web.Response:
    console = _console(request)
    period, notice, rows = await _period_rows(request)
    snapshot = console.service.snapshot
    days = stats.daily(rows, period)
    report = await asyncio.to_thread(
        build_report,
        list(rows.questions),
        list(rows.feedback),
        snapshot,
        since="",
        start=period.start,
        end=period.end,
    )
    return console.render(
        "overview.html",
        page="overview",
        **_period_context(period, notice, rows),
        totals=stats.totals(rows),
        bands=stats.BANDS,
        band_labels=stats.BAND_LABELS,
        charts=(charts.questions_by_band(days), charts.answer_rate(days), charts.feedback(days)),
        declined=report.declined[:DECLINED_SHOWN],
        lowest_rated=report.lowest_rated,
        most_asked=report.most_asked,
        entries=snapshot.kb.entries,
    )


# -- Entries ------------------------------------------------------------------------------------
def _haystack(entry: Entry) -> str:
    parts = [entry.id, entry.title, entry.analogy or "", entry.answer, *entry.tags, *entry.questions]
    parts += [t.text + " " + (t.command or "") for t in entry.tips]
    parts += list(entry.sources)
    return " ".join(parts).lower()


def search(entries: list[Entry], text: str, tag: str = "") -> list[Entry]:
    """Entries whose fields hold every word of `text` (any case), with `tag` when given."""
    words = text.lower().split()
    found = [e for e in entries if (not tag or tag in e.tags)]
    if words:
        found = [e for e in found if all(w in _haystack(e) for w in words)]
    return found


async def entries(request: web.Request) -> web.Response:
    console = _console(request)
    period, notice, rows = await _period_rows(request)
    kb = console.service.kb
    text = request.query.get("q", "")[:200]
    tag = request.query.get("tag", "")[:60]
    sort = request.query.get("sort", "title")
    traffic = stats.traffic(rows)
    found = search(list(kb.entries.values()), text, tag)
    if sort == "traffic":
        found.sort(key=lambda e: (-(traffic[e.id].asked if e.id in traffic else 0), e.title.lower()))
    elif sort == "rating":
        found.sort(key=lambda e: (*_rating_key(traffic.get(e.id)), e.title.lower()))
    else:
        sort = "title"
        found.sort(key=lambda e: e.title.lower())
    return console.render(
        "entries.html",
        page="entries",
        **_period_context(period, notice, rows),
        found=found,
        total=len(kb.entries),
        traffic=traffic,
        empty=stats.Traffic(),
        q=text,
        tag=tag,
        sort=sort,
        tags=sorted(kb.tags()),
    )


def _rating_key(t: stats.Traffic | None) -> tuple[float, int]:
    if t is None or t.rating is None:
        return (2.0, 0)  # unrated last
    return (t.rating, -t.unhelpful)


async def entry(request: web.Request) -> web.Response:
    console = _console(request)
    kb = console.service.kb
    item = console.service.lookup(request.match_info["entry_id"])
    if item is None:
        return console.render("missing.html", status=404, page="entries", what="entry")
    period, notice, rows = await _period_rows(request)
    asked = Counter((q.text, q.text_hash) for q in rows.questions if q.entry_id == item.id)
    picks = Counter((p.question, p.question_hash, p.kind) for p in rows.picks if p.entry_id == item.id)
    see_also = [(i, kb.entries[i].title) for i in item.see_also if i in kb.entries]
    return console.render(
        "entry.html",
        page="entries",
        **_period_context(period, notice, rows),
        entry=item,
        path=_relative(item.path, kb.root),
        traffic=stats.traffic(rows).get(item.id, stats.Traffic()),
        asked=asked.most_common(MAX_LISTED_QUESTIONS),
        picks=picks.most_common(MAX_LISTED_QUESTIONS),
        see_also=see_also,
        web_sources=[s for s in item.sources if s.startswith(("https://", "http://"))],
    )


def _relative(path: str, root: object) -> str:
    text, prefix = str(path), str(root).rstrip("/") + "/"
    return text[len(prefix) :] if text.startswith(prefix) else text


# -- Try a question -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Row:
    """One candidate as the Try page shows it."""

    rank: int
    evidence: Evidence
    confidence: float  # the answer model's probability, as the decision ranks by it
    on_topic: float
    offered: str  # "answer", "alternative", "did you mean", "" (not offered)

    def feature(self, name: str) -> float:
        return self.evidence.feature(name)


def explain(decision: Decision) -> tuple[list[Row], str]:
    """The candidates in the decision's order, and which rule chose the band."""
    result = decision.result
    if result is None:
        return [], "Nothing to match: the question is empty once cleaned."
    calibration = decision.snapshot.matcher.calibration
    thresholds = decision.snapshot.matcher.thresholds
    scored = sorted(
        (
            (p, i, e)
            for i, (p, e) in enumerate(
                zip(calibration.p_answers(decision.evidence), decision.evidence, strict=True)
            )
        ),
        key=lambda x: (-x[0], x[1]),
    )
    offered: dict[str, str] = {}
    if result.band.answers and result.best is not None:
        offered[result.best.entry_id] = "answer"
        offered.update({c.entry_id: "alternative" for c in result.alternatives})
    elif result.band is Band.SUGGESTED:
        offered.update({c.entry_id: "did you mean" for c in result.candidates})
    rows = [
        Row(n + 1, e, p, calibration.p_topic(e), offered.get(e.entry_id, ""))
        for n, (p, _i, e) in enumerate(scored)
    ]
    if not rows:
        return rows, "No entry shares a word with the question: declined."
    top = rows[0]
    t = thresholds
    if top.feature("exact") >= 1.0:
        why = "The question is one of the top entry's own questions, word for word: answered."
    elif result.band is Band.ANSWERED:
        why = (
            f"Confidence {top.confidence:.2f} ≥ answer threshold {t.answer:.2f} and on-topic "
            f"{top.on_topic:.2f} ≥ {t.topic:.2f}: answered."
        )
    elif result.band is Band.ANSWERED_WITH_ALTERNATIVES:
        why = (
            f"Confidence {top.confidence:.2f} is below {t.answer:.2f} but ≥ {t.alternatives:.2f}, on-topic "
            f"{top.on_topic:.2f} ≥ {t.topic:.2f}: answered, with the runners-up above "
            f"{t.alternative_floor:.2f} offered as “Not this?”."
        )
    elif result.band is Band.SUGGESTED:
        why = (
            f"Confidence {top.confidence:.2f} < {t.alternatives:.2f}, but on-topic {top.on_topic:.2f} ≥ "
            f"{t.topic:.2f}: did you mean (up to {t.max_suggestions} offers)."
        )
    else:
        why = f"On-topic {top.on_topic:.2f} < {t.topic:.2f}: declined."
    return rows, why


async def try_question(request: web.Request) -> web.Response:
    console = _console(request)
    text = request.query.get("q", "")[:MAX_QUESTION_CHARS]
    context: dict[str, Any] = {"page": "try", "q": text, "features": FEATURES, "decision": None}
    if text.strip():
        service = console.service
        decision = await asyncio.to_thread(service.decide, text)
        reply = service.reply_for(decision)
        rows, why = explain(decision)
        command = parse_command(decision.question, cluster_enabled=service.cluster_enabled)
        context |= {
            "decision": decision,
            "reply": reply,
            "rows": rows,
            "why": why,
            "thresholds": decision.snapshot.matcher.thresholds,
            "command": "" if isinstance(command, Ask) else type(command).__name__.lower(),
        }
    return console.render("try.html", **context)


# -- Suggestions --------------------------------------------------------------------------------
async def suggestions(request: web.Request) -> web.Response:
    console = _console(request)
    period, notice, rows = await _period_rows(request, default_days=30)
    picks, declines = await asyncio.to_thread(build_suggestions, rows, console.service, period)
    return console.render(
        "suggestions.html",
        page="suggestions",
        **_period_context(period, notice, rows),
        picks=picks,
        declines=declines,
        statuses=STATUSES,
        since=(period.last - period.first).days + 1,
    )
