"""Which platform a question and an entry name (`bot.platforms`): agreement minus conflict, an
entry's share read from its own title and questions, and the twin entries it tells apart."""

from __future__ import annotations

import pytest

from bot.evidence import FEATURES
from bot.examples import words
from bot.models import Entry
from bot.platforms import PlatformSides
from bot.service import Snapshot

PLATFORMS = (("docker", ("docker", "compose")), ("kubernetes", ("kubectl", "pod")))


def entry(entry_id: str, *questions: str) -> Entry:
    return Entry(
        id=entry_id,
        title=questions[0],
        questions=tuple(questions[1:]),
        answer="an answer",
        sources=("https://kubernetes.io/docs/",),
    )


ENTRIES = [
    entry("docker-exec", "docker exec into a container", "open a shell in a running container"),
    entry("kubectl-exec", "kubectl exec into a pod", "shell in a pod", "exec into a running container"),
    entry("both", "docker compose or a kubectl port-forward", "kubectl port-forward to a pod"),
    entry("neither", "what is a container image", "image layers"),
]


def test_shares_are_of_the_entrys_own_title_and_questions() -> None:
    sides = PlatformSides(PLATFORMS, ENTRIES)
    assert sides.shares(0) == (0.5, 0.0)
    assert sides.shares(1) == pytest.approx((0.0, 2 / 3))
    assert sides.shares(2) == (0.5, 1.0)
    assert sides.shares(3) == (0.0, 0.0)


def test_agreement_minus_conflict() -> None:
    sides = PlatformSides(PLATFORMS, ENTRIES)
    docker = sides.match(words("how do I get a shell in a running docker container"), [0, 1, 2, 3])
    assert docker == pytest.approx([0.5, -2 / 3, 0.5 - 1.0, 0.0])
    kube = sides.match(words("kubectl exec says container not found"), [0, 1, 2, 3])
    assert kube == pytest.approx([-0.5, 2 / 3, 1.0 - 0.5, 0.0])
    both = sides.match(words("docker compose file to a kubectl manifest"), [0, 1])
    assert both == pytest.approx([0.5 - 0.5, 2 / 3 - 2 / 3])


def test_a_question_that_names_no_platform_and_a_kb_without_platforms() -> None:
    assert PlatformSides(PLATFORMS, ENTRIES).match(words("shell in a running container"), [0, 1]) == [
        0.0,
        0.0,
    ]
    assert PlatformSides((), ENTRIES).match(words("docker exec"), [0, 1]) == [0.0, 0.0]


def test_the_shipped_twins_are_told_apart(shipped_snapshot: Snapshot) -> None:
    """The Docker question favours the Docker entry and the Kubernetes one the Kubernetes entry,
    through the `platform` feature of the evidence."""
    m = shipped_snapshot.matcher
    column = FEATURES.index("platform")
    for question, mine, twin in [
        ("how do I get a shell in a running docker container", "docker-exec", "kubectl-exec"),
        ("open a shell in a running pod with kubectl", "kubectl-exec", "docker-exec"),
    ]:
        got = {e.entry_id: e.features[column] for e in m.evidence(question, limit=10)}
        assert mine in got and got[mine] > 0.0, question
        if twin in got:
            assert got[twin] < got[mine], question


def test_warm_reads_every_entry_once() -> None:
    sides = PlatformSides(PLATFORMS, ENTRIES)
    assert sides.shares(1) == pytest.approx((0.0, 2 / 3))  # read on first use
    assert sides.warm() == 3  # the other three
    assert sides.warm() == 0
    assert sides.shares(2) == (0.5, 1.0)
    assert PlatformSides((), ENTRIES).warm() == 0  # nothing to read without platforms
    stopped = PlatformSides(PLATFORMS, ENTRIES)
    assert stopped.warm(stop=lambda: True) == 0
