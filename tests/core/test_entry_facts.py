"""What the decision reads about a candidate entry itself (`bot.entry_facts`): how much of the
question its answer text speaks of, and how broad the entry is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import entry_facts
from bot.evidence import FEATURES, TOPIC_FEATURES, Evidence
from bot.knowledge import KnowledgeBase
from bot.matching import Matcher
from bot.models import Entry, Tip

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ("https://kubernetes.io/docs/",)
ENTRIES = [
    Entry(
        "pull-denied",
        "docker pull fails with access denied",
        ("docker pull access denied", "cannot pull my image"),
        "The registry refused the pull: a typo in the repository name answers manifest unknown, a private "
        "repository needs docker login first.",
        SOURCES,
        tips=(Tip("Log in to the registry", "docker login registry.example.com"),),
    ),
    Entry(
        "image-pull-backoff",
        "Pod stuck in ImagePullBackOff",
        (
            "pod imagepullbackoff",
            "errimagepull on my pod",
            "kubelet cannot pull the image",
            "image pull fails in cluster",
        ),
        "The kubelet could not pull the image: check the tag and the imagePullSecrets.",
        SOURCES,
    ),
    Entry(
        "pod",
        "What is a Pod?",
        ("what is a pod",),
        "A group of containers that share a network namespace.",
        SOURCES,
    ),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ENTRIES)


def _facts(matcher: Matcher, question: str) -> dict[str, Evidence]:
    return {e.entry_id: e for e in matcher.evidence(question)}


def test_words_only_the_answer_text_names_count_for_its_entry(matcher: Matcher) -> None:
    # "manifest unknown" and "login" are in the pull-denied answer and tip, in no entry's questions
    ev = _facts(matcher, "docker pull says manifest unknown, do I need to login")
    denied, backoff = ev["pull-denied"], ev["image-pull-backoff"]
    assert denied.feature("answer_covered") > backoff.feature("answer_covered")
    assert denied.feature("answer_new") > 0.0  # words its own questions do not have
    assert denied.feature("answer_gap") == 0.0  # the highest among the candidates
    assert backoff.feature("answer_gap") < 0.0
    assert 0.0 < denied.feature("answer_rarest") <= 1.0
    assert 0.0 <= denied.feature("answer_new") <= denied.feature("answer_covered") <= 1.0


def test_a_question_the_answer_never_speaks_of_has_none_of_it(matcher: Matcher) -> None:
    ev = _facts(matcher, "what is a pod")["pod"]
    assert ev.feature("answer_covered") == 0.0
    assert ev.feature("answer_rarest") == 0.0
    assert ev.feature("answer_new") == 0.0


def test_breadth_grows_with_the_entrys_questions_and_words(matcher: Matcher) -> None:
    ev = _facts(matcher, "image pull fails")
    narrow, broad = ev["pull-denied"], ev["image-pull-backoff"]
    assert broad.feature("entry_questions") > narrow.feature("entry_questions")
    assert broad.feature("entry_words") > narrow.feature("entry_words")
    for e in (narrow, broad):
        for name in ("entry_questions", "entry_words", "entry_idf", "entry_idf_top"):
            assert 0.0 < e.feature(name) <= 1.0, name
        assert e.feature("entry_idf_top") >= e.feature("entry_idf")  # the rarest words weigh most


def test_the_topic_model_reads_the_question_not_one_entrys_facts() -> None:
    assert "answer_covered" in FEATURES and "entry_words" in FEATURES
    assert not {"margin", "answer_covered", "answer_new", "entry_words"} & set(TOPIC_FEATURES)


def test_warm_makes_every_entrys_facts_and_changes_no_evidence() -> None:
    cold, warm = Matcher(ENTRIES), Matcher(ENTRIES)
    assert warm.warm() == len(ENTRIES)
    assert warm.warm() == 0
    assert None not in warm._facts._facts and None in cold._facts._facts
    for q in ("docker pull manifest unknown", "pod imagepullbackoff", "what is a pod", "x"):
        assert warm.evidence(q) == cold.evidence(q)


_SCRIPT = """
import json, sys
from pathlib import Path
from bot.knowledge import load_knowledge
from bot.matching import Matcher
kb = load_knowledge(Path("knowledge"))
m = Matcher(kb.entries.values(), kb.synonyms, domain=kb.domain, specific=kb.specific, platforms=kb.platforms)
qs = ["docker pull manifest unknown after docker login to my private registry",
      "container exits with code 137 under load, the host has plenty of memory",
      "kubectl exec into the pod says executable file not found: bash"]
print(json.dumps([[list(e.features) for e in m.evidence(q)] for q in qs]))
"""


def test_the_facts_are_the_same_in_every_process() -> None:
    """Sums run in question order, not in a set's order (which moves with the hash seed): the fitted
    calibration must be reproducible from any process."""
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "KUBEBOT_INDEX_CACHE": "off"}
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout))
    assert runs[0] == runs[1]
    assert any(row[FEATURES.index("answer_covered")] > 0 for q in runs[0] for row in q)


def test_a_warm_up_gives_way_when_asked_to_stop() -> None:
    """A reload requested during the warm-up after a swap stops it (the rest is read when asked)."""
    m = Matcher(ENTRIES)
    asked = iter([False, True])  # the first entry, then stop
    assert m.warm(keys=False, stop=lambda: next(asked)) == 1
    assert m._facts._facts.count(None) == len(ENTRIES) - 1
    assert m.warm(keys=False) == len(ENTRIES) - 1  # the rest, when nothing stops it


def test_a_big_knowledge_bases_compact_facts_give_the_same_evidence(
    shipped_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to `SETS_KEPT` entries an answer's words are sets; above, sorted keys (~1.5 KB an entry
    instead of ~8): the evidence is the same bit for bit either way."""
    entries, kb = list(shipped_kb.entries.values()), shipped_kb

    def build() -> Matcher:
        return Matcher(entries, kb.synonyms, domain=kb.domain, specific=kb.specific, platforms=kb.platforms)

    small = build()
    monkeypatch.setattr(entry_facts, "SETS_KEPT", 0)
    big = build()
    assert small._facts._sets and not big._facts._sets
    questions = [
        "docker pull manifest unknown after docker login to my private registry",
        "container exits with code 137 under load, the host has plenty of memory",
        "kubectl exec into the pod says executable file not found: bash",
        "Error: INSTALLATION FAILED: cannot re-use a name that is still in use\nhelm install web ./chart",
        "what is a pod",
        "banana bread recipe",
    ]
    covered = FEATURES.index("answer_covered")
    for q in questions:
        assert big.evidence(q) == small.evidence(q), q
    assert any(e.features[covered] > 0 for q in questions for e in big.evidence(q))
