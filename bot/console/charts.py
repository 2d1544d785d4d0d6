"""Server-side SVG charts: geometry computed here, drawn by templates/_chart.html (autoescaped).

Three shapes: stacked bars (questions per day by band), a line (answer rate per day) and paired
bars (👍/👎 per day). Every data mark carries its value and a <title> tooltip, so the charts read
without JavaScript (the console has none) and a test can check what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.console.stats import BAND_LABELS, BANDS, Day

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 30
MAX_X_LABELS = 8


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    css: str
    value: int
    title: str


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    css: str
    value: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    bars: tuple[Bar, ...] = ()
    dots: tuple[Dot, ...] = ()
    line: str = ""  # polyline points
    grid: tuple[tuple[float, str], ...] = ()  # (y, label)
    x_labels: tuple[tuple[float, str], ...] = ()
    legend: tuple[tuple[str, str], ...] = ()  # (css class, label)
    empty: bool = True
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_bottom(self) -> float:
        return self.height - BOTTOM

    @property
    def plot_left(self) -> float:
        return LEFT

    @property
    def plot_right(self) -> float:
        return self.width - RIGHT


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _slots(days: Sequence[Day]) -> tuple[float, list[float]]:
    plot = WIDTH - LEFT - RIGHT
    slot = plot / max(len(days), 1)
    return slot, [LEFT + i * slot for i in range(len(days))]


def _x_labels(days: Sequence[Day], starts: list[float], slot: float) -> tuple[tuple[float, str], ...]:
    step = max(1, math.ceil(len(days) / MAX_X_LABELS))
    return tuple(
        (round(starts[i] + slot / 2, 1), days[i].day.strftime("%m-%d")) for i in range(0, len(days), step)
    )


def _y(value: float, top: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return round(HEIGHT - BOTTOM - plot * (value / top), 1)


def _grid(top: float, fmt: str = "{:g}") -> tuple[tuple[float, str], ...]:
    return tuple((_y(v, top), fmt.format(v)) for v in (0.0, top / 2, top))


def _bar_chart(
    chart_id: str,
    title: str,
    bars: list[Bar],
    top: float,
    x_labels: tuple[tuple[float, str], ...],
    legend: tuple[tuple[str, str], ...],
) -> Chart:
    """A bar chart on a 0..top grid (an empty one says so)."""
    return Chart(
        chart_id, title, bars=tuple(bars), grid=_grid(top), x_labels=x_labels, legend=legend, empty=not bars
    )


def questions_by_band(days: Sequence[Day]) -> Chart:
    slot, starts = _slots(days)
    top = nice_ceiling(max((d.total for d in days), default=0))
    bars: list[Bar] = []
    width = round(slot * 0.72, 1)
    for day, x0 in zip(days, starts, strict=True):
        below = 0
        for band, count in zip(BANDS, day.bands, strict=True):
            if not count:
                continue
            y_top, y_bottom = _y(below + count, top), _y(below, top)
            label = f"{day.day.isoformat()}: {count} {BAND_LABELS[band]}"
            bars.append(
                Bar(
                    round(x0 + slot * 0.14, 1),
                    y_top,
                    width,
                    round(y_bottom - y_top, 1),
                    f"band-{band.value}",
                    count,
                    label,
                )
            )
            below += count
    legend = tuple((f"band-{b.value}", BAND_LABELS[b]) for b in BANDS)
    x_labels = _x_labels(days, starts, slot)
    return _bar_chart("questions", "Questions per day, by band", bars, top, x_labels, legend)


def answer_rate(days: Sequence[Day]) -> Chart:
    slot, starts = _slots(days)
    dots: list[Dot] = []
    for day, x0 in zip(days, starts, strict=True):
        rate = day.answer_rate
        if rate is None:
            continue
        title = f"{day.day.isoformat()}: {rate:.0%} answered ({day.answered} of {day.total})"
        dots.append(Dot(round(x0 + slot / 2, 1), _y(rate, 1.0), "rate", f"{rate:.4f}", title))
    return Chart(
        "answer-rate",
        "Answer rate per day (answered, with or without alternatives)",
        dots=tuple(dots),
        line=" ".join(f"{d.x},{d.y}" for d in dots),
        grid=tuple((_y(v, 1.0), f"{v:.0%}") for v in (0.0, 0.5, 1.0)),
        x_labels=_x_labels(days, starts, slot),
        legend=(("rate", "answer rate"),),
        empty=not dots,
    )


def feedback(days: Sequence[Day]) -> Chart:
    slot, starts = _slots(days)
    top = nice_ceiling(max((max(d.helpful, d.unhelpful) for d in days), default=0))
    bars: list[Bar] = []
    width = round(slot * 0.34, 1)
    for day, x0 in zip(days, starts, strict=True):
        for offset, count, css, word in (
            (0.14, day.helpful, "vote-up", "👍"),
            (0.52, day.unhelpful, "vote-down", "👎"),
        ):
            if count:
                y = _y(count, top)
                title = f"{day.day.isoformat()}: {count} {word}"
                bars.append(
                    Bar(round(x0 + slot * offset, 1), y, width, round(_y(0, top) - y, 1), css, count, title)
                )
    legend = (("vote-up", "👍 helpful"), ("vote-down", "👎 not helpful"))
    x_labels = _x_labels(days, starts, slot)
    return _bar_chart("feedback", "👍 / 👎 on answers per day", bars, top, x_labels, legend)
