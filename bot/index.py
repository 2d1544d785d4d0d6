"""The matcher's index: everything about a knowledge base that does not depend on the question,
as flat numpy arrays — compact, built in batch rather than text by text (`bot.analysis`, in
chunks, so a 100k-entry knowledge base builds within ~130 MB besides the entries themselves; see
`bot.memory`), and storable without pickle (`bot/kbcache.py`).

Vocabulary: token ids follow the sorted order of the tokens' text, so an alternate's unigram ids
in ascending order spell its rapidfuzz key (its sorted unigrams, space-joined; `Speller`).
Alternates: every title or question with at least one content token, grouped by entry; each
one's unigrams are stored in id order, then its phrases.
Postings: per token, the entries whose vocabulary has it, by entry index; a token used by more
than ``postings_cap`` entries keeps only the highest-impact ones (ties by entry index).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.analysis import analyze_all
from bot.corpus import F32, F64, I32, I64, U32, U64, Batch, Ints, ranges, sorted_runs
from bot.memory import drain, paused_gc, release_memory
from bot.text import Normalizer

_ENTRIES_PER_CHUNK = 1_000
_ALTS_PER_CHUNK = 20_000
_PAIRS_PER_SLICE = 100_000
_TOKENS_PER_CHUNK = 65_536


def fold(hashes: U64) -> U32:
    """64-bit set hashes folded to 32 bits (a match is always checked against the key)."""
    out: U32 = ((hashes >> np.uint64(32)) ^ (hashes & np.uint64(0xFFFFFFFF))).astype(np.uint32)
    return out


def token_hash(ids: Ints) -> U64:
    """A well-mixed 64-bit value per token id (splitmix64); summed, they hash a set of tokens."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: U64 = z ^ (z >> np.uint64(31))
        return out


MASK = (1 << 64) - 1


def token_hash_one(token: int) -> int:
    """`token_hash` of one token id, in Python integers (faster for a handful)."""
    z = (token + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def fold_one(h: int) -> int:
    """`fold` of one hash, in Python integers."""
    return (h >> 32) ^ (h & 0xFFFFFFFF)


def _offsets(owner: Ints, n: int) -> I64:
    """CSR offsets [n+1] of items grouped by ``owner`` (sorted, each in 0..n-1)."""
    out = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=out[1:])
    return out


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """What an index depends on besides the knowledge base (from `bot.matching.MatchSettings`)."""

    phrases: bool
    title_boost: int
    tf_saturation: float
    small_number_weight: float
    postings_cap: int


@dataclass(frozen=True, eq=False, slots=True)
class Index:
    """The arrays `bot.matching.Matcher` reads; see the module docstring."""

    tokens: list[str]  # token id -> text (unigrams and "a_b" phrases)
    idf: F64  # token id -> weight
    entry_alts: I64  # [E+1]: the alternates of entry e are entry_alts[e]:entry_alts[e+1] ...
    entry_toks: I64  # [E+1]: ... and their tokens alt_tok[entry_toks[e]:entry_toks[e+1]]
    alt_len: Ints  # [A]: how many tokens each alternate has (they follow one another in alt_tok) ...
    alt_uni: Ints  # [A]: ... the first this many its unigrams, in id order (its phrases after them)
    alt_tok: Ints  # uint16 for a vocabulary that fits, else int32
    alt_weight: F32  # [A]: the summed weight of each alternate's tokens
    # [A], sorted: per alternate, the hash of its unigram set (`fold`) in the high 32 bits and the
    # alternate in the low 32 (so equal hashes keep alternate order)
    exact: U64
    post_ptr: I64  # [V+1]: token t's postings are post_entry/post_tf[post_ptr[t]:post_ptr[t+1]]
    post_entry: I32
    post_tf: Ints  # how many of the entry's alternates use the token (the title counting more) ...
    impact: F64  # ... and the saturating share of the token that count gives the entry
    words: list[str]  # words as written in the knowledge base, in order of first use ...
    word_tok: I32  # ... and their tokens (for typo correction)
    ascii: bool  # every token is ASCII
    # each entry as one unit vector of the static semantic model (`bot.semantic`), when computed
    centroids: npt.NDArray[np.float16] = field(default_factory=lambda: np.zeros((0, 0), np.float16))

    def key(self, alt: int) -> str:
        """The rapidfuzz key of alternate ``alt``: its unigrams in id order, space-separated."""
        entry = self.entry_of(alt)
        first = int(self.entry_alts[entry])
        start = int(self.entry_toks[entry]) + int(self.alt_len[first:alt].sum())
        return " ".join(self.tokens[t] for t in self.alt_tok[start : start + int(self.alt_uni[alt])].tolist())

    def entry_of(self, alt: int) -> int:
        """The entry alternate ``alt`` belongs to (not stored per alternate: 6 MB at 100k entries)."""
        return int(self.entry_alts.searchsorted(alt, "right")) - 1

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The numeric fields, by name (the text fields are stored apart by `bot.kbcache`)."""
        return {name: getattr(self, name) for name in ARRAY_FIELDS}


TEXT_FIELDS = ("tokens", "words", "ascii")
ARRAY_FIELDS = tuple(f.name for f in fields(Index) if f.name not in TEXT_FIELDS)


def _narrow(values: Ints) -> Ints:
    """Small non-negative counts in as few bytes as they fit."""
    top = int(values.max(initial=0))
    return values.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32)


def build_index(
    texts: list[str],
    group_len: I64,
    normalizer: Normalizer,
    settings: IndexSettings,
    on_batch: Callable[[Batch], None] | None = None,
) -> Index:
    """Index the entries' ``texts``, entry by entry (its title first, then its questions;
    ``group_len`` of them each). ``texts`` is emptied once read (its memory is the build's);
    ``on_batch`` also reads each batch of texts (`bot.corpus`)."""
    with paused_gc():  # millions of short-lived lists: the cycle collector would rescan the KB
        return _build(texts, group_len, normalizer, settings, on_batch)


def _build(
    texts: list[str],
    group_len: I64,
    normalizer: Normalizer,
    settings: IndexSettings,
    on_batch: Callable[[Batch], None] | None,
) -> Index:
    phrases, title_boost, postings_cap = settings.phrases, settings.title_boost, settings.postings_cap
    n_entries = len(group_len)
    text_entry = np.repeat(np.arange(n_entries, dtype=np.int32), group_len)
    text_title = np.zeros(len(text_entry), bool)
    text_title[(np.cumsum(group_len) - group_len)[group_len > 0]] = True
    a = analyze_all(normalizer, texts, phrases, on_batch, group_len)
    texts.clear()
    tokens, words, word_tok, uni_tok = a.tokens, a.words, a.word_tok, a.uni_tok
    n_tokens = len(tokens)
    # alternates: texts with at least one content token; their tokens, unigrams then phrases
    is_alt = a.uni_count > 0
    alt_entry, alt_title = text_entry[is_alt], text_title[is_alt]
    del text_entry, text_title
    n_alts = len(alt_entry)
    # lengths only (offsets are made a chunk at a time: at 100k entries they would be 12 MB each)
    uni_len = _narrow(a.uni_count[is_alt])
    has_phrases = len(a.phr_tok) > 0
    if has_phrases:
        phr_len = a.phr_count[is_alt].astype(np.int64)
        alt_len = _narrow(uni_len + phr_len)
        starts = np.cumsum(alt_len, dtype=np.int64) - alt_len
        elem_tok = np.empty(int(alt_len.sum(dtype=np.int64)), uni_tok.dtype)
        elem_tok[ranges(starts, uni_len)] = uni_tok
        elem_tok[ranges(starts + uni_len, phr_len)] = a.phr_tok
        del starts, phr_len, uni_tok  # the unigrams are read from elem_tok from here on
    else:
        alt_len, elem_tok = uni_len, uni_tok
    del is_alt, a
    release_memory()
    per_entry = np.bincount(alt_entry, weights=alt_len, minlength=n_entries).astype(np.int64)
    entry_toks = np.concatenate([[0], np.cumsum(per_entry)])
    entry_alts = _offsets(alt_entry, n_entries)
    # each entry's vocabulary: how many of its alternates use a token, the title counting more
    vocab = []
    for lo in range(0, n_entries, _ENTRIES_PER_CHUNK):
        vocab.append(
            _entry_vocab(
                lo, alt_len, entry_alts, entry_toks, alt_entry, alt_title, elem_tok, n_tokens, title_boost
            )
        )
        release_memory()  # the chunk's temporaries (else the kept chunks pin freed pages between them)
    top_tf = max((int(v[2].max(initial=0)) for v in vocab), default=0)
    # pairs entry by entry: vocab_ptr[e]:vocab_ptr[e+1] are entry e's (no entry id per pair)
    vocab_ptr = np.concatenate([[0], np.cumsum(np.concatenate([v[0] for v in vocab]) if vocab else [])])
    # the chunks in lists of their own, so that each is freed once drained
    tok_chunks, tf_chunks = [v[1] for v in vocab], [v[2] for v in vocab]
    del vocab, alt_title, alt_entry
    release_memory()  # the chunks' temporaries
    vocab_tok = drain(tok_chunks, elem_tok.dtype.type)
    tf = drain(tf_chunks, _narrow(np.array([top_tf])).dtype.type)
    release_memory()
    df = np.bincount(vocab_tok, minlength=n_tokens)
    n = max(n_entries, 1)
    # small numbers ("5 pods", "15 minutes") are incidental; codes like 137 or 502 are not
    idf = np.empty(n_tokens, np.float64)
    small = settings.small_number_weight
    for lo in range(0, n_tokens, _TOKENS_PER_CHUNK):  # a chunk at a time, so that the Python lists
        hi = min(lo + _TOKENS_PER_CHUNK, n_tokens)  # (two objects per token) stay small
        idf[lo:hi] = [
            math.log(1.0 + n / d) * (small if t.isdigit() and len(t) < 3 else 1.0)
            for t, d in zip(tokens[lo:hi], df[lo:hi].tolist(), strict=True)
        ]
    k = settings.tf_saturation
    impact = np.array([c * (k + 1) / (c + k) / (k + 1) for c in range(int(tf.max(initial=0)) + 1)])
    post_order = _postings_order(vocab_tok, vocab_ptr, tf, impact, df, postings_cap)
    post_ptr = _offsets(vocab_tok[post_order], n_tokens)
    post_entry, post_tf = _owner(vocab_ptr, post_order), tf[post_order]
    del vocab_ptr, vocab_tok, tf, post_order
    release_memory()  # the postings' temporaries, before the per-alternate arrays are filled
    # per alternate: summed weight and exact-match hash, a chunk of alternates at a time
    if n_alts >= 2**32:
        raise ValueError("more than 2**32 alternates")
    alt_weight, exact = np.empty(n_alts, np.float32), np.empty(n_alts, np.uint64)
    width = max(n_tokens, 1)
    t0 = 0  # where the chunk's alternates start in elem_tok
    for lo in range(0, n_alts, _ALTS_PER_CHUNK):
        hi = min(lo + _ALTS_PER_CHUNK, n_alts)
        lengths, uni_lengths = alt_len[lo:hi].astype(np.int64), uni_len[lo:hi].astype(np.int64)
        starts, uni_starts = np.cumsum(lengths) - lengths, np.cumsum(uni_lengths) - uni_lengths
        t1 = t0 + int(lengths.sum())
        alt_weight[lo:hi] = np.add.reduceat(idf[elem_tok[t0:t1]], starts)
        # the unigrams of the chunk's alternates (their phrases follow each one's unigrams)
        unigrams = ranges(starts + t0, uni_lengths) if has_phrases else slice(t0, t1)
        hashed = fold(np.add.reduceat(token_hash(elem_tok[unigrams]), uni_starts)).astype(np.uint64)
        exact[lo:hi] = hashed << np.uint64(32) | np.arange(lo, hi, dtype=np.uint64)
        # then each alternate's unigrams in id order, so that `Speller` spells its key straight
        local = np.repeat(np.arange(hi - lo, dtype=np.int64), uni_lengths)
        # (stable: the values come alternate by alternate, runs the stable sort takes whole)
        elem_tok[unigrams] = np.sort(local * width + elem_tok[unigrams], kind="stable") % width
        t0 = t1
    exact.sort()
    return Index(
        tokens=tokens,
        idf=idf,
        entry_alts=entry_alts,
        entry_toks=entry_toks,
        alt_len=alt_len,
        alt_uni=uni_len,
        alt_tok=elem_tok,
        alt_weight=alt_weight,
        exact=exact,
        post_ptr=post_ptr,
        post_entry=post_entry,
        post_tf=post_tf,
        impact=impact,
        words=words,
        word_tok=word_tok,
        ascii=all(t.isascii() for t in tokens),
    )


def _entry_vocab(
    lo: int,
    alt_len: Ints,
    entry_alts: I64,
    entry_toks: I64,
    alt_entry: I32,
    alt_title: npt.NDArray[np.bool_],
    elem_tok: Ints,
    n_tokens: int,
    boost: int,
) -> tuple[I64, Ints, Ints]:
    """Pairs per entry, then token and count per pair, for the entries from ``lo`` on (one
    chunk); the pairs sorted by entry then token."""
    hi = min(lo + _ENTRIES_PER_CHUNK, len(entry_alts) - 1)
    a0, a1 = entry_alts[lo], entry_alts[hi]
    t0, t1 = entry_toks[lo], entry_toks[hi]
    alts = np.repeat(np.arange(a0, a1), alt_len[a0:a1])
    width = max(n_tokens, 1)
    order, ordered, head = sorted_runs((alt_entry[alts] - lo).astype(np.int64) * width + elem_tok[t0:t1])
    keys = ordered[head]  # the distinct (entry, token) pairs, sorted ...
    inverse = np.empty(len(order), np.int64)
    inverse[order] = np.cumsum(head) - 1  # ... and each element's pair
    tf = np.rint(np.bincount(inverse, weights=np.where(alt_title[alts], boost, 1)))
    per_entry = np.bincount(keys // width, minlength=hi - lo)
    return per_entry, (keys % width).astype(elem_tok.dtype), _narrow(tf.astype(np.int64))


def _by_token(tok: Ints, df: I64) -> I32:
    """``np.argsort(tok, kind="stable")`` as int32, made a slice of ``tok`` at a time (no int64
    array of the full size): each slice's positions go after those of earlier slices."""
    order = np.empty(len(tok), np.int32)
    filled = np.cumsum(df) - df  # where each token's next position goes
    for lo in range(0, len(tok), _PAIRS_PER_SLICE):
        part = tok[lo : lo + _PAIRS_PER_SLICE]
        ranked = np.argsort(part, kind="stable")
        sorted_tok = part[ranked]
        first = np.searchsorted(sorted_tok, sorted_tok, "left")  # each one's token's first place
        order[filled[sorted_tok] + np.arange(len(part)) - first] = ranked + lo
        filled += np.bincount(part, minlength=len(df))
    return order


def _positions(mask: npt.NDArray[np.bool_]) -> Ints:
    """``np.flatnonzero(mask)``, as int32 when that holds them, made a slice at a time (no int64
    array of the full size)."""
    if len(mask) >= 2**31:
        return np.flatnonzero(mask)
    out = np.empty(int(np.count_nonzero(mask)), np.int32)
    at = 0
    for lo in range(0, len(mask), _PAIRS_PER_SLICE):
        found = np.flatnonzero(mask[lo : lo + _PAIRS_PER_SLICE]) + lo
        out[at : at + len(found)] = found
        at += len(found)
    return out


def _owner(ptr: I64, positions: Ints) -> I32:
    """The row of each position of a CSR layout (``ptr``: the rows' offsets)."""
    return (np.searchsorted(ptr, positions, side="right") - 1).astype(np.int32)


def _postings_order(tok: Ints, vocab_ptr: I64, tf: Ints, impact: F64, df: I64, cap: int) -> Ints:
    """Positions of the (entry, token) pairs in postings order: by token, then by entry — or, for a
    token used by more than ``cap`` entries, its ``cap`` highest-impact entries (ties by entry).
    Impact grows with the count, so pairs of a capped token whose count is below its cap-th
    highest can never be kept: they are dropped before sorting (most pairs, in a big KB)."""
    pairs: Ints | None = None
    capped = np.flatnonzero(df > cap)  # their postings are in rank order, the others' by entry
    if len(capped):
        levels = int(tf.max(initial=0)) + 1
        per_count = np.zeros(len(df) * levels, np.int64)  # pairs per (token, count), a slice at a time
        for lo in range(0, len(tok), _PAIRS_PER_SLICE):
            cells = tok[lo : lo + _PAIRS_PER_SLICE].astype(np.int32) * levels + tf[lo : lo + _PAIRS_PER_SLICE]
            per_count += np.bincount(cells, minlength=len(per_count))
        at_least = np.cumsum(per_count.reshape(len(df), levels)[:, ::-1], axis=1)[:, ::-1]
        lowest = np.where(df > cap, (at_least >= cap).sum(axis=1) - 1, 0).astype(tf.dtype)  # count needed
        needed = tf >= lowest[tok]
        if np.count_nonzero(needed) < len(tok) // 2:  # else (counts tie a lot) not worth a copy
            pairs = _positions(needed)
            tok = tok[pairs]
            df = np.bincount(tok, minlength=len(df))
        del needed
    order = _by_token(tok, df)  # pairs come sorted by entry
    if len(capped):
        start = np.zeros(len(df) + 1, np.int64)
        np.cumsum(df, out=start[1:])
        keep = np.ones(len(order), bool)
        at = pairs if pairs is not None else np.arange(len(tf))
        for t in capped.tolist():
            mine = order[start[t] : start[t + 1]]
            ranked = mine[np.lexsort((_owner(vocab_ptr, at[mine]), -impact[tf[at[mine]]]))]
            order[start[t] : start[t] + cap] = ranked[:cap]
            keep[start[t] + cap : start[t + 1]] = False
        order = order[keep]
    return order if pairs is None else pairs[order]


class Speller:
    """Alternates' rapidfuzz keys spelt from their unigram ids: the tokens in id order (which is
    their text's order), space-separated; bytes when every token is ASCII (rapidfuzz compares
    them as it compares text), else text. A token holds no white space, so no line end."""

    def __init__(self, tokens: list[str]) -> None:
        spelled = [t.encode("utf-8") + b" " for t in tokens]  # each with its separator
        self._size = np.fromiter(map(len, spelled), np.int64, len(tokens))
        self._start = np.cumsum(self._size) - self._size
        self._bytes = np.frombuffer(b"".join(spelled), np.uint8)
        self._ascii = all(t.isascii() for t in tokens)

    def keys(self, tok: Ints, lengths: Ints) -> list[bytes] | list[str]:
        """The keys of alternates whose unigram ids follow one another in ``tok``, in id order
        within each alternate (as `Index.alt_tok` has them), ``lengths`` of them each."""
        if not len(lengths):
            return []
        sizes = self._size[tok]
        spelled = self._bytes[ranges(self._start[tok], sizes)]
        ends = np.cumsum(np.bincount(np.repeat(np.arange(len(lengths)), lengths), sizes, len(lengths)))
        if lengths.all():  # each key ends with its last token's separator: a line end instead
            spelled[ends.astype(np.int64) - 1] = ord("\n")
            texts = spelled.tobytes().split(b"\n")[:-1]
        else:
            joined, bounds = spelled.tobytes(), ends.astype(np.int64).tolist()
            texts = [joined[a : max(b - 1, a)] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]
        return texts if self._ascii else [t.decode("utf-8") for t in texts]
