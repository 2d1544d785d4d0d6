"""A semantic signal without a model at run time: static word-piece vectors.

`benchmarks/distill_static.py` distils all-MiniLM-L6-v2 once into one 64-dimensional vector and
one weight per word piece (`bot/data/semantic.npz`, 2 MB). Here a text becomes the normalised
weighted sum of its pieces' vectors — a few microseconds with numpy and the `tokenizers`
word-piece tokenizer — and an entry becomes the normalised mean of its title's and questions'
vectors. Their cosine is evidence the decision reads beside the lexical scores: two different
views agreeing on an entry is a strong sign it is the right one.
"""

from __future__ import annotations

import functools
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import count
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA = Path(__file__).resolve().parent / "data" / "semantic.npz"

Vector = npt.NDArray[np.float32]

# BERT's normaliser and pre-tokeniser on ASCII: control characters go (tab and line ends are
# spaces), then letter-digit runs and single punctuation marks are the words
_ASCII_CONTROL = {c: None for c in range(128) if (c < 32 and chr(c) not in "\t\n\r") or c == 127}
_ASCII_PIECES = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
_END = "\x00"  # after each text in a batch (a text holding it goes through the tokenizer)
_ASCII_CONTROL_BUT_END = {c: None for c in _ASCII_CONTROL if chr(c) != _END}
_WORDS_KEPT = 200_000
_GROUPS_PER_CHUNK = 2_000


class Embedder:
    """Texts to unit vectors (the zero vector when nothing in a text is known)."""

    def __init__(self, path: Path = DATA) -> None:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

        with np.load(path) as data:
            vocab = str(data["vocab"]).split("\n")
            self._vectors: Vector = (data["vectors"].astype(np.float32) * data["scale"][:, None]).astype(
                np.float32
            )
            weight = data["weight"].astype(np.float32)
        special = np.array([piece.startswith("[") for piece in vocab])
        weight[special] = 0.0  # [CLS], [UNK], [unused…] carry no meaning
        self._weight: Vector = weight
        tokenizer = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        self._tokenizer = tokenizer
        self._known: dict[str, list[int]] = {}  # word -> its word pieces
        self._weighted: Vector = self._vectors * self._weight[:, None]  # each piece's weighted vector
        self.dim = int(self._vectors.shape[1])

    def _sum(self, ids: Sequence[int]) -> Vector:
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        index = np.asarray(ids, dtype=np.int64)
        summed: Vector = self._weight[index] @ self._vectors[index]
        norm = float(np.linalg.norm(summed))
        return summed / norm if norm > 0 else summed

    def vector(self, text: str) -> Vector:
        return self._sum(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        """The word-piece ids of ``text``: what the tokenizer's ``encode`` gives, but for ASCII text
        (nearly all) without it — BERT's normaliser and pre-tokeniser reduce to dropping control
        characters, lower-casing and splitting into letter-digit runs and single punctuation marks,
        and each distinct word's pieces are remembered. Tokenizing costs ~30 us a text otherwise."""
        if not text.isascii():
            return list(self._tokenizer.encode(text, add_special_tokens=False).ids)
        ids: list[int] = []
        for word in _ASCII_PIECES.findall(text.translate(_ASCII_CONTROL).lower()):
            ids += self._pieces(word)
        return ids

    def _pieces(self, word: str) -> list[int]:
        ids = self._known.get(word)
        if ids is None:
            ids = [token.id for token in self._tokenizer.model.tokenize(word)]
            if len(self._known) < _WORDS_KEPT:
                self._known[word] = ids
        return ids

    def vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._sum(self.token_ids(t)) for t in texts])

    def centroids(self, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """One row per group of texts (an entry's title and questions): the normalised mean of
        the texts' unit vectors. Vectorised, a thousand groups at a time (bounded memory); every sum
        adds its terms first to last, so the rows do not depend on how numpy vectorises a sum."""
        rows = np.zeros((len(groups), self.dim), dtype=np.float32)
        for lo in range(0, len(groups), _GROUPS_PER_CHUNK):
            rows[lo : lo + _GROUPS_PER_CHUNK] = self._centroids(groups[lo : lo + _GROUPS_PER_CHUNK])
        return rows

    def _centroids(self, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        texts = [t for group in groups for t in group]
        rows = np.zeros((len(groups), self.dim), dtype=np.float32)
        if not texts:
            return rows
        ids, lengths = self._batch_ids(texts)
        table = self._weighted

        def piece(at: npt.NDArray[np.int64]) -> Vector:
            picked: Vector = table[ids[at]]
            return picked

        per_text = _sums_in_order(piece, np.cumsum(lengths) - lengths, lengths, self.dim)
        per_text /= np.maximum(np.linalg.norm(per_text, axis=1, keepdims=True), 1e-12)
        sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
        used = sizes > 0
        summed = _sums_in_order(per_text.__getitem__, np.cumsum(sizes) - sizes, sizes, self.dim)
        rows[used] = summed[used] / sizes[used, None]
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return rows

    def _batch_ids(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """`token_ids` of every text, flat, and how many each has: the ASCII texts lower-cased and
        split as one string, their words mapped to pieces once per distinct word."""
        plain = [t.isascii() and _END not in t for t in texts]
        joined = "".join(t + _END for t, ok in zip(texts, plain, strict=True) if ok)
        words = _ASCII_PIECES.findall(joined.translate(_ASCII_CONTROL_BUT_END).lower())
        seen: defaultdict[str, int] = defaultdict(count().__next__)  # word -> number, first seen first
        numbers = array("q")
        numbers.extend(map(seen.__getitem__, words))
        number = np.frombuffer(numbers, np.int64) if numbers else np.zeros(0, np.int64)
        pieces = [[] if w == _END else self._pieces(w) for w in seen]
        per_word = np.fromiter(map(len, pieces), np.int64, len(pieces))
        flat = np.fromiter((i for p in pieces for i in p), np.int64, int(per_word.sum()))
        sizes = per_word[number]
        picked = np.repeat((np.cumsum(per_word) - per_word)[number] - (np.cumsum(sizes) - sizes), sizes)
        ascii_ids = flat[np.arange(len(picked)) + picked] if len(picked) else flat[:0]
        ends = np.flatnonzero(number == seen.get(_END, -1))
        ascii_lengths = np.diff(np.concatenate(([0], np.cumsum(sizes)[ends]))) if len(ends) else ends
        if all(plain):
            return ascii_ids, ascii_lengths
        mine = np.asarray(plain)
        other = [self.token_ids(t) for t, ok in zip(texts, plain, strict=True) if not ok]
        lengths = np.zeros(len(texts), np.int64)
        lengths[mine] = ascii_lengths
        lengths[~mine] = [len(found) for found in other]
        from_ascii = np.repeat(mine, lengths)  # per id: does it come from an ASCII text
        ids = np.zeros(int(lengths.sum()), np.int64)
        ids[from_ascii] = ascii_ids
        ids[~from_ascii] = [i for found in other for i in found]
        return ids, lengths


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
