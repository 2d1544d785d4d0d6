"""The static semantic model's fast paths: word-piece ids of ASCII text without the tokenizer (the
tokenizer's ids exactly), and entry centroids whose sums add their terms first to last (bit for
bit a plain loop; within float32 rounding of numpy's own np.add.reduceat, which they replace)."""

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
    "pod",
    "Pods",
    "CrashLoopBackOff",
    "kubectl",
    "x509:",
    "exit",
    "code",
    "137",
    "can't",
    "don’t",
    "naïve",
    "Café",
    "日本",
    "--namespace=prod",
    "a.b/c_d",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x01",
    "\x0b",
    "\x0c",
    "\x1f",
    "\x7f",
    "~!@#$%^&*()[]{}|;:',.<>?/`\"\\",
    "a" * 120,
    "unbelievablyunrecognisable",
    # non-ASCII text is read word by word unless a character could split otherwise
    "\u00a0",  # no-break space (Zs: a space to both)
    "\u3000",
    "\u200b",  # zero-width space (Cf)
    "\u2028",  # line separator
    "\x85",
    "e\u0301",  # a combining accent
    "“quoted”",
    "│ ├── └─",
    "Ошибка",
    "😀pod",
    "ﬁle",
    "İstanbul",
    "\ufeffBOM",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=12).map(" ".join)
ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=60)


def sequential_centroids(embedder: Embedder, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
    """The centroids by plain loops: each sum adds its terms first to last."""
    rows = np.zeros((len(groups), embedder.dim), dtype=np.float32)
    for g, group in enumerate(groups):
        units = []
        for text in group:
            ids = embedder._full_tokenizer().encode(text, add_special_tokens=False).ids
            total = np.zeros(embedder.dim, dtype=np.float32)
            for k, i in enumerate(ids):
                term = embedder.rows(np.array([i]))[0] * embedder._weight[i]
                total = term.copy() if k == 0 else total + term
            units.append(total / np.maximum(np.linalg.norm(total[None, :], axis=1, keepdims=True)[0], 1e-12))
        if units:
            mean = units[0].copy()
            for unit in units[1:]:
                mean = mean + unit
            mean = mean / np.float32(len(units))
            rows[g] = mean / np.maximum(np.linalg.norm(mean[None, :], axis=1, keepdims=True)[0], 1e-12)
    return rows


def reference_centroids(embedder: Embedder, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
    """The centroids as first written: one tokenizer batch, sums by np.add.reduceat."""
    texts = [t for group in groups for t in group]
    rows = np.zeros((len(groups), embedder.dim), dtype=np.float32)
    if not texts:
        return rows
    encoded = embedder._full_tokenizer().encode_batch(texts, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
    ids = np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
    weighted = embedder.rows(ids) * embedder._weight[ids, None]
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


@settings(max_examples=600, deadline=None)
@given(st.one_of(texts, ascii_texts))
def test_token_ids_are_the_tokenizers(text: str) -> None:
    embedder = shared()
    assert embedder.token_ids(text) == embedder._full_tokenizer().encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize(
    "text",
    [
        "a\x85b",  # NEL: whitespace to Python's split, a control the normaliser drops
        "a\u2028b",
        "x\u200by",
        "a\u00a0b Café\u3000au lait",
        "Fehler: Verbindung abgelehnt — “connection refused” on 10.0.0.1:443 │ naïve",
        "Pod \x0b\x1c crashed\tagain\r\n日本語のエラー",
    ],
)
def test_non_ascii_text_read_word_by_word_gets_the_tokenizers_ids(text: str) -> None:
    embedder = shared()
    assert embedder.token_ids(text) == embedder._full_tokenizer().encode(text, add_special_tokens=False).ids


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(texts, ascii_texts), max_size=4), max_size=8))
def test_centroids_add_first_to_last_and_agree_with_the_first_version(groups: list[list[str]]) -> None:
    embedder = shared()
    rows = embedder.centroids(groups)  # stored in half precision
    sequential, reference = sequential_centroids(embedder, groups), reference_centroids(embedder, groups)
    assert rows.dtype == np.float16
    assert np.array_equal(rows, sequential.astype(np.float16))
    assert np.allclose(sequential, reference, rtol=0, atol=1e-6)
    assert np.allclose(rows.astype(np.float32), reference, rtol=0, atol=5e-4)  # half of float16's step at 1


def test_centroids_in_chunks_are_the_same_as_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = shared()
    groups = [[f"pod {i} restarts", "why does my pod crash", "BackOff"][: i % 3 + 1] for i in range(50)]
    whole = embedder.centroids(groups)
    monkeypatch.setattr(semantic, "_TEXTS_PER_BATCH", 7)  # batches that split groups
    assert np.array_equal(embedder.centroids(groups), whole)
    assert np.array_equal(whole, sequential_centroids(embedder, groups).astype(np.float16))
