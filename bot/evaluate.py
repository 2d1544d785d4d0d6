"""`kubebot kb eval`: how the matcher treats a file of labelled questions.

An eval file is a YAML list of items `{q, expect}` with optional `also`, `form` and `source`:
`expect` is the entry id that answers `q`, `gap:<slug>` when no entry does yet, or null for an
off-topic question (which must be declined); `also` lists other entries that would do as well;
`form` is short, post or paste. A directory means every `*.yaml` in it.

Retrieval is reported as top-1 / top-3 (is the expected entry first, or among the first three?).
The decision is reported as what a user sees: answered correctly (an answering band with the
expected entry), answered wrong (an answering band with another entry: a confident wrong answer),
did-you-mean, declined. Gap items have no right entry: any answer to them is wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.kb_yaml import load_yaml
from bot.matching import Matcher
from bot.models import Band
from bot.text import clean_input

FORMS = ("short", "post", "paste")


class EvalError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EvalItem:
    question: str
    expect: str | None  # an entry id, "gap:<slug>", or None (off topic)
    also: tuple[str, ...] = ()
    form: str = "short"
    source: str = ""

    @property
    def on_topic(self) -> bool:
        return self.expect is not None

    @property
    def gap(self) -> bool:
        return self.expect is not None and self.expect.startswith("gap:")

    def right(self, entry_id: str | None) -> bool:
        return entry_id is not None and not self.gap and (entry_id == self.expect or entry_id in self.also)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the matcher did with one item."""

    item: EvalItem
    band: Band
    top: str | None
    top3: tuple[str, ...]
    confidence: float  # the calibrated probability that the top entry is right
    offered: tuple[str, ...]  # alternatives or did-you-mean offers

    @property
    def answered_right(self) -> bool:
        return self.band.answers and self.item.right(self.top)

    @property
    def answered_wrong(self) -> bool:
        return self.band.answers and not self.item.right(self.top)


def _rate(n: int, d: int) -> float:
    return n / d if d else 0.0


@dataclass
class EvalReport:
    outcomes: list[Outcome] = field(default_factory=list)

    # -- populations ------------------------------------------------------------------------------
    def answerable(self, form: str | None = None) -> list[Outcome]:
        return [
            o for o in self.outcomes if o.item.on_topic and not o.item.gap and form in (None, o.item.form)
        ]

    @property
    def gaps(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.gap]

    @property
    def off_topic(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.item.on_topic]

    # -- figures ----------------------------------------------------------------------------------
    @property
    def top1(self) -> float:
        items = self.answerable()
        return _rate(sum(o.item.right(o.top) for o in items), len(items))

    @property
    def top3(self) -> float:
        items = self.answerable()
        return _rate(sum(any(o.item.right(i) for i in o.top3) for o in items), len(items))

    def answered(self, form: str | None = None) -> float:
        items = self.answerable(form)
        return _rate(sum(o.answered_right for o in items), len(items))

    def wrong(self, form: str | None = None) -> float:
        """Share of on-topic questions (gaps included) answered with a wrong entry."""
        items = [o for o in self.outcomes if o.item.on_topic and form in (None, o.item.form)]
        return _rate(sum(o.answered_wrong for o in items), len(items))

    @property
    def offered(self) -> float:
        """Share of answerable questions where the user sees the right entry at all: as the
        answer, as a "Not this?" alternative, or among the did-you-mean offers."""
        items = self.answerable()
        seen = sum(o.answered_right or any(o.item.right(e) for e in o.offered) for o in items)
        return _rate(seen, len(items))

    @property
    def wrongly_declined(self) -> float:
        items = self.answerable()
        return _rate(sum(o.band is Band.DECLINED for o in items), len(items))

    @property
    def declined(self) -> float:
        items = self.off_topic
        return _rate(sum(o.band is Band.DECLINED for o in items), len(items)) if items else 1.0

    def reliability(self, bins: int = 10) -> list[tuple[float, float, float, int]]:
        """(low, mean predicted, observed, count) per confidence bin, for the top candidate."""
        rows = []
        for b in range(bins):
            low, high = b / bins, (b + 1) / bins
            inside = [
                o
                for o in self.outcomes
                if low <= o.confidence < high or (b == bins - 1 and o.confidence == 1.0)
            ]
            if inside:
                predicted = sum(o.confidence for o in inside) / len(inside)
                observed = sum(o.item.right(o.top) for o in inside) / len(inside)
                rows.append((low, predicted, observed, len(inside)))
        return rows

    @property
    def ece(self) -> float:
        """Expected calibration error of the top candidate's confidence."""
        n = len(self.outcomes)
        return sum(count * abs(p - o) for _low, p, o, count in self.reliability()) / n if n else 0.0

    # -- text -------------------------------------------------------------------------------------
    def render(self, verbose: bool = False, reliability: bool = False) -> str:
        items = self.answerable()
        n = len(items)
        bands = Counter(o.band for o in items)
        right = sum(o.answered_right for o in items)
        lines = [
            f"on-topic questions:   {len(items)}"
            + (f" (+{len(self.gaps)} with no entry yet)" if self.gaps else ""),
            f"top-1 accuracy:       {self.top1:.1%}",
            f"top-3 accuracy:       {self.top3:.1%}",
            f"answered correctly:   {self.answered():.1%} ({right}/{n})",
            f"answered wrong:       {self.wrong():.1%}",
            f"  with alternatives:  {_rate(bands[Band.ANSWERED_WITH_ALTERNATIVES], n):.1%} of on-topic",
            f"did-you-mean:         {_rate(bands[Band.SUGGESTED], n):.1%}",
            f"right entry shown:    {self.offered:.1%} (answer, alternative or did-you-mean)",
            f"wrongly declined:     {self.wrongly_declined:.1%}",
            f"off-topic questions:  {len(self.off_topic)}",
            f"off-topic declined:   {self.declined:.1%}",
            f"calibration error:    {self.ece:.3f} (ECE of the top candidate's confidence)",
        ]
        forms = [f for f in FORMS if self.answerable(f)]
        if len(forms) > 1:
            lines.append(
                "by form:              "
                + "  ".join(
                    f"{f} {self.answered(f):.0%} right / {self.wrong(f):.0%} wrong"
                    f" (n={len(self.answerable(f))})"
                    for f in forms
                )
            )
        if self.gaps:
            g = self.gaps
            answered = _rate(sum(o.band.answers for o in g), len(g))
            declined = _rate(sum(o.band is Band.DECLINED for o in g), len(g))
            lines.append(f"no entry yet (gaps):  {len(g)}: answered {answered:.0%}, declined {declined:.0%}")
        if reliability:
            lines.append("reliability (confidence bin: predicted -> observed, n):")
            lines += [
                f"  {low:.1f}-{low + 0.1:.1f}: {p:.2f} -> {o:.2f} (n={n})"
                for low, p, o, n in self.reliability()
            ]
        if verbose:
            lines.append("misses:")
            lines += [f"  {line}" for line in self.misses()]
        return "\n".join(lines)

    def misses(self) -> Iterable[str]:
        for o in self.outcomes:
            q = " ".join(o.item.question.split())[:100]
            if not o.item.on_topic:
                if o.band is not Band.DECLINED:
                    yield f"off-topic not declined ({o.band.contract}): {q!r} -> {o.top}"
            elif o.answered_wrong:
                yield f"WRONG {q!r}: expected {o.item.expect}, answered {o.top} ({o.confidence:.2f})"
            elif not o.answered_right and not o.item.gap:
                yield f"{o.band.contract} {q!r}: expected {o.item.expect}, top {o.top} ({o.confidence:.2f})"


def load_eval_file(path: Path) -> list[EvalItem]:
    """Items of one eval file, or of every *.yaml file in a directory (sorted by name)."""
    if path.is_dir():
        return [item for file in sorted(path.glob("*.yaml")) for item in load_eval_file(file)]
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalError(f"cannot read eval file {path}: {exc}") from None
    if not isinstance(data, list):
        raise EvalError(f"{path}: an eval file is a list of {{q, expect}} items")
    items = []
    for i, raw in enumerate(data, 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("q"), str) or "expect" not in raw:
            raise EvalError(f"{path}: item {i} needs q (text) and expect (entry id, gap:<slug> or null)")
        expect, also, form = raw["expect"], raw.get("also") or [], raw.get("form", "short")
        if expect is not None and not isinstance(expect, str):
            raise EvalError(f"{path}: item {i}: expect must be an entry id, gap:<slug> or null")
        if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
            raise EvalError(f"{path}: item {i}: also must be a list of entry ids")
        if form not in FORMS:
            raise EvalError(f"{path}: item {i}: form must be one of {', '.join(FORMS)}")
        items.append(EvalItem(raw["q"], expect, tuple(also), form, str(raw.get("source") or "")))
    return items


def evaluate(matcher: Matcher, items: Sequence[EvalItem]) -> EvalReport:
    report = EvalReport()
    for item in items:
        result = matcher.match(clean_input(item.question))
        ranked = [c.entry_id for c in result.candidates[:3]]
        if result.band is Band.SUGGESTED:  # did-you-mean shows offers, not an answer
            offered = tuple(ranked)
        else:
            offered = tuple(c.entry_id for c in result.alternatives)
        report.outcomes.append(
            Outcome(
                item, result.band, ranked[0] if ranked else None, tuple(ranked), result.confidence, offered
            )
        )
    return report
