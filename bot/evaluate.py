"""`kubebot kb eval`: accuracy of the matcher on a held-out file of questions.

An eval file is a YAML list of `{q: question, expect: entry id or null}`; null means off-topic,
which must be declined. For on-topic questions, top-1 and top-3 are retrieval accuracy: the
expected entry is the first (among the first three) candidates. How the bands treat them is
reported next to it: answered correctly (answered outright with the expected entry) and
wrongly declined (an on-topic question the bot declined). For off-topic questions: declined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.matching import Matcher
from bot.models import Band


class EvalError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EvalItem:
    question: str
    expect: str | None


@dataclass
class EvalReport:
    on_topic: int = 0
    off_topic: int = 0
    top1_hits: int = 0
    top3_hits: int = 0
    answered_hits: int = 0
    declined_hits: int = 0
    false_declines: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return self.top1_hits / self.on_topic if self.on_topic else 1.0

    @property
    def top3(self) -> float:
        return self.top3_hits / self.on_topic if self.on_topic else 1.0

    @property
    def answered(self) -> float:
        return self.answered_hits / self.on_topic if self.on_topic else 1.0

    @property
    def wrongly_declined(self) -> float:
        return self.false_declines / self.on_topic if self.on_topic else 0.0

    @property
    def declined(self) -> float:
        return self.declined_hits / self.off_topic if self.off_topic else 1.0

    def render(self, verbose: bool = False) -> str:
        lines = [
            f"on-topic questions:   {self.on_topic}",
            f"top-1 accuracy:       {self.top1:.1%} ({self.top1_hits}/{self.on_topic})",
            f"top-3 accuracy:       {self.top3:.1%} ({self.top3_hits}/{self.on_topic})",
            f"answered correctly:   {self.answered:.1%} ({self.answered_hits}/{self.on_topic})",
            f"wrongly declined:     {self.wrongly_declined:.1%} ({self.false_declines}/{self.on_topic})",
            f"off-topic questions:  {self.off_topic}",
            f"off-topic declined:   {self.declined:.1%} ({self.declined_hits}/{self.off_topic})",
        ]
        if verbose and self.misses:
            lines.append("misses:")
            lines += [f"  {m}" for m in self.misses]
        return "\n".join(lines)


def load_eval_file(path: Path) -> list[EvalItem]:
    """Items of one eval file, or of every *.yaml file in a directory (sorted by name)."""
    if path.is_dir():
        return [item for file in sorted(path.glob("*.yaml")) for item in load_eval_file(file)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalError(f"cannot read eval file {path}: {exc}") from None
    if not isinstance(data, list):
        raise EvalError(f"{path}: an eval file is a list of {{q, expect}} items")
    items = []
    for i, raw in enumerate(data, 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("q"), str) or "expect" not in raw:
            raise EvalError(f"{path}: item {i} needs q (text) and expect (entry id or null)")
        expect = raw["expect"]
        if expect is not None and not isinstance(expect, str):
            raise EvalError(f"{path}: item {i}: expect must be an entry id or null")
        items.append(EvalItem(raw["q"], expect))
    return items


def evaluate(matcher: Matcher, items: Sequence[EvalItem]) -> EvalReport:
    report = EvalReport()
    for item in items:
        result = matcher.match(item.question)
        if item.expect is None:
            report.off_topic += 1
            if result.band is Band.DECLINED:
                report.declined_hits += 1
            else:
                report.misses.append(f"off-topic not declined: {item.question!r} -> {result.best}")
            continue
        report.on_topic += 1
        ids = [c.entry_id for c in matcher.rank(item.question, limit=3)]
        if ids[:1] == [item.expect]:
            report.top1_hits += 1
        else:
            report.misses.append(f"{item.question!r}: expected {item.expect}, got {ids[:1] or None}")
        if item.expect in ids:
            report.top3_hits += 1
        if result.band is Band.ANSWERED and result.best is not None and result.best.entry_id == item.expect:
            report.answered_hits += 1
        if result.band is Band.DECLINED:
            report.false_declines += 1
            report.misses.append(f"{item.question!r}: expected {item.expect}, declined")
    return report
