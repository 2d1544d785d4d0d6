"""A shortlisted entry as the matcher scored it (`Scored`), and the part of its evidence vector
(`bot.evidence.FEATURES`, from ``score`` to ``specific``) read from that score (`evidence_of`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple


class Scored(NamedTuple):
    score: float  # the ranking score
    entry: int
    covered: float  # share of the question's weight found in the entry's vocabulary
    mass: float  # that weight, in units of the rarest word's weight: how much evidence there is
    exact: bool
    best_alt: float  # the best single alternate's score
    together: float  # most question words found together in one alternate (a phrase: two)
    found: Sequence[bool] = ()  # which of the question's tokens (gains, in order) its vocabulary has


SCORE, ENTRY = itemgetter(0), itemgetter(1)  # sort keys


def evidence_of(
    c: Scored,
    ranked: list[Scored],
    q: tuple[float, float, float, float, float, float],
    title: Scored | None,
    rarest: float,
    semantic: float,
    semantic_gap: float,
) -> tuple[float, ...]:
    """The evidence vector of `bot.evidence.FEATURES` for candidate ``c``; ``q`` is the question's
    part (`Query.features`) and ``title`` the same entry scored against a post's title alone."""
    top = ranked[0].score
    margin = top - (ranked[1].score if len(ranked) > 1 else 0.0) if c is ranked[0] else c.score - top
    known_share, domain_share, pasted, length, anchors, specific = q
    return (
        c.score,
        c.covered,
        c.best_alt,
        margin,
        float(c.exact),
        known_share,
        min(c.together, 4) / 4,
        domain_share,
        min(math.log1p(c.mass) / 3.0, 1.0),
        pasted,
        length,
        title.score if title else 0.0,
        title.best_alt if title else 0.0,
        title.covered if title else 0.0,
        rarest,
        anchors,
        semantic,
        semantic_gap,
        specific,
    )
