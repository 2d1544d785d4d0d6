"""The shipped knowledge base: TEST ALL, the quality bar, and the held-out eval gates."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.evaluate import EvalItem, evaluate, load_eval_file
from bot.knowledge import KnowledgeBase
from bot.models import Band
from bot.service import Snapshot
from bot.text import normalize_basic
from tests.conftest import EVAL_DIR, ROOT, SHIPPED_KB

OFFICIAL_HOSTS = {
    "kubernetes.io",
    "docs.docker.com",
    "github.com",
    "docs.aws.amazon.com",
    "aws.amazon.com",
    "nodejs.org",
    "opentelemetry.io",
    "docs.python.org",
    "pkg.go.dev",
    "go.dev",
    "man7.org",
    "docs.kernel.org",
    "book.kubebuilder.io",
    "www.w3.org",
    "w3c.github.io",
    "kubectl.docs.kubernetes.io",
    "opencontainers.org",
    "argo-cd.readthedocs.io",
    "argo-rollouts.readthedocs.io",
    "docs.flagger.app",
    "kubernetes.github.io",
    "coredns.io",
    "helm.sh",
    "etcd.io",
    "karpenter.sh",
    "cert-manager.io",
    "kind.sigs.k8s.io",
    "minikube.sigs.k8s.io",
    "gateway-api.sigs.k8s.io",
    "metallb.universe.tf",
    "dev.mysql.com",
    "mariadb.com",
    "learn.microsoft.com",
}


def _theme(path: str) -> str:
    return Path(path).resolve().relative_to(SHIPPED_KB.resolve()).parts[0]


def test_test_all_every_alternate_resolves_to_its_own_entry(shipped_snapshot: Snapshot) -> None:
    misses = []
    for entry in shipped_snapshot.kb.entries.values():
        for question in entry.questions:
            result = shipped_snapshot.matcher.match(question)
            if result.band is not Band.ANSWERED or result.best is None or result.best.entry_id != entry.id:
                misses.append(f"{entry.id}: {question!r} -> {result.best} {result.band.value}")
    assert misses == []


def test_size_and_questions(shipped_kb: KnowledgeBase) -> None:
    assert len(shipped_kb.entries) >= 150
    for entry in shipped_kb.entries.values():
        assert len(entry.questions) >= 4, entry.id
        assert len({normalize_basic(q) for q in entry.questions}) == len(entry.questions), entry.id


def test_answers_fit_a_chat_message(shipped_kb: KnowledgeBase) -> None:
    too_long = [e.id for e in shipped_kb.entries.values() if len(e.answer) > 1200]
    assert too_long == []


def test_concept_entries_have_an_analogy(shipped_kb: KnowledgeBase) -> None:
    missing = [e.id for e in shipped_kb.entries.values() if _theme(e.path) == "concepts" and not e.analogy]
    assert missing == []


def test_debugging_entries_have_commands(shipped_kb: KnowledgeBase) -> None:
    missing = [
        e.id
        for e in shipped_kb.entries.values()
        if _theme(e.path) in ("debugging", "tools") and not any(t.command for t in e.tips)
    ]
    assert missing == []


def test_every_entry_cites_official_docs_and_links_on(shipped_kb: KnowledgeBase) -> None:
    for entry in shipped_kb.entries.values():
        hosts = {urlparse(u).hostname for u in entry.sources}
        assert hosts & OFFICIAL_HOSTS, f"{entry.id}: {entry.sources}"
        assert all(u.startswith("https://") for u in entry.sources), entry.id
        assert entry.see_also, f"{entry.id} has no see_also"


def test_themes_are_organised_in_folders(shipped_kb: KnowledgeBase) -> None:
    themes = {_theme(e.path) for e in shipped_kb.entries.values()}
    assert {"concepts", "containers", "debugging", "api", "platforms"} <= themes


def test_onboarding_path_walks_the_analogy_chain_in_order(shipped_kb: KnowledgeBase) -> None:
    steps = list(shipped_kb.paths["onboarding"].steps)
    chain = ["vms-old-way", "container", "pod", "node", "deployment", "service", "kubernetes-api"]
    positions = [steps.index(step) for step in chain]
    assert positions == sorted(positions)
    assert "debugging-101" in shipped_kb.paths


def test_synonyms_cover_the_usual_abbreviations(shipped_kb: KnowledgeBase) -> None:
    for short in ("k8s", "svc", "po", "ns", "deploy", "cm", "pvc", "hpa", "sts", "ds"):
        assert short in shipped_kb.synonyms, short


@pytest.fixture(scope="module")
def eval_items() -> list:  # type: ignore[type-arg]
    return load_eval_file(EVAL_DIR)


def test_eval_file_is_held_out_and_large_enough(eval_items: list, shipped_kb: KnowledgeBase) -> None:  # type: ignore[type-arg]
    alternates = {normalize_basic(q) for e in shipped_kb.entries.values() for q in (e.title, *e.questions)}
    on_topic = [i for i in eval_items if i.expect]
    assert len(on_topic) >= 150 and len(eval_items) - len(on_topic) >= 40
    assert [i.question for i in eval_items if normalize_basic(i.question) in alternates] == []
    assert {i.expect for i in on_topic} <= set(shipped_kb.entries)


# Held-out gates (issue 11). Only aggregate figures are printed on failure: the items of held-out
# sets must never reach the people who write the knowledge base. The answered-wrong and
# off-topic limits are the targets; the answered-correctly floors guard today's level (the
# targets, 92 % on tests/eval and 85 % on the real questions, are not reached yet).
def test_held_out_eval_gates(eval_items: list, shipped_snapshot: Snapshot) -> None:  # type: ignore[type-arg]
    report = evaluate(shipped_snapshot.matcher, eval_items)
    summary = report.render()
    assert report.top1 >= 0.90, summary
    assert report.answered() >= 0.77, summary
    assert report.wrong() <= 0.05, summary
    assert report.declined >= 0.95, summary


def _round_threads(last: int) -> set[str]:
    """The threads of the real-question corpus's rounds 1..``last`` (`benchmarks/real/pool/*.yaml`;
    the first round's files carry no number): the items a gate below was set on."""
    pool = ROOT / "benchmarks" / "real" / "pool"
    threads = set()
    for file in sorted(pool.glob("*.yaml")):
        digits = file.stem[len(file.stem.rstrip("0123456789")) :]
        if int(digits or 1) <= last:
            threads |= {i.source.split("#", 1)[0].rstrip("/") for i in load_eval_file(file)}
    return threads


def test_real_question_gates(shipped_snapshot: Snapshot) -> None:
    items = load_eval_file(ROOT / "benchmarks" / "real" / "test.yaml")
    n_on, n_off = sum(i.on_topic for i in items), sum(not i.on_topic for i in items)
    assert n_on >= 400 and n_off >= 90
    report = evaluate(shipped_snapshot.matcher, items)
    summary, wrong = report.render(), report.wrong()
    assert wrong <= 0.05, summary

    # Answered correctly: on the held-out items of rounds 1-5, where this gate was set (63 %). The
    # later rounds are harder (each measured whole before anything changed for it: rounds 6 and 7
    # read 61.6 % and 53.0 %) and pull the whole set's figure down: measured and reported, not gated.
    # Off-topic declined: on the first round's held-out items, where that gate was set. The second
    # round's off-topic posts are below 95 % (benchmarks/README.md): measured and reported, not gated.
    def thread(item: EvalItem) -> str:
        return item.source.split("#", 1)[0].rstrip("/")

    # (figures only in the messages: pytest would print the held-out items of an expression)
    set_on, first = _round_threads(5), _round_threads(1)
    on_set = [i for i in items if i.on_topic and thread(i) in set_on]
    off_first = [i for i in items if not i.on_topic and thread(i) in first]
    n_on_set, n_off_first = len(on_set), len(off_first)
    assert n_on_set >= 600 and n_off_first >= 60
    answered = evaluate(shipped_snapshot.matcher, on_set).answered()
    declined = evaluate(shipped_snapshot.matcher, off_first).declined
    assert answered >= 0.63, f"rounds 1-5: answered correctly {answered:.1%}\n{summary}"
    assert declined >= 0.95, f"round 1: off-topic declined {declined:.1%}\n{summary}"
