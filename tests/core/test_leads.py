"""Leads (`bot.leads`): a ranker's gap for every candidate but the best, and for the best how far
ahead of the runner-up it is; and the five lead columns of the evidence."""

from __future__ import annotations

import pytest

from bot.evidence import FEATURES
from bot.leads import leads
from bot.service import Snapshot

# each lead column and the column whose values it reads
LEAD_OF = {
    "wording_lead": "wording",
    "example_lead": "example",
    "semantic_lead": "semantic",
    "answer_lead": "answer_covered",
    "title_lead": "title_score",
}


def test_the_best_gets_its_margin_over_the_runner_up_and_the_others_their_gap() -> None:
    assert leads([0.2, 0.9, 0.5]) == pytest.approx([-0.7, 0.4, -0.4])
    assert leads([0.0, -1.0]) == pytest.approx([1.0, -1.0])  # negative values (an unknown wording row)


def test_ties_a_single_value_and_none() -> None:
    assert leads([0.5, 0.5, 0.1]) == pytest.approx([0.0, 0.0, -0.4])  # a tie: nobody is ahead
    assert leads([0.3]) == pytest.approx([0.3])  # alone: ahead of nothing by its whole value
    assert leads([]) == []


def test_a_clear_winner_and_a_close_one_differ_only_in_the_lead() -> None:
    clear, close = leads([0.9, 0.1]), leads([0.9, 0.85])
    assert clear[0] == pytest.approx(0.8) and close[0] == pytest.approx(0.05)
    assert clear[1] == pytest.approx(-0.8) and close[1] == pytest.approx(-0.05)


@pytest.mark.parametrize(
    "question",
    [
        "docker logs of a crashed container",
        "my pod is stuck in Pending",
        # a pasted post: the only kind compared with the examples
        "pod stuck in Pending\n0/3 nodes are available: 3 Insufficient cpu.\nwhat should I change?",
    ],
)
def test_the_evidence_carries_each_rankers_leads(shipped_snapshot: Snapshot, question: str) -> None:
    """Computed over the candidates the decision sees, from the values of the column each reads."""
    rows = [e.features for e in shipped_snapshot.matcher.evidence(question)]
    assert len(rows) > 1
    for lead, value in LEAD_OF.items():
        values = [r[FEATURES.index(value)] for r in rows]
        got = [r[FEATURES.index(lead)] for r in rows]
        assert got == pytest.approx(leads(values)), lead
        best = values.index(max(values))
        assert got[best] >= 0.0 and all(g <= 0.0 for k, g in enumerate(got) if k != best), lead
