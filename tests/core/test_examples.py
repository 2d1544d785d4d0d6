"""Labelled questions as examples (`bot.examples`): TF-IDF cosine as scikit-learn computes it, the
best example per entry, a fitting question kept apart from its own thread, and the examples
carried by the calibration file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.decision import BUNDLED, Calibration, CalibrationError
from bot.evidence import FEATURES
from bot.examples import ExampleIndex, words
from bot.models import Example
from bot.service import Snapshot

TEXTS = {
    "crashloop": [
        "pod keeps restarting with CrashLoopBackOff after deploy",
        "CrashLoopBackOff back-off restarting failed container, exit code 1",
    ],
    "imagepull": [
        "ErrImagePull: pull access denied for my private registry image",
        "ImagePullBackOff on a new deployment, the image tag exists",
    ],
    "service": ["how does a Service find its pods, the selector does not match"],
}
EXAMPLES = [
    Example(entry, text, f"thread-{entry}-{k}") for entry, ts in TEXTS.items() for k, text in enumerate(ts)
]
ROWS = {"crashloop": 0, "imagepull": 1, "service": 2, "no-examples": 3}


def sklearn_cosines(question: str) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True).fit([e.text for e in EXAMPLES])
    x = vectorizer.transform([e.text for e in EXAMPLES])
    cosines: np.ndarray = (x @ vectorizer.transform([question]).T).toarray().ravel()
    return cosines


def test_words_are_scikit_learns_default_terms() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "Pod's CrashLoopBackOff: exit-code 137, a b kubectl_get x86_64 Ünïcode"
    assert sorted(set(words(text))) == sorted(CountVectorizer().fit([text]).vocabulary_)


def test_similarity_is_the_tfidf_cosine_with_the_best_example_of_each_entry() -> None:
    index = ExampleIndex(EXAMPLES, ROWS)
    question = "my pod keeps restarting: CrashLoopBackOff, back-off restarting the failed container"
    cosines = sklearn_cosines(question)  # every word of the question is some example's
    assert set(words(question)) <= {w for e in EXAMPLES for w in words(e.text)}
    sims = index.compare(question, [0, 1, 2, 3]).best
    assert sims[0] == pytest.approx(max(cosines[:2]))
    assert sims[1] == pytest.approx(max(cosines[2:4]))
    assert sims[2] == pytest.approx(cosines[4])
    assert sims[3] == 0.0  # an entry without examples
    assert sims[0] > 0.3 and sims[0] > 2 * sims[1]
    # the order asked for is the order answered
    assert index.compare(question, [2, 0]).best == pytest.approx([sims[2], sims[0]])


def test_a_questions_own_words_keep_their_weight() -> None:
    """Words no example uses count in the question's length (as if no example had them), so a
    question full of its own words is not made to look closer than it is; scikit-learn's
    `transform` would drop them."""
    index = ExampleIndex(EXAMPLES, ROWS)
    plain = "pod restarting CrashLoopBackOff"
    padded = plain + " zebra quokka narwhal"
    assert index.compare(padded, [0]).best[0] < index.compare(plain, [0]).best[0]
    # the same cosine over a longer query vector: the known words' TF-IDF plus three words of
    # weight 1 + log(1 + n) each
    from sklearn.feature_extraction.text import TfidfVectorizer

    unnormed = TfidfVectorizer(sublinear_tf=True, norm=None).fit([e.text for e in EXAMPLES])
    known = float(np.linalg.norm(unnormed.transform([plain]).toarray()))
    own = 3 * (np.log(1 + len(EXAMPLES)) + 1) ** 2
    expected = sklearn_cosines(plain)[:2].max() * known / np.sqrt(known**2 + own)
    assert index.compare(padded, [0]).best[0] == pytest.approx(expected)


def test_apart_leaves_out_one_threads_examples() -> None:
    index = ExampleIndex(EXAMPLES, ROWS)
    own = EXAMPLES[0]
    assert index.compare(own.text, [0]).best[0] == pytest.approx(1.0)  # it finds itself
    apart = index.compare(own.text, [0], apart=own.thread).best[0]
    assert 0.0 < apart < 0.9  # only the other thread's example of the same entry is left
    assert apart == pytest.approx(sklearn_cosines(own.text)[1])
    assert index.compare(own.text, [0], apart="thread-of-nobody").best[0] == pytest.approx(1.0)


def test_examples_of_entries_the_matcher_does_not_know_are_left_out() -> None:
    index = ExampleIndex(EXAMPLES, {"service": 0})
    assert len(index) == 1
    assert index.compare("pod restarting CrashLoopBackOff", [0]).best == [0.0]
    assert ExampleIndex([], ROWS).compare("anything at all", [0, 1]).best == [0.0, 0.0]
    assert index.compare("", [0]).best == [0.0]


def test_the_calibration_file_carries_its_examples(tmp_path: Path) -> None:
    from dataclasses import replace

    shipped = Calibration.load(BUNDLED)
    assert len(shipped.examples) >= 1000  # the fit set's labelled questions
    assert all(not e.thread for e in shipped.examples)  # threads are only for fitting
    tricky = (Example("pod", 'a "quoted" [1, 2] line\nand ünïcode'), Example("svc", ""))
    replace(shipped, examples=tricky).save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json").examples == tricky
    data = json.loads((tmp_path / "c.json").read_text())
    for bad in ([["pod"]], [["pod", 3]], ["pod text"], 5):
        data["examples"] = bad
        (tmp_path / "bad.json").write_text(json.dumps(data))
        with pytest.raises(CalibrationError, match="not a calibration file"):
            Calibration.load(tmp_path / "bad.json")


def test_fitting_questions_never_meet_their_own_thread(shipped_snapshot: Snapshot) -> None:
    """`bot.fitting` compares each labelled question with the examples of every other thread
    only: the example features it fits on are what an unseen question of that thread would get."""
    from bot.evaluate import EvalItem
    from bot.fitting import examples, questions

    base = shipped_snapshot.matcher
    pod, crash = "pod", "crashloopbackoff"
    items = [  # pasted posts: only those are compared with the examples
        EvalItem("my pod keeps restarting\nthe status says\nCrashLoopBackOff", crash, source="https://a/1"),
        EvalItem(
            "CrashLoopBackOff after every deploy\nlogs show\nexit code 1", crash, source="https://a/2#c"
        ),
        EvalItem("what is a pod\nin kubernetes\nplease explain", pod, source="https://b/1"),
        EvalItem("banana bread recipe\nwith walnuts\nand honey", None, source="https://c/1"),
    ]
    known = examples(base, items)
    assert [(e.entry, e.thread) for e in known] == [
        (crash, "https://a/1"),
        (crash, "https://a/2"),
        (pod, "https://b/1"),
    ]
    fitting = base.with_examples(known)
    assert base.calibration.examples == Calibration.load(BUNDLED).examples  # the original is unchanged
    column = FEATURES.index("example")
    got = {
        q.item.question: dict(zip(q.ids, (f[column] for f in q.features), strict=True))
        for q in questions(fitting, items)
    }
    first, second, third = (got[i.question] for i in items[:3])
    assert 0.0 < first[crash] < 0.9  # the other crash thread, not itself
    assert third[pod] == 0.0  # the only pod example is its own
    # an unseen question (no thread to keep apart) does find the example worded like it
    unseen = {e.entry_id: e.feature("example") for e in fitting.evidence(items[0].question)}
    assert unseen[crash] == pytest.approx(1.0)
    assert second[crash] == pytest.approx(first[crash])  # the same pair, either way round


def test_the_share_is_each_candidates_part_of_the_nearest_examples() -> None:
    """`share`: of the NEAREST examples closest to the question among the candidates', the part
    of their summed cosine that is each candidate's; an entry none of them belongs to gets 0."""
    import random

    rng = random.Random(0)
    vocabulary = [f"w{v:02d}" for v in range(30)]
    many = [Example(f"e{k % 4}", " ".join(rng.choices(vocabulary, k=8))) for k in range(40)]
    index = ExampleIndex(many, {f"e{k}": k for k in range(4)})
    question = " ".join(rng.choices(vocabulary, k=10))
    every = index.compare(question, [0, 1, 2, 3])
    assert sum(every.share) == pytest.approx(1.0)
    # by hand: each example's cosine (the same texts, so the same IDF), the NEAREST closest summed
    from bot.examples import NEAREST

    alone = ExampleIndex(
        [Example(f"x{k}", e.text) for k, e in enumerate(many)], {f"x{k}": k for k in range(40)}
    )
    cosines_each = alone.compare(question, list(range(40))).best
    nearest = sorted(range(40), key=lambda k: -cosines_each[k])[:NEAREST]
    total = sum(cosines_each[k] for k in nearest)
    by_hand = [sum(cosines_each[k] for k in nearest if k % 4 == e) / total for e in range(4)]
    assert every.share == pytest.approx(by_hand)
    assert len(set(every.share)) > 2  # not a trivial split
    fewer = index.compare(question, [1, 2])  # only these candidates' examples take part
    assert sum(fewer.share) == pytest.approx(1.0)
    assert fewer.share[0] > every.share[1] and fewer.share[1] > every.share[2]
    assert ExampleIndex(many, {"e0": 0}).compare("nothing in common here", [0]).share == [0.0]
    assert len({round(c, 9) for c in cosines_each}) > 30  # few ties, so the nearest are well defined


def test_only_a_pasted_post_is_compared_with_the_examples(shipped_snapshot: Snapshot) -> None:
    """A chat line (one or two lines without output) gets 0 in every example column, and the same
    words as a pasted post find the bundled examples."""
    m = shipped_snapshot.matcher
    columns = [FEATURES.index(n) for n in ("example", "example_gap", "example_share", "example_lead")]
    line = "my pod keeps restarting with CrashLoopBackOff and exit code 1"
    assert all(e.features[c] == 0.0 for e in m.evidence(line) for c in columns)
    post = "my pod keeps restarting\nthe status is CrashLoopBackOff\nexit code 1"
    assert max(e.feature("example") for e in m.evidence(post)) > 0.2


def test_the_examples_are_laid_out_when_a_pasted_post_first_needs_them(shipped_snapshot: Snapshot) -> None:
    """A matcher lays out the examples only for the first pasted post (or `warm`): a chat line, as
    `kubebot ask` mostly gets, never waits for them; the post's evidence is the same either way."""
    from bot.matching import Matcher

    kb = shipped_snapshot.kb
    post = "my pod keeps restarting\nthe status is CrashLoopBackOff\nexit code 1"
    fresh = Matcher(
        list(kb.entries.values()), kb.synonyms, domain=kb.domain, specific=kb.specific, platforms=kb.platforms
    )
    fresh.match("my pod keeps restarting with CrashLoopBackOff")
    assert fresh._examples_made is None
    assert fresh.evidence(post) == shipped_snapshot.matcher.evidence(post)
    assert fresh._examples_made is not None and len(fresh._examples_made) > 1000
    warmed = Matcher(
        list(kb.entries.values()), kb.synonyms, domain=kb.domain, specific=kb.specific, platforms=kb.platforms
    )
    warmed.warm(keys=False, answers=False)
    assert warmed._examples_made is not None
