"""The matcher's outputs, pinned: ranked entry ids, evidence features and matched words for a
few hundred questions (chat lines, real pasted posts, typos, a 1 MB paste) on the shipped knowledge
base, on the shipped one with phrase tokens on, and on a 3,000-entry synthetic one (where capped
postings and ties between near-identical entries matter).

The golden file was recorded from the matcher before it was optimised for speed; any speed-up
must reproduce it (ids exactly, features within 1e-9). When the matching *semantics* change on
purpose (a new feature, new weights), re-record it and say so in the commit:

    .venv/bin/python -m tests.core.test_matching_golden
"""

from __future__ import annotations

import gzip
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import big_paste, load_items, synthetic_entries
from bot.knowledge import load_knowledge
from bot.match_settings import MatchSettings
from bot.matching import Matcher
from bot.text import clean_input

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "golden_matching.json.gz"
TOLERANCE = 1e-9
LIMIT = 12  # the whole shortlist, not only what the decision reads

TYPOS = [
    "pod in crashlopbackoff",
    "how do i scalle a deploymnet",
    "imagepullbakoff on privat registery",
    "persistant volume claim pending",
    "kubectl port-forwrd not working",
    "configmap chnages not picked up",
    "dockerfil entrypoint vs cmd",
    "helm upgarde failed another operation in progress",
    "ingres controller returns 404",
    "namspace stuck terminating",
]


def _questions(kind: str) -> list[str]:
    fit = [i.question for i in load_items("benchmarks/real/fit.yaml")]
    calib = [i.question for i in load_items("benchmarks/calib")]
    held = [i.question for i in load_items("tests/eval")]
    if kind == "shipped":
        return fit + held[::3] + calib[::5] + TYPOS + ["", "   ", big_paste()]
    if kind == "phrases":
        return fit[::4] + calib[::8] + TYPOS
    return fit[::3] + calib[::10] + TYPOS  # synthetic


@cache
def _matcher(kind: str) -> Matcher:
    kb = load_knowledge(ROOT / "knowledge")
    entries = list(kb.entries.values())
    if kind == "synthetic":
        entries = synthetic_entries(entries, 3000)
    settings = MatchSettings(phrase_weight=0.5) if kind == "phrases" else None
    return Matcher(
        entries, kb.synonyms, settings, domain=kb.domain, specific=kb.specific, platforms=kb.platforms
    )


def _record(matcher: Matcher, question: str) -> list[list[Any]]:
    return [
        [e.entry_id, [round(f, 12) for f in e.features], list(e.matched)]
        for e in matcher.evidence(clean_input(question), LIMIT)
    ]


KINDS = ("shipped", "phrases", "synthetic")


@cache
def _golden() -> dict[str, list[list[Any]]]:
    data: dict[str, list[list[Any]]] = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    return data


def _tie_groups(ranked: list[list[Any]]) -> list[list[Any]]:
    """Runs of candidates whose scores are equal within the tolerance. Their order is not part of
    the contract: the matcher before optimisation summed floats in set order, so the last bit of
    a score (and the order of exact ties) changed with PYTHONHASHSEED."""
    groups: list[list[Any]] = []
    for row in ranked:
        if groups and abs(groups[-1][-1][1][0] - row[1][0]) <= TOLERANCE:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _compare(q: str, got: list[list[Any]], want: list[list[Any]]) -> list[str]:
    if len(got) != len(want):
        return [f"{q[:60]!r}: {len(got)} candidates != {len(want)}"]
    out: list[str] = []
    position = 0
    for group in _tie_groups(want):
        mine = got[position : position + len(group)]
        position += len(group)
        truncated = position == len(want) == LIMIT  # a tie may straddle the limit
        if not truncated and sorted(g[0] for g in mine) != sorted(w[0] for w in group):
            return [f"{q[:60]!r}: ids {[g[0] for g in got]} != {[w[0] for w in want]}"]
        by_id = {w[0]: w for w in group}
        for g in mine:
            w = by_id.get(g[0])
            if w is None:
                continue
            if g[2] != w[2]:
                out.append(f"{q[:60]!r}: {g[0]} matched {g[2]} != {w[2]}")
            worst = max(abs(a - b) for a, b in zip(g[1], w[1], strict=True))
            if not worst <= TOLERANCE or any(math.isnan(a) for a in g[1]):
                out.append(f"{q[:60]!r}: {g[0]} features differ by {worst:g}")
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_matcher_reproduces_the_golden_rankings_and_evidence(kind: str) -> None:
    expected = _golden()[kind]
    questions = _questions(kind)
    assert len(expected) == len(questions) > 30
    matcher = _matcher(kind)
    mismatches: list[str] = []
    for (question, want), q in zip(expected, questions, strict=True):
        assert question == q[:200], "the question sets changed: re-record the golden file"
        mismatches += _compare(q, _record(matcher, q), want)
    assert not mismatches, f"{len(mismatches)} of {len(questions)} differ:\n" + "\n".join(mismatches[:20])


def test_the_comparison_catches_a_swapped_ranking_and_a_drifted_feature() -> None:
    want = [["a", [0.9, 0.5], ["x"]], ["b", [0.8, 0.5], ["x"]], ["c", [0.8, 0.4], []]]
    assert _compare("q", [want[0], want[2], want[1]], want) == []  # b and c tie on score
    assert _compare("q", [want[1], want[0], want[2]], want)  # a before b is not a tie
    drifted = [["a", [0.9, 0.5 + 1e-6], ["x"]], want[1], want[2]]
    assert _compare("q", drifted, want)
    assert _compare("q", [["a", [0.9, 0.5], []], want[1], want[2]], want)


def record() -> None:
    out = {kind: [[q[:200], _record(_matcher(kind), q)] for q in _questions(kind)] for kind in KINDS}
    GOLDEN.write_bytes(gzip.compress(json.dumps(out, separators=(",", ":")).encode(), mtime=0))
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    record()
