"""Bands and scoring pitfalls, on the small fixture knowledge base."""

from __future__ import annotations

import numpy as np
import pytest

from bot.decision import EXACT_CONFIDENCE
from bot.knowledge import KnowledgeBase
from bot.match_settings import MatchSettings
from bot.matching import Matcher
from bot.models import Band, Entry
from bot.service import Snapshot


@pytest.fixture(scope="module")
def matcher(fixture_kb: KnowledgeBase) -> Matcher:
    return Matcher(fixture_kb.entries.values(), fixture_kb.synonyms)


def test_exact_alternate_is_answered_with_high_confidence(matcher: Matcher) -> None:
    result = matcher.match("What is a Pod?")
    assert result.band is Band.ANSWERED
    assert result.best is not None and result.best.entry_id == "pod"
    assert result.confidence > 0.9


def test_abbreviations_and_typos(matcher: Matcher) -> None:
    assert matcher.match("whats a k8s po").best.entry_id == "pod"  # type: ignore[union-attr]
    assert matcher.match("pod in crashlopbackoff").best.entry_id == "crashloopbackoff"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "question",
    ["how do I center a div", "banana bread recipe", "how do i do it", "", "   ", "asdkjh qwpoeiru"],
)
def test_off_topic_gibberish_and_stop_words_are_declined(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).band is Band.DECLINED


def test_short_query_does_not_score_full_marks_against_longer_questions(matcher: Matcher) -> None:
    ranked = {c.entry_id: c.confidence for c in matcher.rank("pod", limit=10)}
    assert ranked["pod"] > ranked.get("deployment", 0.0)
    # "pod" appears in questions of several entries; only the pod entry may come close to 1
    assert sum(1 for v in ranked.values() if v >= 0.9) <= 1


def test_a_candidates_confidence_is_the_answer_models_probability_best_first(matcher: Matcher) -> None:
    for question in ["what is a pod", "pod", "what does a node and a deployment and a service do", "x"]:
        ranked = matcher.rank(question)
        evidence = {e.entry_id: e for e in matcher.evidence(question)}
        assert [c.confidence for c in ranked] == sorted((c.confidence for c in ranked), reverse=True)
        for c in ranked:
            assert c.confidence == round(matcher.calibration.p_answer(evidence[c.entry_id]), 4), question
    assert matcher.rank("What is a Pod?")[0].confidence >= EXACT_CONFIDENCE


def test_ranking_keeps_one_candidate_per_entry(matcher: Matcher) -> None:
    ids = [c.entry_id for c in matcher.rank("container vs vm pod", limit=10)]
    assert len(ids) == len(set(ids))


def test_ambiguous_question_suggests_candidates_by_gap() -> None:
    def entry(entry_id: str, word: str) -> Entry:
        questions = (f"{word} probe failed", f"what is a {word} probe", f"{word} probe settings")
        return Entry(entry_id, f"{word} probe", questions, "answer", ("https://kubernetes.io/",))

    # the shipped answer model and answer thresholds decide (a three-way tie must stay below them);
    # the topic threshold is pinned so that a tiny knowledge base is not declined as off topic
    settings = MatchSettings(topic_threshold=0.0)
    m = Matcher(
        [entry("readiness", "readiness"), entry("liveness", "liveness"), entry("pod", "pod")], None, settings
    )
    result = m.match("probe failed")
    assert result.band is Band.SUGGESTED
    assert {c.entry_id for c in result.candidates} == {"readiness", "liveness", "pod"}
    assert m.match("readiness probe failed").band is Band.ANSWERED


def test_answer_text_is_never_matched(matcher: Matcher) -> None:
    # "namespaces" and "cgroups" appear only in the container entry's answer, never in its questions
    assert matcher.match("namespaces cgroups").band is Band.DECLINED


def test_complete_returns_at_most_limit(matcher: Matcher) -> None:
    assert len(matcher.complete("", limit=5)) == 5
    assert matcher.complete("crashl", limit=25)[0].entry_id == "crashloopbackoff"


def test_complete_fills_the_limit_when_more_entries_fit() -> None:
    entries = [
        Entry(f"e{i}", f"what is thing {i}", (f"what is thing {i}",), "a", ("https://kubernetes.io/",))
        for i in range(40)
    ]
    m = Matcher(entries)
    for limit in (1, 25):
        ids = [c.entry_id for c in m.complete("what is thing", limit=limit)]
        assert len(ids) == limit == len(set(ids))


def test_exact_alternate_beyond_capped_postings_is_still_found() -> None:
    # 30 entries share every word; with postings capped at 5 the exact one is not in them
    entries = [
        Entry(
            f"e{i}",
            f"pod restart {i}",
            ("pod restart loop", f"pod restart case {i}", f"why pod restart {i}"),
            "a",
            ("https://kubernetes.io/",),
        )
        for i in range(30)
    ]
    entries[0] = Entry(
        "e0",
        "pod restart",
        ("pod restart", "pod restart loops", "pods restarting"),
        "a",
        ("https://kubernetes.io/",),
    )
    m = Matcher(entries[1:] + entries[:1], settings=MatchSettings(postings_cap=5))
    result = m.match("pod restart")
    assert result.best is not None and result.best.entry_id == "e0"


def test_shipped_kb_asks_back_on_an_ambiguous_but_on_topic_question(shipped_snapshot: Snapshot) -> None:
    result = shipped_snapshot.matcher.match("logs")
    assert result.band is Band.SUGGESTED
    assert {"kubectl-logs", "docker-logs"} <= {c.entry_id for c in result.candidates}
    matcher = shipped_snapshot.matcher
    threshold = matcher.thresholds.topic
    assert matcher.on_topic("logs") > threshold > matcher.on_topic("banana bread recipe")


def test_keys_spelt_per_question_score_as_keys_kept_whole(
    fixture_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge knowledge base spells its alternates' keys for each question; the scores are the same
    as with the keys kept one by one (spelt when an entry is first shortlisted)."""
    import bot.alternates

    whole = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms)
    monkeypatch.setattr(bot.alternates, "KEYS_KEPT", 0)
    spelt = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms, index=whole.index)
    assert whole._alternates._keys is not None and spelt._alternates._keys is None
    for q in ("what is a pod", "pod in crashlopbackoff", "deployment vs replicaset", "container vm"):
        assert spelt.evidence(q) == whole.evidence(q)


def test_warm_spells_every_entry_once_and_changes_no_answer(fixture_kb: KnowledgeBase) -> None:
    """`Matcher.warm` does ahead of time what first shortlisting would: every entry's keys spelt,
    the same evidence for every question as a matcher that spells them on the way."""
    cold = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms)
    warm = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms, index=cold.index)
    assert warm.warm() == len(fixture_kb.entries)
    assert all(warm._alternates._spelt) and None not in (warm._alternates._keys or [None])
    assert not any(cold._alternates._spelt)
    assert None not in warm._facts._facts  # every entry's answer text read too
    assert warm.warm() == 0  # nothing left to do
    for q in (
        "what is a pod",
        "pod in crashlopbackoff",
        "deployment vs replicaset",
        "container vm",
        "kubectl logs",
    ):
        assert warm.evidence(q) == cold.evidence(q)
    cold_keys, warm_keys = cold._alternates._keys, warm._alternates._keys
    assert cold_keys is not None and warm_keys is not None
    assert any(k is not None for k in cold_keys)  # the questions spelt some on the way...
    assert all(c is None or c == w for c, w in zip(cold_keys, warm_keys, strict=True))  # ...as warm did


def test_spelt_keys_are_the_sorted_unigrams_of_each_alternate(fixture_kb: KnowledgeBase) -> None:
    from bot.corpus import ranges
    from bot.index import Speller

    ix = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms).index
    starts = np.cumsum(ix.alt_len, dtype=np.int64) - ix.alt_len
    keys = Speller(ix.tokens).keys(ix.alt_tok[ranges(starts, ix.alt_uni)], ix.alt_uni)
    assert len(keys) == len(ix.alt_len) > 0
    for alt, key in enumerate(keys):
        words = key.decode() if isinstance(key, bytes) else key
        assert words == ix.key(alt) == " ".join(sorted(words.split()))


def test_the_exact_match_hash_is_the_same_in_python_and_numpy() -> None:
    import numpy as np

    from bot.index import fold, fold_one, token_hash, token_hash_one

    ids = np.array([0, 1, 2, 37, 2**20, 2**31 - 1], np.int64)
    assert [int(h) for h in token_hash(ids)] == [token_hash_one(int(i)) for i in ids]
    hashes = [token_hash_one(int(i)) for i in ids] + [sum(map(token_hash_one, range(9))) & (2**64 - 1)]
    assert [int(f) for f in fold(np.array(hashes, np.uint64))] == [fold_one(h) for h in hashes]
    assert len({fold_one(h) for h in hashes}) == len(hashes)


@pytest.mark.parametrize(
    ("question", "specific"),
    [
        ("502 Bad Gateway from nginx in front of my php app on an ubuntu vm, see my nginx.conf", 0.0),
        ("curl to the api with a bearer token returns 401, check the service logs", 0.0),
        ("kubectl get pods shows CrashLoopBackOff", 1.0),
        ("docker compose up fails", 1.0),
        ("my ingress returns 502", 0.5),
    ],
)
def test_specific_counts_only_words_that_mark_the_domain_on_their_own(
    shipped_snapshot: Snapshot, question: str, specific: float
) -> None:
    """nginx, node, service, api, token and logs are domain words (anchors) but not specific ones;
    kubectl, pod, docker and CrashLoopBackOff are. Two distinct specific words fill the feature."""
    evidence = shipped_snapshot.matcher.evidence(question)
    assert evidence and {e.feature("specific") for e in evidence} == {specific}
    if specific == 0.0:
        assert evidence[0].feature("anchors") > 0.0


def test_a_phrase_kept_whole_counts_as_words_found_together() -> None:
    # "too many open files" is one token (a synonym phrase kept whole); typed alone it is still
    # several words found together, enough evidence to answer, where one ordinary word is not
    synonyms = {"too many open files": "toomanyopenfiles", "aws lambda": "lambda", "how many": "number"}
    entries = [
        Entry(
            "fds",
            "too many open files",
            ("too many open files in a container",),
            "a",
            ("https://kubernetes.io/",),
        ),
        Entry(
            "fn", "lambda timeouts", ("why does my aws lambda time out",), "a", ("https://kubernetes.io/",)
        ),
        Entry("count", "counting replicas", ("how many replicas run",), "a", ("https://kubernetes.io/",)),
    ]
    m = Matcher(entries, synonyms)
    assert m.normalizer.phrase_tokens() == frozenset({"toomanyopenfil"})
    top = {q: m.evidence(q)[0] for q in ("too many open files", "lambda", "how many")}
    assert [e.entry_id for e in top.values()] == ["fds", "fn", "count"]
    assert top["too many open files"].feature("together") == 0.5
    assert m.calibration.supported(top["too many open files"])
    # a word the phrase merely drops ("aws") or stop words renamed stay one word
    assert top["lambda"].feature("together") == 0.25
    assert top["how many"].feature("together") == 0.25
    assert not m.calibration.supported(top["lambda"])


def test_idf_made_a_chunk_of_tokens_at_a_time_is_the_same(
    fixture_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import index

    def idf() -> np.ndarray:
        m = Matcher(fixture_kb.entries.values(), fixture_kb.synonyms)
        assert len(m.index.tokens) > 20
        return np.asarray(m.index.idf)

    whole = idf()
    monkeypatch.setattr(index, "_TOKENS_PER_CHUNK", 7)  # many chunks, the last one partial
    assert np.array_equal(idf(), whole)


def test_an_index_made_in_small_pieces_is_the_same(
    shipped_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's chunked paths (entries per vocabulary chunk, pairs per slice when a capped
    token's postings are picked, chunks drained with the heap trimmed on the way) give the arrays
    one piece would."""
    from bot import index, memory

    settings = MatchSettings(postings_cap=2)  # most tokens capped: fewer than half their pairs kept

    def arrays() -> dict[str, np.ndarray]:
        m = Matcher(shipped_kb.entries.values(), shipped_kb.synonyms, settings=settings)
        return m.index.arrays()

    whole = arrays()
    assert int(np.diff(whole["post_ptr"]).max()) == 2  # the cap was reached
    monkeypatch.setattr(index, "_ENTRIES_PER_CHUNK", 40)
    monkeypatch.setattr(index, "_PAIRS_PER_SLICE", 1_000)
    monkeypatch.setattr(memory, "_DRAINED_PER_TRIM", 1)
    pieces = arrays()
    assert whole.keys() == pieces.keys()
    for name, values in whole.items():
        assert np.array_equal(pieces[name], values), name


def test_the_typo_index_is_made_for_the_first_misspelt_word_or_by_warm(shipped_kb: KnowledgeBase) -> None:
    """A question of known words (what `kubebot ask` mostly gets) never waits for the typo index; the
    first misspelt word makes it and is corrected as before; a server's warm-up makes it up front."""
    kb = shipped_kb

    def fresh() -> Matcher:
        entries = list(kb.entries.values())
        return Matcher(entries, kb.synonyms, domain=kb.domain, specific=kb.specific, platforms=kb.platforms)

    lazy = fresh()
    lazy.match("my pod keeps restarting with CrashLoopBackOff")
    assert lazy._reader._typos is None
    assert set(lazy._reader.read("deploymnet").gains) == set(lazy._reader.read("deployment").gains) != set()
    assert lazy._reader._typos is not None
    warmed = fresh()
    warmed.warm(keys=False, answers=False)
    assert warmed._reader._typos is not None
