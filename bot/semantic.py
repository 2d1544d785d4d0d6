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

    def centroid(self, texts: Sequence[str]) -> Vector:
        """The normalised mean of the texts' vectors: one vector that stands for an entry."""
        rows = self.vectors(texts)
        mean = rows.mean(axis=0) if len(rows) else np.zeros(self.dim, dtype=np.float32)
        norm = float(np.linalg.norm(mean))
        return (mean / norm if norm > 0 else mean).astype(np.float32)


@functools.cache
def shared() -> Embedder:
    """The bundled vectors, loaded once per process."""
    return Embedder()
