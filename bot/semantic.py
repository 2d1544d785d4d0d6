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
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA = Path(__file__).resolve().parent / "data" / "semantic.npz"

Vector = npt.NDArray[np.float32]


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
        self.dim = int(self._vectors.shape[1])

    def _sum(self, ids: Sequence[int]) -> Vector:
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        index = np.asarray(ids, dtype=np.int64)
        summed: Vector = self._weight[index] @ self._vectors[index]
        norm = float(np.linalg.norm(summed))
        return summed / norm if norm > 0 else summed

    def vector(self, text: str) -> Vector:
        return self._sum(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text (batched tokenisation)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return np.vstack([self._sum(e.ids) for e in encoded])

    def centroids(self, groups: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """One row per group of texts (an entry's title and questions): the normalised mean of
        the texts' unit vectors. Vectorised: one tokenizer batch, sums by `np.add.reduceat`."""
        texts = [t for group in groups for t in group]
        rows = np.zeros((len(groups), self.dim), dtype=np.float32)
        if not texts:
            return rows
        encoded = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        weighted = self._vectors[ids] * self._weight[ids, None]
        per_text = np.zeros((len(texts), self.dim), dtype=np.float32)
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


@functools.cache
def shared() -> Embedder:
    """The bundled vectors, loaded once per process."""
    return Embedder()
