"""Leads: how far ahead of the other candidates each one is on one ranker's values.

A gap column (`semantic_gap`, `example_gap`, ...) is a candidate's value minus the best one's: 0 for
the best however far ahead it is. A lead is the same for the others and, for the best, its value
minus the runner-up's, so that the answer model can tell a clear winner from a tie
(`benchmarks/decide_lab_columns.py leads`).
"""

from __future__ import annotations

from collections.abc import Sequence


def leads(values: Sequence[float]) -> list[float]:
    """Per value: itself minus the highest; for the highest (the first of equals), itself minus
    the next highest (minus 0 when it is alone)."""
    if not values:
        return []
    ordered = sorted(values)  # (sorting six values costs less than two passes of max)
    top = ordered[-1]
    out = [v - top for v in values]
    out[values.index(top)] = top - (ordered[-2] if len(ordered) > 1 else 0.0)
    return out
