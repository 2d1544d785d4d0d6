"""Numbers for the Overview and Entries pages: per-day counts by band, 👍/👎, per-entry traffic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.console.data import Period, Rows
from bot.models import Band

BANDS = (Band.ANSWERED, Band.ANSWERED_WITH_ALTERNATIVES, Band.SUGGESTED, Band.DECLINED)
BAND_LABELS = {
    Band.ANSWERED: "answered",
    Band.ANSWERED_WITH_ALTERNATIVES: "answered, with alternatives",
    Band.SUGGESTED: "did you mean",
    Band.DECLINED: "declined",
}


def day_of(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    bands: tuple[int, ...]  # counts in BANDS order
    helpful: int = 0  # 👍 on answers
    unhelpful: int = 0  # 👎 on answers

    @property
    def total(self) -> int:
        return sum(self.bands)

    @property
    def answered(self) -> int:
        return self.bands[0] + self.bands[1]

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class Totals:
    bands: tuple[int, ...]
    helpful: int
    unhelpful: int
    decline_helpful: int
    decline_unhelpful: int
    picks: int

    @property
    def questions(self) -> int:
        return sum(self.bands)

    @property
    def answer_rate(self) -> float | None:
        return (self.bands[0] + self.bands[1]) / self.questions if self.questions else None

    def band(self, band: Band) -> int:
        return self.bands[BANDS.index(band)]


def _band_index(value: str) -> int:
    try:
        return BANDS.index(Band(value))
    except ValueError:
        return BANDS.index(Band.DECLINED)  # an unknown band from a newer writer: not an answer


def daily(rows: Rows, period: Period) -> list[Day]:
    counts: dict[date, list[int]] = {d: [0] * len(BANDS) for d in period.days}
    up: Counter[date] = Counter()
    down: Counter[date] = Counter()
    for q in rows.questions:
        day = day_of(q.asked_at)
        if day in counts:
            counts[day][_band_index(q.band)] += 1
    for f in rows.feedback:
        if f.entry_id:
            (up if f.helpful else down)[day_of(f.given_at)] += 1
    return [Day(d, tuple(c), up[d], down[d]) for d, c in counts.items()]


def totals(rows: Rows) -> Totals:
    bands = [0] * len(BANDS)
    for q in rows.questions:
        bands[_band_index(q.band)] += 1
    fb = rows.feedback
    return Totals(
        tuple(bands),
        helpful=sum(1 for f in fb if f.entry_id and f.helpful),
        unhelpful=sum(1 for f in fb if f.entry_id and not f.helpful),
        decline_helpful=sum(1 for f in fb if not f.entry_id and f.helpful),
        decline_unhelpful=sum(1 for f in fb if not f.entry_id and not f.helpful),
        picks=len(rows.picks),
    )


@dataclass(frozen=True, slots=True)
class Traffic:
    """One entry's use in a period: answered with it, 👍/👎, and picks (chosen from buttons)."""

    asked: int = 0
    helpful: int = 0
    unhelpful: int = 0
    picked: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def rating(self) -> float | None:
        votes = self.helpful + self.unhelpful
        return self.helpful / votes if votes else None


def traffic(rows: Rows) -> dict[str, Traffic]:
    asked: Counter[str] = Counter(
        q.entry_id for q in rows.questions if q.entry_id and _band_index(q.band) <= 1
    )
    up: Counter[str] = Counter(f.entry_id for f in rows.feedback if f.entry_id and f.helpful)
    down: Counter[str] = Counter(f.entry_id for f in rows.feedback if f.entry_id and not f.helpful)
    picked: Counter[str] = Counter(p.entry_id for p in rows.picks)
    kinds: dict[str, Counter[str]] = {}
    for p in rows.picks:
        kinds.setdefault(p.entry_id, Counter())[p.kind] += 1
    ids = set(asked) | set(up) | set(down) | set(picked)
    return {
        i: Traffic(asked[i], up[i], down[i], picked[i], dict(kinds.get(i, Counter()))) for i in sorted(ids)
    }
