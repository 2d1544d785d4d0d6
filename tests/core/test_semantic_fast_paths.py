"""The static semantic model's fast paths give what the tokenizer gives: word-piece ids of ASCII
text without the tokenizer, and entry centroids computed in batches, bit for bit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import semantic
from bot.semantic import Embedder, shared

PIECES = [
    "pod", "Pods", "CrashLoopBackOff", "kubectl", "x509:", "exit", "code", "137", "can't", "don’t",
    "naïve", "Café", "日本", "--namespace=prod", "a.b/c_d", "\t", "\n", "\r", "\x00", "\x01", "\x0b",
    "\x0c", "\x1f", "\x7f", "~!@#$%^&*()[]{}|;:',.<>?/`\"\\", "a" * 120, "unbelievablyunrecognisable",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=12).map(" ".join)
ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=60)


def reference_centroids(embedder: Embedder, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
    """The centroids as first written: one tokenizer batch over every text."""
    texts = [t for group in groups for t in group]
    rows = np.zeros((len(groups), embedder.dim), dtype=np.float32)
    if not texts:
        return rows
    encoded = embedder._tokenizer.encode_batch(texts, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
    ids = np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
    weighted = embedder._vectors[ids] * embedder._weight[ids, None]
    per_text = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    filled = lengths > 0
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[filled]
    if len(starts):
        per_text[filled] = np.add.reduceat(weighted, starts, axis=0)
    per_text /= np.maximum(np.linalg.norm(per_text, axis=1, keepdims=True), 1e-12)
    sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
    used = sizes > 0
    group_starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[used]
    if len(group_starts):
        rows[used] = np.add.reduceat(per_text, group_starts, axis=0) / sizes[used, None]
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return rows


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, ascii_texts))
def test_token_ids_are_the_tokenizers(text: str) -> None:
    embedder = shared()
    assert embedder.token_ids(text) == embedder._tokenizer.encode(text, add_special_tokens=False).ids


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(texts, ascii_texts), max_size=4), max_size=8))
def test_centroids_are_bit_for_bit_the_one_batch_ones(groups: list[list[str]]) -> None:
    embedder = shared()
    assert np.array_equal(embedder.centroids(groups), reference_centroids(embedder, groups))


def test_centroids_in_chunks_are_the_same_as_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = shared()
    groups = [[f"pod {i} restarts", "why does my pod crash", "BackOff"][: i % 3 + 1] for i in range(50)]
    whole = embedder.centroids(groups)
    monkeypatch.setattr(semantic, "_GROUPS_PER_CHUNK", 7)
    assert np.array_equal(embedder.centroids(groups), whole)
    assert np.array_equal(whole, reference_centroids(embedder, groups))
