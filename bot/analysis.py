"""`Normalizer.analyze` over all the texts of a knowledge base at once (`bot.index` builds on it):
the per-word work (synonyms, stop words, stems) is done once per distinct word, the rest by numpy,
a batch of texts at a time (`bot.corpus`)."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count, islice

import numpy as np

from bot.corpus import END, I32, I64, Batch, Fragments, FragmentTable, Ints, ranges, sorted_runs
from bot.memory import drain
from bot.text import Normalizer, basic_words

TEXTS_PER_BATCH = 10_000


def _small(ids: I32, n: int) -> Ints:
    """``ids`` (each below ``n``) as uint16 when they fit (they are kept until the build ends)."""
    return ids.astype(np.uint16) if n <= 2**16 else ids


def _counts(text: I32, n: int) -> I32:
    """How many of ``text`` (ids of n texts) are each text's."""
    return np.bincount(text, minlength=n).astype(np.int32)


def _first_of_each(keys: Ints) -> I64:
    """Positions of the first occurrence of each distinct key, in order of position."""
    order, _ordered, head = sorted_runs(keys)
    first = np.zeros(len(keys), bool)
    first[order[head]] = True
    return np.flatnonzero(first).astype(np.int64)


class _Interned:
    """Strings to ids, in order of first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.items: list[str] = []

    def id(self, item: str) -> int:
        found = self.ids.get(item)
        if found is None:
            found = self.ids[item] = len(self.items)
            self.items.append(item)
        return found


@dataclass(frozen=True, slots=True)
class Analyzed:
    """The content tokens of many texts (`Normalizer.analyze`, in batch), as flat arrays."""

    tokens: list[str]  # token id -> text, ids in sorted order of the text
    uni_count: I32  # per text: how many distinct tokens it has ...
    uni_tok: Ints  # ... and their ids, text by text, in order of first use (uint16 when they fit)
    phr_count: I32  # the same for the "a_b" phrases of adjacent tokens
    phr_tok: Ints
    words: list[str]  # each word as written (after synonyms), in order of first use ...
    word_tok: I32  # ... and the token it first gave


def analyze_all(
    normalizer: Normalizer,
    texts: Sequence[str],
    phrases: bool,
    on_batch: Callable[[Batch], None] | None = None,
    groups: I64 | None = None,
) -> Analyzed:
    """`Normalizer.analyze` over every text: the per-word work (synonyms, stop words, stems) is done
    once per distinct word, the de-duplication per text by numpy, a batch of texts at a time (each
    also goes to ``on_batch``: one pass over the texts serves `bot.semantic` too; ``groups``: see
    `Fragments.batches`)."""
    word_ids: defaultdict[str, int] = defaultdict(count().__next__)
    end = word_ids[END]
    by_fragment = FragmentTable([end])  # each fragment's words
    plan = _PhrasePlan(normalizer, word_ids)
    tokens, parts = _Interned(), _Interned()
    exp_len, exp_tok, exp_part = array("q"), array("i"), array("i")
    pair_ids: dict[int, int] = {}
    uni: list[tuple[I32, Ints]] = []  # per batch: tokens per text, token ids
    phr: list[tuple[I32, Ints]] = []
    first_parts: list[I32] = []
    first_toks: list[I32] = []
    seen = np.zeros(0, bool)

    def pair_id(key: int) -> int:
        found = pair_ids.get(key)
        if found is None:
            left, right = tokens.items[key >> 32], tokens.items[key & 0xFFFFFFFF]
            found = pair_ids[key] = tokens.id(f"{left}_{right}")
        return found

    for batch in Fragments().batches(texts, TEXTS_PER_BATCH, groups):
        if on_batch is not None:
            on_batch(batch)
        chunk = batch.texts
        if plan.plain:
            by_fragment.extend([[word_ids[w] for w in basic_words(f)] for f in batch.fresh])
            occ = plan.apply(_in_text_order(batch, by_fragment.spread(batch.occ)[0], word_ids))
        else:  # synonym phrases that are not plain words: text by text
            occ = np.array([word_ids[w] for text in chunk for w in (*normalizer.words(text), END)], np.int64)
        for word in islice(word_ids, len(exp_len), None):
            pairs = normalizer.expand(word) if word != END else ()
            exp_len.append(len(pairs))
            exp_tok.extend(tokens.id(t) for _w, t in pairs)
            exp_part.extend(parts.id(w) for w, _t in pairs)
        lengths = np.array(exp_len, np.int64)
        per_word = lengths[occ]
        picked = ranges((np.cumsum(lengths) - lengths)[occ], per_word)
        tok_seq = np.array(exp_tok, np.int32)[picked]
        part_seq = np.array(exp_part, np.int32)[picked]
        is_end = occ == end
        text_seq = np.repeat((np.cumsum(is_end) - is_end).astype(np.int32), per_word)
        del picked, occ, is_end, per_word
        first = _first_of_each(text_seq.astype(np.int64) * max(len(tokens.items), 1) + tok_seq)
        uni.append((_counts(text_seq[first], len(chunk)), _small(tok_seq[first], len(tokens.items))))
        # the words as written, the first time each is used (typo correction reads them)
        chunk_parts = part_seq[first]
        new = _first_of_each(chunk_parts)
        seen = np.concatenate([seen, np.zeros(len(parts.items) - len(seen), bool)])
        new = new[~seen[chunk_parts[new]]]
        seen[chunk_parts[new]] = True
        first_parts.append(chunk_parts[new])
        first_toks.append(tok_seq[first][new])
        if phrases and len(tok_seq) > 1:
            adjacent = (text_seq[1:] == text_seq[:-1]) & (tok_seq[1:] != tok_seq[:-1])
            keys = tok_seq[:-1][adjacent].astype(np.int64) << 32 | tok_seq[1:][adjacent]
            where = text_seq[1:][adjacent]
            distinct, inverse = np.unique(keys, return_inverse=True)
            phrase = np.fromiter(map(pair_id, distinct.tolist()), np.int32, len(distinct))
            phrase = phrase[inverse.reshape(-1)]
            first = _first_of_each(where.astype(np.int64) * max(len(tokens.items), 1) + phrase)
            phr.append((_counts(where[first], len(chunk)), phrase[first]))
        elif phrases:
            phr.append((np.zeros(len(chunk), np.int32), np.zeros(0, np.int32)))
    # the tokens texts use (phrase words that never occur expanded to some that are not), by text
    used = np.zeros(len(tokens.items), bool)
    for _text, tok in (*uni, *phr):
        used[tok] = True
    order = sorted(np.flatnonzero(used).tolist(), key=tokens.items.__getitem__)
    rank = np.full(len(tokens.items), -1, np.int32)
    rank[np.asarray(order, np.int64)] = np.arange(len(order), dtype=np.int32)

    narrow = np.uint16 if len(order) <= 2**16 else np.int32

    def joined(chunks: list[tuple[I32, Ints]]) -> tuple[I32, Ints]:
        """Per text counts (texts without any: zeros) and the ranked ids, each batch's arrays
        freed as soon as they are copied (they are the build's largest)."""
        counts = [c[0] for c in chunks]
        counts += [np.zeros(len(texts) - sum(map(len, counts)), np.int32)]
        ids: list[Ints] = [c[1] for c in chunks]
        chunks.clear()
        return np.concatenate(counts), drain(ids, narrow, rank)

    word_parts = np.concatenate(first_parts).tolist() if first_parts else []
    return Analyzed(
        [tokens.items[i] for i in order],
        *joined(uni),
        *joined(phr),
        [parts.items[p] for p in word_parts],
        rank[np.concatenate(first_toks)] if first_toks else np.zeros(0, np.int32),
    )


def _in_text_order(batch: Batch, plain_words: I64, word_ids: defaultdict[str, int]) -> I64:
    """The words of every text of ``batch``, END after each: ``plain_words`` has the plain texts'
    (read through fragments), the others are read here one by one."""
    if batch.plain.all():
        return plain_words
    end = word_ids[END]
    plain = iter(np.split(plain_words, np.flatnonzero(plain_words == end) + 1))
    return np.concatenate(
        [
            next(plain) if ok else np.array([*(word_ids[w] for w in basic_words(text)), end], np.int64)
            for text, ok in zip(batch.texts, batch.plain.tolist(), strict=True)
        ]
    )


class _PhrasePlan:
    """Synonym phrases replaced in a chunk's word ids, as `Normalizer.words` replaces them in a text:
    numpy finds where a phrase's first two words meet, Python checks and replaces those spots."""

    def __init__(self, normalizer: Normalizer, word_ids: defaultdict[str, int]) -> None:
        keys = normalizer.phrase_keys
        self.plain = keys is not None
        self._plan: dict[int, list[tuple[list[int], I64]]] = {}
        for first, by_second in (keys or {}).items():
            for second, options in by_second.items():
                self._plan[word_ids[first] << 32 | word_ids[second]] = [
                    ([word_ids[w] for w in key], np.array([word_ids[w] for w in repl], np.int64))
                    for key, repl in options
                ]
        self._pairs = np.array(sorted(self._plan), np.int64)
        self._firsts = np.unique(self._pairs >> 32)  # word ids that start a phrase

    def apply(self, occ: I64) -> I64:
        if not len(self._pairs) or len(occ) < 2:
            return occ
        starts = np.zeros(max(int(occ.max()), int(self._firsts[-1])) + 1, bool)
        starts[self._firsts] = True
        spots = np.flatnonzero(starts[occ[:-1]])  # where a phrase may begin
        pairs = occ[spots] << 32 | occ[spots + 1]
        at = np.minimum(np.searchsorted(self._pairs, pairs), len(self._pairs) - 1)
        spans: list[tuple[int, int, I64]] = []
        done = 0
        for j in np.flatnonzero(self._pairs[at] == pairs).tolist():
            i = int(spots[j])
            if i < done:
                continue  # inside a phrase just replaced
            for key, replacement in self._plan[int(pairs[j])]:
                if occ[i : i + len(key)].tolist() == key:
                    spans.append((i, i + len(key), replacement))
                    done = i + len(key)
                    break
        if not spans:
            return occ
        keep = np.ones(len(occ), bool)
        keep[ranges(np.array([s for s, _e, _r in spans]), np.array([e - s for s, e, _r in spans]))] = False
        removed_before = np.cumsum(~keep)
        at_kept = [s - (int(removed_before[s - 1]) if s else 0) for s, _e, _r in spans]
        counts = [len(r) for _s, _e, r in spans]
        return np.insert(
            occ[keep], np.repeat(at_kept, counts), np.concatenate([r for _s, _e, r in spans])
        ).astype(np.int64)
