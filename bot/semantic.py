"""A semantic signal without a model at run time: static word-piece vectors.

`benchmarks/distill_static.py` distils all-MiniLM-L6-v2 once into one 64-dimensional vector and
one weight per word piece (`bot/data/semantic.npz`, 2.4 MB). Here a text becomes the normalised
weighted sum of its pieces' vectors — a few microseconds with numpy and BERT's WordPiece (the
`tokenizers` library only for non-ASCII text) — and an entry becomes the normalised mean of its
title's and questions' vectors. Their cosine is evidence the decision reads beside the lexical
scores: two different views agreeing on an entry is a strong sign it is the right one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.corpus import Batch, Fragments, FragmentTable

DATA = Path(__file__).resolve().parent / "data" / "semantic.npz"

Vector = npt.NDArray[np.float32]
Rows = npt.NDArray[np.float16]  # the entries' centroids

# BERT's normaliser and pre-tokeniser on ASCII: control characters go (tab and line ends are
# spaces), then letter-digit runs and single punctuation marks are the words
_ASCII_CONTROL = {c: None for c in range(128) if (c < 32 and chr(c) not in "\t\n\r") or c == 127}
_ASCII_PIECES = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
_WORDS_KEPT = 200_000
_MAX_WORD = 100  # WordPiece's longest word; longer ones are [UNK]
_TEXTS_PER_BATCH = 25_000


@functools.lru_cache(maxsize=4096)
def _unsure(char: str) -> bool:
    """Whether a word-by-word reading might split around ``char`` (non-ASCII) otherwise than BERT's
    normaliser and pre-tokeniser do: a control, format or unassigned character (dropped by the
    normaliser, or not), or whitespace other than a space (Zs, which both treat as a space)."""
    category = unicodedata.category(char)
    return category[0] == "C" or (char.isspace() and category != "Zs")


class Embedder:
    """Texts to unit vectors (the zero vector when nothing in a text is known)."""

    def __init__(self, path: Path = DATA) -> None:
        with np.load(path) as data:  # stored uncompressed: a plain read
            vocab = bytes(data["vocab"]).decode("utf-8").split("\n")
            # kept as stored (a byte a value and a scale per row: 2 MB, not 7.8 MB in float32),
            # scaled row by row when read, to the same float32 values
            self._codes: npt.NDArray[np.int8] = data["vectors"]
            self._scale: Vector = data["scale"].astype(np.float32)
            self._weight: Vector = data["weight"].astype(np.float32)  # 0 for [CLS], [UNK], [unused…]
        self._ids = {p: i for i, p in enumerate(vocab)}
        self._unk = self._ids["[UNK]"]
        self._longest = max(map(len, vocab))  # characters in the longest piece
        self._tokenizer: Any = None  # the full tokenizer, built for the first non-ASCII text
        self._known: dict[str, list[int]] = {}  # word -> its word pieces
        self.dim = int(self._codes.shape[1])

    def _sum(self, ids: Sequence[int]) -> Vector:
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        index = np.asarray(ids, dtype=np.int64)
        summed: Vector = self._weight.take(index) @ self.rows(index)  # take: cheaper than []
        norm = float(np.sqrt(summed.dot(summed)))  # what np.linalg.norm computes, without its wrapper
        return summed / norm if norm > 0 else summed

    def rows(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The vectors of these word pieces, one row each."""
        rows: npt.NDArray[np.float32] = self._codes.take(ids, axis=0).astype(np.float32)
        rows *= self._scale.take(ids)[:, None]
        return rows

    def vector(self, text: str) -> Vector:
        return self._sum(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        """The word-piece ids of ``text``: what the tokenizer's ``encode`` gives, but for ASCII text
        (nearly all) without it — BERT's normaliser and pre-tokeniser reduce to dropping control
        characters, lower-casing and splitting into letter-digit runs and single punctuation marks,
        and each distinct word's pieces are remembered. Tokenizing costs ~30 us a text otherwise."""
        if not text.isascii():
            return self._mixed_ids(text)
        ids: list[int] = []
        for word in _ASCII_PIECES.findall(text.translate(_ASCII_CONTROL).lower()):
            ids += self._pieces(word)
        return ids

    def _mixed_ids(self, text: str) -> list[int]:
        """`token_ids` of a text with non-ASCII characters (~5 % of pasted posts' digests): its ASCII
        words by the fast path, each other word through the tokenizer (remembered). The same ids as
        the tokenizer on the whole text, in ~40 us a post instead of ~100: BERT's normaliser works
        character by character and its pre-tokeniser splits at whitespace before anything else. A
        text with a character the two might split differently (non-ASCII controls, format
        characters, line or paragraph separators) goes to the tokenizer whole."""
        if any(_unsure(c) for c in set(text) if not c.isascii()):
            return list(self._full_tokenizer().encode(text, add_special_tokens=False).ids)
        ids: list[int] = []
        for word in text.translate(_ASCII_CONTROL).split():
            if word.isascii():
                for piece in _ASCII_PIECES.findall(word.lower()):
                    ids += self._pieces(piece)
                continue
            found = self._known.get(word)  # (an ASCII piece is never a non-ASCII word)
            if found is None:
                found = list(self._full_tokenizer().encode(word, add_special_tokens=False).ids)
                if len(self._known) < _WORDS_KEPT:
                    self._known[word] = found
            ids += found
        return ids

    def _pieces(self, word: str) -> list[int]:
        ids = self._known.get(word)
        if ids is None:
            ids = self._wordpiece(word)
            if len(self._known) < _WORDS_KEPT:
                self._known[word] = ids
        return ids

    def _wordpiece(self, word: str) -> list[int]:
        """BERT's WordPiece on one lower-case ASCII word (what the `tokenizers` model does): the
        longest prefix in the vocabulary, then the longest "##" continuation of the rest, and so on;
        the whole word is [UNK] when some rest has none, or when it is over 100 characters."""
        if len(word) > _MAX_WORD:
            return [self._unk]
        ids, start, vocab, longest = [], 0, self._ids, self._longest
        while start < len(word):
            for end in range(min(len(word), start + longest), start, -1):  # no piece is longer
                found = vocab.get(word[start:end] if start == 0 else "##" + word[start:end])
                if found is not None:
                    ids.append(found)
                    start = end
                    break
            else:
                return [self._unk]
        return ids

    def _full_tokenizer(self) -> Any:
        """The `tokenizers` word-piece tokenizer with BERT's normaliser, for non-ASCII text."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

            tokenizer = Tokenizer(
                models.WordPiece(self._ids, unk_token="[UNK]", max_input_chars_per_word=_MAX_WORD)
            )
            tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
            tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            self._tokenizer = tokenizer
        return self._tokenizer

    def vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._sum(self.token_ids(t)) for t in texts])

    def weighted(self) -> Vector:
        """Each piece's vector times its weight: a table for building centroids (7.5 MB, so made
        for each build and dropped with it rather than kept beside the vectors)."""
        table: Vector = self._codes.astype(np.float32) * self._scale[:, None] * self._weight[:, None]
        return table

    def fragment_pieces(self, fragment: str) -> list[int]:
        """`token_ids` of a fragment of a plain text (`bot.corpus`: lower-case printable ASCII)."""
        return [i for word in _ASCII_PIECES.findall(fragment) for i in self._pieces(word)]

    def centroids(self, groups: Sequence[Sequence[str]]) -> Rows:
        """One row per group of texts (an entry's title and questions): the normalised mean of
        the texts' unit vectors (`Centroids`, in one pass of its own)."""
        sizes = np.fromiter(map(len, groups), np.int64, len(groups))
        built = Centroids(self, sizes)
        for batch in Fragments().batches([t for group in groups for t in group], _TEXTS_PER_BATCH, sizes):
            built.add(batch)
        return built.result()


class Centroids:
    """Group vectors built from the batches of a pass over the groups' texts, in order, each batch
    ending where a group does (`bot.corpus`; `bot.index` makes the pass). Every sum adds its terms
    first to last — a text's its pieces', a group's its texts' — so the rows depend neither on the
    batch size nor on how numpy vectorises a sum: the same bits on every machine."""

    def __init__(self, embedder: Embedder, sizes: npt.NDArray[np.int64]) -> None:
        """``sizes``: how many texts each group has (the texts come group by group)."""
        self._embedder = embedder
        self._sizes = sizes
        self._starts = np.cumsum(sizes) - sizes  # each group's first text
        # each group's normalised mean in half precision, written as its batch comes: no
        # full-precision table (25 MB at 100k entries); a cosine's error stays under 1e-3
        self._rows: Rows = np.zeros((len(sizes), embedder.dim), dtype=np.float16)
        self._pieces = FragmentTable([])  # each fragment's word pieces
        self._table: Vector | None = embedder.weighted()  # until the last group

    def add(self, batch: Batch) -> None:
        e, texts = self._embedder, batch.texts
        self._pieces.extend([e.fragment_pieces(f) for f in batch.fresh])
        ids, per_use = self._pieces.spread(batch.occ)
        n_plain = int(batch.plain.sum())
        plain_lengths = np.bincount(batch.plain_ends(), weights=per_use, minlength=n_plain + 1)
        lengths = np.zeros(len(texts), np.int64)
        lengths[batch.plain] = plain_lengths[:n_plain].astype(np.int64)
        if n_plain < len(texts):  # the others through `token_ids`, spliced in text order
            others = [e.token_ids(t) for t, ok in zip(texts, batch.plain.tolist(), strict=True) if not ok]
            lengths[~batch.plain] = [len(found) for found in others]
            from_plain = np.repeat(batch.plain, lengths)
            spliced = np.zeros(int(lengths.sum()), np.int64)
            spliced[from_plain] = ids
            spliced[~from_plain] = [i for found in others for i in found]
            ids = spliced
        table = self._table
        if table is None:
            raise ValueError("every group is already summed")

        def piece(at: npt.NDArray[np.int64]) -> Vector:
            picked: Vector = table[ids[at]]
            return picked

        per_text = _sums_in_order(piece, np.cumsum(lengths) - lengths, lengths, e.dim)
        per_text /= np.maximum(np.linalg.norm(per_text, axis=1, keepdims=True), 1e-12)
        lo, hi = np.searchsorted(self._starts, [batch.start, batch.start + len(texts)])
        if self._sizes[lo:hi].sum() != len(texts):
            raise ValueError("a batch must hold whole groups")
        starts, sizes = self._starts[lo:hi] - batch.start, self._sizes[lo:hi]
        sums = _sums_in_order(per_text.__getitem__, starts, sizes, e.dim)
        used = sizes > 0
        sums[used] /= sizes[used, None]
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        self._rows[lo:hi] = sums
        if hi == len(self._sizes):  # the last group: the rest of the build does without the table
            self._table, self._pieces = None, FragmentTable([])

    def result(self) -> Rows:
        """The rows: each group's normalised mean (zero for a group without texts)."""
        self._table = None
        return self._rows


def _sums_in_order(
    rows: Callable[[npt.NDArray[np.int64]], Vector],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    dim: int,
) -> Vector:
    """Per segment, the sum of ``rows`` start..start+length-1, added first to last (a fixed order,
    the same on every machine and numpy version), a position at a time across all segments — the
    longest segments first, so the ones still adding up are always a leading slice."""
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    out = np.zeros((len(starts), dim), dtype=np.float32)
    live = int(np.count_nonzero(lengths))
    if live:
        out[:live] = rows(starts[:live])
    for step in range(1, int(lengths.max(initial=0))):
        live = int(np.searchsorted(-lengths, -step, side="left"))  # segments longer than `step`
        out[:live] += rows(starts[:live] + step)
    result = np.empty_like(out)
    result[order] = out
    return result


@functools.cache
def shared() -> Embedder:
    """The bundled vectors, loaded once per process."""
    return Embedder()
