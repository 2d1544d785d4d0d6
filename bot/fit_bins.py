"""The weighted tree fit's feature bins, found in one call for all features.

A gradient-boosted fit with `sample_weight` makes scikit-learn (1.9) find each continuous
feature's 254 bin edges one weighted percentile at a time: on the bundled fit set that is ~95 % of
a tree fit (1.5 s of 1.6 s), and it made `benchmarks/calibrate.py` ~2.5 times slower. The same
edges come from one call with all the percentiles and all the many-valued features (scikit-learn
then loops over the percentiles once for every column, not once per column). Each feature with
more distinct values than bins is replaced by its bin number (so scikit-learn sees few distinct
values and bins them as they are, with no percentiles), and `edge` maps a split between two bin
numbers back to the edge scikit-learn would have split at. `tests/core/test_kb_calibrate.py`
checks that the trees are the ones scikit-learn fits on the raw features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Rows = npt.NDArray[np.float64]
MAX_BINS = 255  # HistGradientBoosting's default `max_bins`: bins for non-missing values


@dataclass(frozen=True, slots=True)
class Bins:
    """One feature's bin edges (`x` is in bin i iff edges[i-1] < x <= edges[i]) and the bin
    numbers that hold training values."""

    edges: npt.NDArray[np.float64]
    present: npt.NDArray[np.int64]  # sorted


def bin_features(x: npt.ArrayLike, weights: npt.ArrayLike) -> tuple[Rows, list[Bins | None]]:
    """`x` with each many-valued feature replaced by its bin number under the weighted
    percentiles that scikit-learn uses, and those bins (None: the feature is unchanged)."""
    from sklearn.utils.stats import _weighted_percentile

    ranks = np.linspace(0, 100, num=MAX_BINS + 1)[1:-1]
    out = np.array(x, dtype=np.float64, copy=True)
    many = [f for f in range(out.shape[1]) if len(np.unique(out[:, f])) > MAX_BINS]
    bins: list[Bins | None] = [None] * out.shape[1]
    if not many:
        return out, bins
    # all the many-valued features in one call: scikit-learn loops over the percentiles, each
    # pass serving every column (one call per column made that loop ~7 times as long), and sorts
    # each column on its own either way, so the edges are the same
    percentiles = _weighted_percentile(out[:, many], weights, ranks, average=True)
    for f, row in zip(many, percentiles, strict=True):
        edges = np.unique(row)
        numbers = np.searchsorted(edges, out[:, f], side="left")
        out[:, f] = numbers
        bins[f] = Bins(edges, np.unique(numbers))
    return out, bins


def edge(bins: Bins, threshold: float) -> float:
    """The edge on the raw feature for a split at `threshold` between two bin numbers: the upper
    edge of the highest bin with training values at or below it."""
    below = bins.present[np.searchsorted(bins.present, threshold, side="right") - 1]
    return float(bins.edges[below])


def to_bins(bins: Sequence[Bins | None], x: npt.ArrayLike) -> Rows:
    """New rows for a model fitted on `bin_features`'s output: each binned feature as the bin
    number that falls on the same side of every split as the raw value does under `edge` (a bin
    without training values counts as the next bin with some)."""
    out = np.array(x, dtype=np.float64, copy=True)
    for f, b in enumerate(bins):
        if b is not None:
            numbers = np.searchsorted(b.edges, out[:, f], side="left")
            at = np.minimum(np.searchsorted(b.present, numbers, side="left"), len(b.present) - 1)
            out[:, f] = b.present[at]
    return out
