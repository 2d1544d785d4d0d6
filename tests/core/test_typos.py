"""Typo correction through the bigram index finds exactly what comparing every known word of the
three lengths finds (the way the matcher corrected typos before the index existed)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from bot.typos import TypoIndex


def naive(words: list[str], word: str, cutoff: float) -> tuple[str, float] | None:
    by_len: dict[int, list[str]] = {}
    for w in words:
        by_len.setdefault(len(w), []).append(w)
    best: tuple[str, float] | None = None
    for length in range(len(word) - 1, len(word) + 2):
        bucket = by_len.get(length)
        if not bucket:
            continue
        found = process.extractOne(word, bucket, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is not None and (best is None or found[1] / 100.0 > best[1]):
            best = (found[0], found[1] / 100.0)
    return best


def typo(rng: random.Random, word: str) -> str:
    letters = "abcdeilmnoprstuk"
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(word) + 1)
        kind = rng.randrange(4)
        if kind == 0:
            word = word[:i] + rng.choice(letters) + word[i:]
        elif kind == 1 and len(word) > 1:
            word = word[: min(i, len(word) - 1)] + word[min(i, len(word) - 1) + 1 :]
        elif kind == 2 and i < len(word):
            word = word[:i] + rng.choice(letters) + word[i + 1 :]
        elif i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([60.0, 75.0, 85.0, 90.0]))
def test_the_index_finds_what_a_full_scan_finds(seed: int, cutoff: float) -> None:
    rng = random.Random(seed)
    syllables = ["ka", "ro", "mi", "de", "ploy", "ment", "con", "fig", "map", "er", "ing", "aa", "s"]
    made = ("".join(rng.choice(syllables) for _ in range(rng.randint(1, 7))) for _ in range(400))
    words = list(dict.fromkeys(made))
    words += ["deployment", "configmap", "crashloopbackoff", "aaaaaaaa", "x509", "k8s"]
    index = TypoIndex(words, scan=0)  # the bigram filter for every length
    plain = TypoIndex(words)
    for _ in range(60):
        query = typo(rng, rng.choice(words))
        if len(query) >= 2:
            expected = naive(words, query, cutoff)
            assert index.closest(query, cutoff) == plain.closest(query, cutoff) == expected, query


def test_known_typos_are_corrected_and_strangers_are_not() -> None:
    index = TypoIndex(["deployment", "deploy", "scaling", "configmap", "namespace"])
    assert index.closest("deploymnet", 85.0) == naive(["deployment"], "deploymnet", 85.0)
    assert index.closest("scalling", 85.0) is not None and index.closest("scalling", 85.0)[0] == "scaling"  # type: ignore[index]
    assert index.closest("banana", 85.0) is None
    assert TypoIndex([]).closest("deployment", 85.0) is None
