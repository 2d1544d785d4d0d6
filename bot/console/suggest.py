"""Suggested alternates (active learning): turn what people asked into questions for the KB.

Two sources, both from the store:
- picks: a real question and the entry the user chose for it (a did-you-mean or "Not this?" button,
  or 👍 on the answer). A person confirmed the entry, so these are applied by `kb suggest --apply`
  when nothing argues against them;
- declined clusters with their closest entry (`kubebot report`): only the bot's guess, applied only
  when a maintainer names them (`--only ID`).

Each suggestion is checked against the knowledge base as the service sees it now: the same
`QAService.decide` the bot answers with (an outright answer with that entry needs nothing), and the
linter's rule that two questions may not read the same to the matcher.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.console.data import Period, Rows
from bot.models import Band, PickKind
from bot.report import build_report
from bot.service import QAService, Snapshot
from bot.text import normalize_basic

KIND_LABELS = {
    PickKind.DID_YOU_MEAN.value: "did you mean",
    PickKind.NOT_THIS.value: "Not this?",
    PickKind.HELPFUL.value: "👍",
}
# what each status means; "apply" says whether `kb suggest --apply` writes it without --only
STATUSES = {
    "new": ("add it: people chose this entry for this question", True),
    "review": ("the bot declined these; the closest entry is only a guess: apply with --only ID", False),
    "ambiguous": ("people chose different entries for this question: apply one with --only ID", False),
    "answered": ("the bot already answers this question with this entry", False),
    "present": ("the entry already has a question that reads the same", False),
    "conflict": ("another entry has a question that reads the same: make one more specific", False),
    "cut": ("Discord cut this question to fit its button: add it by hand", False),
    "hashed": ("KUBEBOT_STORE_QUESTIONS=hash: only a hash is known", False),
    "new-entry": (
        "nothing in the knowledge base is close: write a new entry (or ignore it if off topic)",
        False,
    ),
    "gone": ("the entry is no longer in the knowledge base", False),
}
SELECTABLE = frozenset({"new", "review", "ambiguous"})  # what --only ID may apply
CLOSE_ENOUGH = 0.25  # a declined question's closest entry below this confidence is no suggestion


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str  # stable: the same question and entry give the same id on every page and run
    source: str  # "pick" or "declined"
    question: str  # the text to add ("sha256:..." when only a hash is known)
    entry_id: str | None
    entry_title: str
    path: str  # the entry's file, relative to the knowledge base
    count: int
    kinds: tuple[tuple[str, int], ...] = ()  # pick kind label -> count
    examples: tuple[str, ...] = ()
    status: str = "new"
    note: str = ""
    decided: str = ""  # what the bot does with the question now: band and entry
    yaml: str = ""

    @property
    def auto(self) -> bool:
        return STATUSES[self.status][1]

    @property
    def selectable(self) -> bool:
        return self.status in SELECTABLE and self.entry_id is not None


def suggestion_id(question: str, entry_id: str | None) -> str:
    return hashlib.sha256(f"{entry_id or ''}\n{normalize_basic(question)}".encode()).hexdigest()[:10]


def snippet(path: str, entry_id: str, questions: Sequence[str]) -> str:
    """The YAML to add: the entry's id and the new questions under its `questions:`."""
    items = yaml.safe_dump(list(questions), allow_unicode=True, width=10_000, default_flow_style=False)
    lines = [f"# {path}", f"- id: {entry_id}", "  questions:", "    # ...after the ones it has:"]
    lines += ["    " + line for line in items.splitlines()]
    return "\n".join(lines)


def new_entry_snippet(questions: Sequence[str]) -> str:
    items = yaml.safe_dump(list(questions), allow_unicode=True, width=10_000, default_flow_style=False)
    lines = ["- id: NEW-ID", "  title: TITLE", "  questions:"]
    lines += ["    " + line for line in items.splitlines()]
    lines += ["  answer: ...", "  sources: [https://kubernetes.io/docs/...]"]
    return "\n".join(lines)


class _Index:
    """Which entry owns each question, as the linter compares them (matcher tokens, normalised text)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.tokens = snapshot.matcher.normalizer.tokens
        self.by_tokens: dict[frozenset[str], tuple[str, str]] = {}
        self.by_text: dict[str, tuple[str, str]] = {}
        for entry in snapshot.kb.entries.values():
            for q in entry.questions:
                self.by_tokens.setdefault(frozenset(self.tokens(q)), (entry.id, q))
                self.by_text.setdefault(normalize_basic(q), (entry.id, q))

    def owner(self, question: str) -> tuple[str, str] | None:
        key = frozenset(self.tokens(question))
        return self.by_text.get(normalize_basic(question)) or (self.by_tokens.get(key) if key else None)

    def relative(self, path: str) -> str:
        root = self.snapshot.kb.root
        try:
            return str(Path(path).resolve().relative_to(root.resolve()))
        except ValueError:
            return path


def _decided(service: QAService, question: str) -> tuple[str, str | None]:
    decision = service.decide(question)
    result = decision.result
    if result is None or result.best is None or result.band is Band.DECLINED:
        return "declined", None
    return result.band.value, result.best.entry_id


def _check(service: QAService, index: _Index, question: str, entry_id: str) -> tuple[str, str, str]:
    """(status, note, decided) for adding `question` to `entry_id`, judged as the bot sees it now."""
    band, best = _decided(service, question)
    decided = f"{band} → {best}" if best else band
    if entry_id not in index.snapshot.kb.entries:
        return "gone", "", decided
    if band == Band.ANSWERED.value and best == entry_id:
        return "answered", "", decided
    owner = index.owner(question)
    if owner is not None and owner[0] == entry_id:
        return "present", f"reads the same as “{owner[1]}”", decided
    if owner is not None:
        return "conflict", f"reads the same as “{owner[1]}” under {owner[0]}", decided
    if not index.tokens(question):
        return "present", "only stop words: the matcher would ignore it", decided
    return "new", "", decided


def from_picks(rows: Rows, service: QAService) -> list[Suggestion]:
    snapshot = service.snapshot
    index = _Index(snapshot)
    groups: dict[tuple[str, str], Counter[str]] = {}  # (normalised question, entry) -> spellings
    kinds: dict[tuple[str, str], Counter[str]] = {}
    hashed: Counter[tuple[str, str]] = Counter()
    for pick in rows.picks:
        if pick.question is None:
            if pick.question_hash:
                hashed[(pick.question_hash, pick.entry_id)] += 1
            continue
        key = (normalize_basic(pick.question) or pick.question, pick.entry_id)
        groups.setdefault(key, Counter())[pick.question] += 1
        kinds.setdefault(key, Counter())[KIND_LABELS.get(pick.kind, pick.kind)] += 1
    per_question: dict[str, Counter[str]] = {}
    for (norm, entry_id), spellings in groups.items():
        per_question.setdefault(norm, Counter())[entry_id] = sum(spellings.values())
    out: list[Suggestion] = []
    for (norm, entry_id), spellings in groups.items():
        question = max(spellings.items(), key=lambda kv: (kv[1], kv[0]))[0]
        count = sum(spellings.values())
        entry = snapshot.kb.entries.get(entry_id)
        path = index.relative(entry.path) if entry else ""
        status, note, decided = _check(service, index, question, entry_id)
        rivals = per_question[norm]
        if status == "new" and len(rivals) > 1:
            best, best_n = rivals.most_common(1)[0]
            runner_n = max(n for e, n in rivals.items() if e != best)
            if entry_id != best or best_n < 2 * runner_n:
                others = ", ".join(f"{e} ({n})" for e, n in rivals.most_common() if e != entry_id)
                status, note = "ambiguous", f"also chosen: {others}"
        if status == "new" and question.endswith("…"):
            status = "cut"
        out.append(
            Suggestion(
                suggestion_id(question, entry_id),
                "pick",
                question,
                entry_id,
                entry.title if entry else "",
                path,
                count,
                tuple(sorted(kinds[(norm, entry_id)].items())),
                tuple(s for s, _ in spellings.most_common() if s != question)[:4],
                status,
                note,
                decided,
                snippet(path, entry_id, [question]) if status in SELECTABLE else "",
            )
        )
    for (digest, entry_id), count in hashed.items():
        entry = snapshot.kb.entries.get(entry_id)
        out.append(
            Suggestion(
                suggestion_id(digest, entry_id),
                "pick",
                f"sha256:{digest[:16]}",
                entry_id,
                entry.title if entry else "",
                index.relative(entry.path) if entry else "",
                count,
                status="hashed",
            )
        )
    return out


def from_declines(rows: Rows, service: QAService, period: Period) -> list[Suggestion]:
    snapshot = service.snapshot
    index = _Index(snapshot)
    report = build_report(
        list(rows.questions), list(rows.feedback), snapshot, since="", start=period.start, end=period.end
    )
    out: list[Suggestion] = []
    for cluster in report.declined:
        if cluster.hashed:
            out.append(
                Suggestion(
                    suggestion_id(cluster.representative, None),
                    "declined",
                    cluster.representative,
                    None,
                    "",
                    "",
                    cluster.count,
                    status="hashed",
                )
            )
            continue
        question = cluster.representative
        others = tuple(e for e in cluster.examples if e != question)[:4]
        closest = cluster.closest
        if (
            closest is None
            or closest.entry_id not in snapshot.kb.entries
            or closest.confidence < CLOSE_ENOUGH
        ):
            far = f"the closest, {closest.entry_id}, is far ({closest.confidence:.2f})" if closest else ""
            out.append(
                Suggestion(
                    suggestion_id(question, None),
                    "declined",
                    question,
                    None,
                    "",
                    "",
                    cluster.count,
                    examples=others,
                    status="new-entry",
                    note=far,
                    decided="declined",
                    yaml=new_entry_snippet([question, *others]),
                )
            )
            continue
        entry = snapshot.kb.entries[closest.entry_id]
        path = index.relative(entry.path)
        status, note, decided = _check(service, index, question, entry.id)
        if status == "new":
            status, note = "review", f"closest entry at confidence {closest.confidence:.2f}"
        out.append(
            Suggestion(
                suggestion_id(question, entry.id),
                "declined",
                question,
                entry.id,
                entry.title,
                path,
                cluster.count,
                examples=others,
                status=status,
                note=note,
                decided=decided,
                yaml=snippet(path, entry.id, [question]) if status in SELECTABLE else "",
            )
        )
    return out


def _order(s: Suggestion) -> tuple[int, int, str]:
    rank = list(STATUSES).index(s.status)
    return (rank, -s.count, s.question)


def suggestions(rows: Rows, service: QAService, period: Period) -> tuple[list[Suggestion], list[Suggestion]]:
    """(from picks, from declined clusters), each in the order a maintainer should look at them."""
    picks = sorted(from_picks(rows, service), key=_order)
    declines = sorted(from_declines(rows, service, period), key=_order)
    return picks, declines


def chosen(items: Sequence[Suggestion], only: Sequence[str] = ()) -> list[Suggestion]:
    """What `--apply` writes: every automatic one, or exactly the ids named with --only."""
    if only:
        wanted = set(only)
        return [s for s in items if s.id in wanted and s.selectable]
    return [s for s in items if s.auto and s.entry_id is not None]
