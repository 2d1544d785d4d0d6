"""The normaliser's fast paths (ASCII folding, word-by-word synonym phrases, per-word caches) give
exactly what the straightforward pipeline gives, which is kept here as the reference."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis import analyze_all
from bot.corpus import END, Fragments
from bot.text import _STEMMED_STOP_WORDS, STOP_WORDS, Normalizer, basic_words, normalize_basic, stem

_NON_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"(?<=[a-z])['’](?=[a-z])")
_IP_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")


def reference_basic(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def reference_analyze(
    synonyms: dict[str, str], text: str
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    phrases_map = {k: v for k, v in synonyms.items() if " " in k}
    words_map = {k: v for k, v in synonyms.items() if " " not in k}
    stemmed = {stem(k): v for k, v in words_map.items()}
    base = reference_basic(_IP_ADDRESS.sub(" ip ", text))
    if phrases_map:
        ordered = sorted(phrases_map, key=len, reverse=True)
        pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in ordered) + r")\b")
        base = pattern.sub(lambda m: phrases_map[m.group(1)], base)

    def stems(word: str) -> tuple[str, ...]:
        token = stem(word)
        replacement = stemmed.get(token)
        if replacement is not None:
            return tuple(stem(w) for w in replacement.split() if w not in STOP_WORDS)
        return () if token in _STEMMED_STOP_WORDS else (token,)

    out: dict[str, str] = {}
    phrases: dict[str, None] = {}
    previous = ""
    for word in base.split():
        for part in words_map.get(word, word).split():
            if part in STOP_WORDS:
                continue
            for token in stems(part):
                if token not in out:
                    out[token] = part
                if previous and previous != token:
                    phrases[f"{previous}_{token}"] = None
                previous = token
    return tuple((w, t) for t, w in out.items()), tuple(phrases)


SYNONYMS = {
    "k8s": "kubernetes",
    "po": "pod",
    "deploy": "deployment",
    "config map": "configmap",
    "replica set": "replicaset",
    "persistent volume": "persistentvolume",
    "persistent volume claim": "persistentvolumeclaim",
    "exit code": "exitcode",
    "crash loop back off": "crashloopbackoff",
    "crash loop": "crashloop",
    "tls cert": "x509 certificate",
    "dns": "name resolution",
}
WORDS = [
    *SYNONYMS,
    "pod",
    "pods",
    "the",
    "is",
    "needs",
    "really",
    "scaling",
    "Café",
    "naïve",
    "don't",
    "o'k'ay",
    "x''y",
    "it’s",
    "10.0.0.12:8080",
    "1.2.3",
    "CrashLoopBackOff",
    "x509",
    "k8s.io",
    "ﬁle",
    "İstanbul",
    "ß",
    "ΣΑΣ",
    "137",
    "-",
    "/",
    "\n",
    "  ",
]
texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=14).map(
    lambda parts: " ".join(parts)
)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_normalize_basic_matches_the_reference(text: str) -> None:
    assert normalize_basic(text) == reference_basic(text)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_analyze_matches_the_reference_with_plain_phrases(text: str) -> None:
    normalizer = Normalizer(SYNONYMS)
    assert normalizer.analyze(text) == reference_analyze(SYNONYMS, text)
    assert normalizer.analyze(text) == reference_analyze(SYNONYMS, text)  # again, from the caches
    assert normalizer.analyze(text, phrases=False) == (reference_analyze(SYNONYMS, text)[0], ())


@settings(max_examples=200, deadline=None)
@given(texts)
def test_analyze_matches_the_reference_with_phrase_keys_that_are_not_plain_words(text: str) -> None:
    synonyms = {**SYNONYMS, "k8s io": "kubernetes", "k8s.io docs": "docs", "x 509": "x509"}
    assert Normalizer(synonyms).analyze(text) == reference_analyze(synonyms, text)


def test_overlapping_phrases_take_the_longest_key_first() -> None:
    n = Normalizer(SYNONYMS)
    longest = ("crashloopbackoff", "persistentvolumeclaim")
    assert n.tokens("crash loop back off persistent volume claim") == longest
    assert n.tokens("crash loop persistent volume") == ("crashloop", "persistentvolum")


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=8), st.integers(1, 4))
def test_words_through_fragments_are_the_words_of_each_text(batch: list[str], size: int) -> None:
    """`bot.corpus` splits printable-ASCII texts at spaces and numbers the distinct fragments;
    reading words fragment by fragment gives each text's words."""
    batch = [*batch, "a\x01b", "10.0.0.1:80 and 10.0.0.1", "don't x509:cert", "tab\there"]
    spelled = [END]  # number -> fragment
    got: list[list[str]] = []
    for part in Fragments().batches(batch, size):
        assert part.first_fresh == len(spelled)
        spelled += part.fresh
        fragments: list[list[str]] = [[]]
        for number in part.occ.tolist():
            fragments[-1].append(spelled[number]) if number else fragments.append([])
        plain = iter(fragments)
        got += [
            [w for f in next(plain) for w in basic_words(f)] if ok else basic_words(t)
            for t, ok in zip(part.texts, part.plain.tolist(), strict=True)
        ]
    assert got == [reference_basic(_IP_ADDRESS.sub(" ip ", t)).split() for t in batch]


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=12), st.booleans())
def test_batch_analysis_is_analyze_of_each_text(batch: list[str], odd_keys: bool) -> None:
    synonyms = {**SYNONYMS, "k8s.io docs": "docs"} if odd_keys else SYNONYMS
    normalizer = Normalizer(synonyms)
    done = analyze_all(normalizer, batch, phrases=True)
    uni_text = np.repeat(np.arange(len(batch)), done.uni_count)
    phr_text = np.repeat(np.arange(len(batch)), done.phr_count)
    for i, text in enumerate(batch):
        pairs, phrases = reference_analyze(synonyms, text)
        assert [done.tokens[t] for t in done.uni_tok[uni_text == i]] == [t for _w, t in pairs]
        assert [done.tokens[t] for t in done.phr_tok[phr_text == i]] == list(phrases)
    first_use: dict[str, str] = {}
    for text in batch:
        for word, token in reference_analyze(synonyms, text)[0]:
            first_use.setdefault(word, token)
    assert dict(zip(done.words, (done.tokens[t] for t in done.word_tok), strict=True)) == first_use
    assert list(first_use) == done.words
