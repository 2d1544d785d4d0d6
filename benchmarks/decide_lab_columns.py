"""Answer-model experiments that add columns to the evidence (`decide_lab.py` compares variants of
the model on the same columns): each experiment computes its columns per candidate from the
knowledge base, appends them to the fit set's rows and runs `decide_lab.robust` on the shipped
tree model with and without them, on the evidence as it was before the matcher's entry facts
(`bot/entry_facts.py`, which came from the first and third experiments here).

  entry-breadth  per entry: its questions (log), its distinct tokens (log), the mean and the
                 top-5 mean of its tokens' IDF (the more questions and words an entry has, the
                 likelier a high best-alternate or coverage score by chance)
  alt-semantic   the question's closest single question of the entry in the static semantic
                 vectors (max and top-3 mean cosine, each also minus the best among candidates);
                 the shipped feature compares with the entry's centroid
  answer-text    how much of the question the entry's answer text covers (answer, analogy, tips,
                 commands; words weighed by an IDF over the answers): the share, minus the best
                 candidate's, the rarest word found, the share the entry's questions lack
  answer-text+entry-breadth  both
  answer-semantic  the cosine of the question and the entry's answer text (answer, analogy, tips)
                 in the static semantic vectors, and minus the best candidate's (run it with
                 --shipped: on top of the shipped evidence, entry facts included)
  title-semantic the cosine of a post's title alone and the entry's centroid, and minus the best
                 candidate's (--shipped)
  title-gap      the title features (score, best alternate, coverage) minus the best candidate's:
                 whether the title alone ranks the entry first (--shipped)
  neighbours     the fit set's labelled questions as examples: per candidate, the highest cosine
                 between the question and a fit question of another thread labelled with that
                 entry, in the static semantic vectors, and minus the best candidate's (--shipped)
  neighbours-lexical  the same with TF-IDF cosine (scikit-learn, sublinear tf) of what the matcher
                 reads; NEIGHBOURS_APART=repo takes examples only from other repositories or sites
  neighbours-both  both
  neighbours-tokens  neighbours-lexical with the matcher's own tokens (synonyms, stop words, stems)
  knn-share      per candidate, its share of the cosine of the question's 10 nearest other-thread
                 examples, and whether the nearest is its (KNN_POOL=1: the candidates' examples only)
  classifier     a linear text classifier from words to entries, trained per grouped tenth of the
                 threads on the entries' titles and questions (KB=0: without) and the other
                 tenths' fit questions: per candidate, its score and that minus the best among the
                 candidates. CLF=svc|l1|lr, CLF_C (1), NGRAM (1: words; 2: and pairs), MINDF (1),
                 POS=1 keeps only the positive weights, PRUNE=K the K largest per entry, ANSWERS=1
                 adds each entry's answer text as a document, TITLE=1 scores a post's title alone,
                 ANALYZER=tokens reads the matcher's own tokens instead of words and pairs;
                 run it --shipped --without-wording (the shipped evidence less the built-in
                 wording columns) to compare variants of the built-in model; since stop 19 with
                 the lead column too, and GLOBAL=1 adds the score minus the best over every entry
                 and the candidates' best minus that; BALANCED=1 weighs the entries' classes
                 equally (scikit-learn's class_weight="balanced"); OFFCLASS=1 trains the
                 off-topic fit questions as one more class and adds its score and the
                 candidates' best minus it; ANALYZER=char: character 3-5-grams within words
                 (CHAR_MAX, MINDF 2), PASTED_ONLY=1: zeros for a one-line question
  leads          derived from the shipped columns: per ranker (LEADS=wording,example,semantic,
                 answer_covered,title_score), the candidate's value minus the best one's, and for
                 the best its value minus the runner-up's; LEAD_VOTES=1 adds how many rankers put it
                 first, LEAD_REPLACE=1 drops the gap columns the leads stand for
  facets         like platform, for other groups of mutually exclusive names (the distribution,
                 the desktop OS, the engine; FACETS=distro,os,engine, FACET_SUM=1 sums them)
  prior          how often the candidate is the label of the other tenths' fit questions
  kinds          the kind of question (what-is, how-to, a problem report) against the kind of entry
                 (a concept, a problem): agreement columns (KINDS_RAW=1 adds the raw flags)
  contained      how completely each candidate's best-contained question appears in the question
  siblings       the share of the other candidates that are the candidate's see_also (either
                 way), and whether the first other one is (SIBLINGS=count|first for one)
  platform       whether the question names Docker or Kubernetes words, the share of the entry's
                 own questions that do, and agreement minus conflict (PLATFORM_ONE=1: that alone)

Usage: python benchmarks/decide_lab_columns.py EXPERIMENT [--seeds 0-4] [--shipped]
Figures: right / wrong / off-topic declined / on-topic declined, out of fold on the fit sets.

Outcomes (2026-12-06, 1,371 fit questions, against 67.1 % right / 3.8 % wrong for seeds 0-4 and
67.7 % / 3.8 % for seeds 5-14):
- alt-semantic: 66.5 % right (seeds 0-4).
- entry-breadth: 67.9 % (0-4), 69.0 % (5-14), wrong 3.9 %. Built in alone and refitted, it answered
  the held-out real questions 62.6 % (63.0 %) with 3.4 % wrong (4.6 %): below the gate of
  `tests/core/test_kb_shipped.py`, so it was not kept then.
- answer-text: 68.2 % / 3.9 % (0-4). Its variants: the share alone 68.0 %; the share of the
  entry's answer and questions together 67.8 %; the question's words as the index weighs them
  (only words some question uses) 67.5 %; as the reader weighs them, unknown words included, 67.7 %.
- answer-text+entry-breadth: 69.3 % / 3.9 % (0-4), 69.6 % / 3.8 % (5-14, better on 10 of 10
  seeds); with the reader's weights (what the matcher computes without an IDF over every answer,
  which would cost the 10k build ~1.6 s) 69.5 % / 3.8 % and 69.4 % / 3.8 %. Built in
  (`bot/entry_facts.py`) and refitted: 69.2 % / 4.0 % out of fold (`calibrate.py`).
- answer-semantic --shipped: 70.3 % / 3.8 % against 69.2 % / 3.8 % (seeds 0-4), but 70.1 % against
  69.5 % on seeds 5-14 (better on 7 of 10): too weak to build in.

Outcomes (2026-12-07, 2,241 fit questions, the 250-tree model, all --shipped; all at 3.9 % wrong):
- title-semantic: 61.2 % against 60.7 % (seeds 0-4, better on 3 of 5), 60.9 % against 60.8 %
  (seeds 5-14): not built in.
- title-gap: 60.8 % against 60.7 % (0-4), 60.3 % against 60.8 % (5-14): not built in.
- neighbours (semantic): 63.2 % against 60.9 % (0-4), 62.9 % against 60.9 % (5-14), better on all 15.
- neighbours-lexical: 65.9 % (0-4) and 65.7 % (5-14) against 60.9 %, better on all 15; posts 64.8 /
  64.7 % against 58.9 / 58.8 %, chat 72.2 / 71.8 % against 73.4 / 73.1 %. With examples only from
  other repositories or sites (NEIGHBOURS_APART=repo): 64.8 % (0-4), posts 63.5 %. Of the fit
  posts' nearest other-thread neighbours, 18 of 1,919 are near-copies (cosine >= 0.9); the same
  entry is labelled on 43 % of neighbours at cosine 0.2-0.3, 64 % at 0.3-0.4, 86 % at 0.5-0.7.
- neighbours-tokens: 63.8 % (0-4), posts 62.6 %: the matcher's tokens do worse here than
  scikit-learn's plain words (lower-cased runs of two or more word characters, stop words kept),
  which a run-time version can reproduce with a regex and numpy.
- neighbours-both: 66.6 % (0-4). neighbours-lexical is built in (bot/examples.py, 2026-12-07):
  refitted, 66.2 % / 4.0 % out of fold (`calibrate.py`); the held-out posts 56.9 % -> 62.5 %. Since
  then the fit rows carry it, so the neighbours experiments here only add a second copy.
- knn-share (on top of the built-in examples, 2026-12-07): 67.2 % against 66.1 % (0-4, better on
  all five), 67.3 % against 65.7 % (5-14); KNN_POOL=1 (the candidates' examples only): 68.0 %
  against 66.1 % (0-4, better on all five). Built in as `example_share`: 67.8 % / 4.0 % out of fold.

Outcomes (stop 18, classifier --shipped on the evidence with example_share; the shipped trees read
67.9 % on seeds 0-4 and 67.1 % on 5-14, all at 3.9 % wrong):
- LinearSVC on words, C 1: 67.7 %; C 0.5: 66.8 %; logistic regression (CLF=lr CLF_C=10) 68.5 %.
- Words and pairs (NGRAM=2), C 0.5: 69.2 % (0-4, better on all five), 69.1 % (5-14, better on all
  ten); C 0.2: 68.8 %; without the entries' own questions (KB=0): 68.2 %; CLF=l1 (C 1): 67.7 %.
- NGRAM=2 CLF_C=0.5 with MINDF=2 (20k terms instead of 72k): 69.2 %; MINDF=3: 68.8 %; MINDF=2
  POS=1 (the positive weights only, ~100k of 1.6M): 69.2 %; PRUNE=300 (largest |weight|) 68.4 %,
  PRUNE=1000 68.6 %, PRUNE=2500 69.5 %. Built in (`bot/wording.py`: NGRAM=2, CLF_C=0.5, MINDF=2,
  POS=1) and refitted: 69.4 % / 4.0 % out of fold (`calibrate.py`; 67.8 % before).
- Variants of the built-in one, --shipped --without-wording (67.9 % without it, seeds 0-4): its own
  settings 69.0 %; C 1 69.4 %; the entries' answer texts as documents (ANSWERS=1) 69.2 %: within
  the noise, not changed. Only the 100 or 150 largest positive weights per entry (to halve the
  per-question work): 68.1 % and 68.2 %, not taken.
- TITLE=1 --shipped (a post's title alone scored as well, on top of the built-in columns): 69.5 %
  against 69.2 % (0-4, better on all five), 68.7 % against 68.4 % (5-9, better on three): too
  small for a second pass over every post, not built in. The built-in model's examples from half
  or three quarters of the fit threads (a learning curve): 68.7 % and 69.1 % against 69.0 %: more
  labelled questions would add little. A second classifier on the matcher's own tokens
  (ANALYZER=tokens POS=1 CLF_C=0.5 --shipped): 69.1 % (MINDF=1) and 68.5 % (MINDF=2) against 69.2 %.
- platform --shipped (the question's and the entry's Docker/Kubernetes words): 70.5 % against 69.2 %
  (seeds 0-4, better on all five), 70.1 % against 68.4 % (5-9, better on all five); PLATFORM_ONE=1
  (agreement minus conflict only): 69.8 % and 70.3 % (better on nine, one tie). Built in as the
  `platform` feature (`bot/platforms.py`; the words in knowledge/domain.yaml) and refitted: 70.4 % /
  4.0 % out of fold.

Outcomes (stop 19, leads --shipped, all at 3.8-3.9 % wrong):
- On the fit labels of stop 18 (shipped 69.9 %, seeds 0-4): leads with the count of first places
  70.6 % (better on 4 of 5; seeds 5-9: 70.2 % against 70.0 %); without the count (LEAD_VOTES=0)
  71.2 % (better on all five).
- On the fit labels with the audit's `also` additions (shipped 71.8 / 71.6 / 71.0 % on seeds 0-4 /
  5-9 / 10-14), LEAD_VOTES=0: 72.7 / 72.2 / 71.9 %, better on 5, 4 and 4 of 5. Only the wording
  and example leads: 72.1 % (0-4). With the score and best-alternate leads too (and the count):
  72.0 %. In place of the gaps (LEAD_REPLACE=1): 72.0 % and 72.1 % (0-4, 5-9).
- Built in (`bot/leads.py`, LEAD_VOTES=0, the five default rankers) and refitted: 72.7 % / 4.0 % out
  of fold (`calibrate.py`; 70.4 % before, both changes together).
- More leads on top of the built-in five (LEAD_VOTES=0, seeds 0-4, shipped 72.7 %): of best_alt,
  covered, rarest, example_share, title_best_alt, title_covered, answer_rarest, evidence and
  together 71.9 %; of best_alt, example_share and title_best_alt 72.4 %. Not built in.
- facets --shipped (on the evidence with the leads, shipped 72.7 % on seeds 0-4): the three groups
  as three columns 72.8 % (better on three of five); summed into one (FACET_SUM=1) 72.4 %. Not
  built in.
- classifier --shipped --without-wording with the built-in settings (NGRAM=2 CLF_C=0.5 MINDF=2
  POS=1), on the evidence with the examples for pasted posts only (69.3 % without the wording
  columns, seeds 0-4): 72.1 %; GLOBAL=1 (against the best over every entry) 71.9 %; BALANCED=1
  (classes weighed equally) 71.8 %. Neither built in. OFFCLASS=1 (the off-topic fit questions as one
  more class, its score and the candidates' best minus it): 72.8 % against 72.1 % (seeds 0-4, better
  on four), 72.5 % against 71.8 % (5-9, better on all five). Built in (`bot/wording.py`,
  `wording_off` and `wording_above_off`) and refitted: 73.1 % / 4.0 % out of fold (72.4 % before).
- prior --shipped (log1p of how often the candidate is the label among the other tenths' fit
  questions): 72.4 % against 72.1 % (seeds 0-4), 71.7 % against 71.8 % (5-9). Not built in.
- siblings --shipped (whether the other candidates are the candidate's `see_also`, either way; the
  top two are siblings for 63 % of the fit questions, whose top is then right 89 % of the time
  against 80 %): 72.4 % against 72.7 % (seeds 0-4). Not built in.

Outcomes (stop 21, on the shipped evidence, 73.0 % / 3.9 % on seeds 0-4):
- kinds --shipped (what-is / how-to / problem questions against concept / problem entries, from the
  question's first line and the entry's folder and title): 72.9 % (chat 77.0 against 76.9 %); with
  the raw flags (KINDS_RAW=1) 73.1 %. The fit set's chat misses looked like a concept question
  answered with a task entry ("whats etcd for" -> etcd-backup-restore), but the model reads the
  kinds no better than the wording model already does. Not built in.
- contained --shipped (how completely the entry's best-contained question appears in the question:
  the share of its IDF weight present, over all its questions and over those of 3+ tokens, and the
  gap to the best candidate; a post that holds an entry's whole error message): 73.0 % (per seed
  72.2-74.1 %), on-topic declined 9.5 % against 10.6 % (more did-you-mean, no more answers). Not
  built in.

Outcomes (stop 22, on the shipped evidence, 73.0 % / 3.9 % on seeds 0-4, 72.6 % on 5-9):
- classifier ANALYZER=char CLF_C=0.5 --shipped (a second wording model on character 3-5-grams
  within words: typos, identifiers such as CrashLoopBackOff and x509, inflections), on top of the
  built-in one: 73.8 % on seeds 0-4 (posts 73.5 against 72.3 %, chat 75.5 against 76.9 %) but
  72.8 % on 5-9; for pasted posts only (PASTED_ONLY=1) 72.6 % on 0-4. Not built in.

Outcomes (stop 20, on the shipped evidence of 680d06a, 73.0 % / 3.9 % on seeds 0-4):
- alt-semantic --shipped (the static vectors' closest question of each candidate, the column the
  teacher itself made worth ~2 points in `minilm_oracle.py`): 73.1 % (posts 72.4 against 72.3 %,
  chat 77.6 against 76.9 %): the static copy does not carry that signal. Not built in.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchmarks.decide_lab as lab  # noqa: E402
from bot.fitting import TREE_PARAMS, unfitted_matcher  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.leads import leads as leads_of  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.text import clean_input  # noqa: E402

BASE = lab.FEATURES.index("answer_covered")
Columns = Callable[[lab.Q], list[tuple[float, ...]]]  # per candidate of a question, the added values


def entry_breadth(m: Matcher) -> Columns:
    idf = m._reader.idf
    top = max(idf.values())
    info: dict[str, tuple[float, ...]] = {}
    for e in m.entries:
        tokens = {t for q in (e.title, *e.questions) for t in m._reader.normalizer.tokens(q)}
        weights = sorted((idf.get(t, 0.0) / top for t in tokens), reverse=True) or [0.0]
        info[e.id] = (
            min(math.log1p(len(e.questions)) / 4, 1.0),
            min(math.log1p(len(tokens)) / 6, 1.0),
            float(np.mean(weights)),
            float(np.mean(weights[:5])),
        )
    return lambda q: [info[i] for i in q.ids]


def alt_semantic(m: Matcher) -> Columns:
    embedder = m._embedder
    vectors = {e.id: embedder.vectors([e.title, *e.questions]) for e in m.entries}

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        v = embedder.vector(m._reader.read(clean_input(q.item.question)).digest.text)
        sims = [np.sort(vectors[i] @ v)[::-1] for i in q.ids]
        best = [float(s[0]) for s in sims]
        top3 = [float(s[:3].mean()) for s in sims]
        return [(b, b - max(best), t, t - max(top3)) for b, t in zip(best, top3, strict=True)]

    return columns


def answer_text(m: Matcher) -> Columns:
    """How much of the question the entry's answer text (answer, analogy, tips and their commands)
    covers, the question's words weighed by an IDF over the answers: the share, that share minus
    the best among the candidates, the rarest word found, and the share its questions lack."""
    norm = m._reader.normalizer
    vocab: dict[str, frozenset[str]] = {}
    for e in m.entries:
        parts = [e.answer, e.analogy or "", *(t.text for t in e.tips), *(t.command or "" for t in e.tips)]
        vocab[e.id] = frozenset(t for part in parts for t in norm.tokens(part))
    asked = {e.id: frozenset(t for x in (e.title, *e.questions) for t in norm.tokens(x)) for e in m.entries}
    df: dict[str, int] = {}
    for words in vocab.values():
        for t in words:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + len(vocab) / c) for t, c in df.items()}
    top = math.log(1 + len(vocab))

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        text = m._reader.read(clean_input(q.item.question)).digest.text
        words = sorted({t for t in norm.tokens(text) if t in idf})
        total = sum(idf[t] for t in words) or 1.0
        found = [[t for t in words if t in vocab[i]] for i in q.ids]
        covered = [sum(idf[t] for t in f) / total for f in found]
        rarest = [max((idf[t] for t in f), default=0.0) / top for f in found]
        new = [sum(idf[t] for t in f if t not in asked[i]) / total for f, i in zip(found, q.ids, strict=True)]
        best = max(covered, default=0.0)
        return [(c, c - best, r, w) for c, r, w in zip(covered, rarest, new, strict=True)]

    return columns


def answer_semantic(m: Matcher) -> Columns:
    """The cosine of the question and the entry's answer text in the static semantic vectors, and
    that cosine minus the best among the candidates."""
    embedder = m._embedder
    vectors = {}
    for e in m.entries:
        parts = [e.answer, e.analogy or "", *(t.text for t in e.tips)]
        vectors[e.id] = embedder.vector(" ".join(parts))

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        v = embedder.vector(m._reader.read(clean_input(q.item.question)).digest.text)
        sims = [float(vectors[i] @ v) for i in q.ids]
        best = max(sims, default=0.0)
        return [(s, s - best) for s in sims]

    return columns


def title_semantic(m: Matcher) -> Columns:
    """The cosine of a post's title alone and the entry's centroid (the question's own cosine for a
    one-line question, as ``title_score`` is its score), and that cosine minus the best among the
    candidates."""
    embedder = m._embedder
    row = {e.id: i for i, e in enumerate(m.entries)}

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        d = m._reader.read(clean_input(q.item.question)).digest
        v = embedder.vector(d.title if d.title and d.lines > 1 else d.text)
        sims = [float(m._centroids[row[i]].astype(np.float32) @ v) for i in q.ids]
        best = max(sims, default=0.0)
        return [(s, s - best) for s in sims]

    return columns


def title_gap(m: Matcher) -> Columns:
    """Each candidate's title score (`title_score`, its best alternate's, its coverage) minus the
    best among the candidates: whether the post's title alone ranks it first."""
    names = ("title_score", "title_best_alt", "title_covered")

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        cols = [[f[lab.F[n]] for f in q.features] for n in names]
        return [tuple(c[k] - max(c) for c in cols) for k in range(len(q.features))]

    return columns


def _repository(q: lab.Q) -> str:
    """The repository (owner/name) or site a question came from; its own thread for chat ones."""
    parts = q.group.split("/")
    return "/".join(parts[:5]) if "github.com" in q.group else "/".join(parts[:3])


def _neighbour_columns(fit: list[lab.Q], sims: np.ndarray) -> Columns:
    """Per candidate, the highest similarity between the question and a fit question of ANOTHER
    thread (with NEIGHBOURS_APART=repo: of another repository or site) labelled with that entry (0
    when none), and that minus the best among the candidates."""
    labels = np.array([q.item.expect if q.item.on_topic and not q.item.gap else "" for q in fit])
    apart = os.environ.get("NEIGHBOURS_APART") == "repo"
    groups = np.array([_repository(q) if apart else q.group for q in fit])
    row = {(q.group, q.item.question): k for k, q in enumerate(fit)}

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        k = row[(q.group, q.item.question)]
        other = groups != groups[k]
        best = []
        for i in q.ids:
            mask = other & (labels == i)
            best.append(float(sims[k][mask].max()) if mask.any() else 0.0)
        top = max(best, default=0.0)
        return [(b, b - top) for b in best]

    return columns


def _digests(m: Matcher, fit: list[lab.Q]) -> list[str]:
    return [m._reader.read(clean_input(q.item.question)).digest.text for q in fit]


def neighbours(m: Matcher) -> Columns:
    """The fit set's labelled questions as examples, compared in the static semantic vectors."""
    fit, _dev = lab.load()
    vectors = m._embedder.vectors(_digests(m, fit))
    return _neighbour_columns(fit, vectors @ vectors.T)


def neighbours_lexical(m: Matcher) -> Columns:
    """The same examples compared by TF-IDF cosine (scikit-learn, sublinear term frequencies)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    fit, _dev = lab.load()
    x = TfidfVectorizer(sublinear_tf=True).fit_transform(_digests(m, fit))
    return _neighbour_columns(fit, (x @ x.T).toarray())


def neighbours_tokens(m: Matcher) -> Columns:
    """neighbours-lexical with the matcher's own tokens (synonyms, stop words, stems) instead of
    scikit-learn's word pattern."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    fit, _dev = lab.load()
    tfidf = TfidfVectorizer(sublinear_tf=True, analyzer=m._reader.normalizer.tokens)
    x = tfidf.fit_transform(_digests(m, fit))
    return _neighbour_columns(fit, (x @ x.T).toarray())


def knn_share(m: Matcher) -> Columns:
    """Per candidate, its share of the similarity of the question's K nearest examples of other
    threads overall (K from KNN_K, default 10; TF-IDF cosine as neighbours-lexical), and whether
    the single nearest is one of its examples. KNN_POOL=1: among the candidates' examples only."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    fit, _dev = lab.load()
    k_near = int(os.environ.get("KNN_K", "10"))
    pool_only = os.environ.get("KNN_POOL") == "1"
    x = TfidfVectorizer(sublinear_tf=True).fit_transform(_digests(m, fit))
    sims = (x @ x.T).toarray()
    labels = np.array([q.item.expect if q.item.on_topic and not q.item.gap else "" for q in fit])
    groups = np.array([q.group for q in fit])
    row = {(q.group, q.item.question): k for k, q in enumerate(fit)}

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        k = row[(q.group, q.item.question)]
        usable = (groups != groups[k]) & (labels != "")
        if pool_only:  # only the candidates' own examples, as the matcher already compares
            usable &= np.isin(labels, q.ids)
        s = np.where(usable, sims[k], -1.0)
        near = np.argsort(-s)[:k_near]
        total = float(s[near].clip(0).sum()) or 1.0
        return [
            (float(s[near][labels[near] == i].clip(0).sum()) / total, float(labels[near[0]] == i))
            for i in q.ids
        ]

    return columns


def classifier(m: Matcher) -> Columns:
    """A linear classifier's score per candidate, trained without the question's tenth of threads."""
    import zlib

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    env = os.environ.get
    fit, _dev = lab.load()
    digests = _digests(m, fit)
    # TITLE=1: score a post's title alone (a one-line question is its own title)
    reads = [m._reader.read(clean_input(q.item.question)).digest for q in fit] if env("TITLE") == "1" else []
    titles = [d.title if d.title and d.lines > 1 else d.text for d in reads]
    fold = [zlib.crc32(q.group.encode()) % 10 for q in fit]
    own = [(t, e.id) for e in m.entries for t in (e.title, *e.questions)] if env("KB", "1") == "1" else []
    if env("ANSWERS") == "1":  # each entry's answer text as one more document
        own += [(" ".join([e.answer, e.analogy or "", *(t.text for t in e.tips)]), e.id) for e in m.entries]
    scores: dict[int, tuple[np.ndarray, dict[str, int]]] = {}
    for k in range(10):
        docs = own + [
            (digests[i], str(q.item.expect))
            for i, q in enumerate(fit)
            if fold[i] != k and q.item.on_topic and not q.item.gap
        ]
        if env("OFFCLASS") == "1":  # the off-topic questions as one more class
            docs += [
                (digests[i], "__off__") for i, q in enumerate(fit) if fold[i] != k and not q.item.on_topic
            ]
        vec = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, int(env("NGRAM", "1"))), min_df=int(env("MINDF", "1"))
        )
        if env("ANALYZER") == "char":  # character n-grams within words (typos, identifiers)
            vec = TfidfVectorizer(
                sublinear_tf=True,
                analyzer="char_wb",
                ngram_range=(3, int(env("CHAR_MAX", "5"))),
                min_df=int(env("MINDF", "2")),
                max_features=int(env("CHAR_FEATURES", "0")) or None,
            )
        if env("ANALYZER") == "tokens":  # the matcher's own tokens (synonyms, stop words, stems)
            vec = TfidfVectorizer(
                sublinear_tf=True, analyzer=m._reader.normalizer.tokens, min_df=int(env("MINDF", "1"))
            )
        x, y, c = vec.fit_transform([d for d, _ in docs]), [e for _, e in docs], float(env("CLF_C", "1"))
        kind = env("CLF", "svc")
        clf = (
            LogisticRegression(C=c, max_iter=300)
            if kind == "lr"
            else LinearSVC(C=c, penalty="l1", dual=False)
            if kind == "l1"
            else LinearSVC(C=c, class_weight="balanced" if env("BALANCED") == "1" else None)
        ).fit(x, y)
        if env("POS") == "1":
            clf.coef_ = np.maximum(clf.coef_, 0.0)
        if prune := int(env("PRUNE", "0")):
            keep = np.argsort(-np.abs(clf.coef_), axis=1)[:, :prune]
            mask = np.zeros(clf.coef_.shape, bool)
            np.put_along_axis(mask, keep, True, axis=1)
            clf.coef_ = np.where(mask, clf.coef_, 0.0)
        held = [i for i in range(len(fit)) if fold[i] == k]
        classes = {label: j for j, label in enumerate(clf.classes_)}
        texts = [titles[i] if env("TITLE") == "1" else digests[i] for i in held]
        for i, d in zip(held, clf.decision_function(vec.transform(texts)), strict=True):
            scores[i] = (d, classes)
    row = {(q.group, q.item.question): k for k, q in enumerate(fit)}

    pasted_only = env("PASTED_ONLY") == "1"  # zeros for a one-line question, as for the examples

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        d, classes = scores[row[(q.group, q.item.question)]]
        s = [float(d[classes[e]]) if e in classes else -2.0 for e in q.ids]
        if pasted_only and not (q.features and q.features[0][lab.F["pasted"]] >= 1.0):
            s = [0.0] * len(s)
        if env("OFFCLASS") == "1":  # the off-topic class's score, and the candidates' best against it
            off = float(d[classes["__off__"]])
            return [(v, v - max(s), lead, off, max(s) - off) for v, lead in zip(s, leads_of(s), strict=True)]
        if env("GLOBAL") == "1":  # against the best of every entry, not only the candidates'
            best = float(d.max())
            return [
                (v, v - max(s), lead, v - best, max(s) - best) for v, lead in zip(s, leads_of(s), strict=True)
            ]
        return [(v, v - max(s), lead) for v, lead in zip(s, leads_of(s), strict=True)]

    return columns


_DOCKER = frozenset("docker dockerfile compose podman nerdctl desktop wsl buildx swarm moby dockerd".split())
_KUBE = frozenset(
    "kubectl kubernetes k8s pod pods deployment deployments kubelet helm ingress namespace minikube kind k3s"
    " microk8s eks gke aks statefulset daemonset pvc configmap replicaset kubeadm".split()
)


def platform(m: Matcher) -> Columns:
    """Docker or Kubernetes: the share of the question's words on each side (docker, compose,
    podman... / kubectl, pod, helm...) against the share of the entry's own questions that name
    each side, as agreement minus conflict and the four values."""
    from bot.examples import words

    def sides(text: str) -> tuple[float, float]:
        said = set(words(text))
        return float(bool(said & _DOCKER)), float(bool(said & _KUBE))

    entry: dict[str, tuple[float, float]] = {}
    for e in m.entries:
        marks = [sides(t) for t in (e.title, *e.questions)]
        entry[e.id] = (sum(d for d, _ in marks) / len(marks), sum(k for _, k in marks) / len(marks))

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        d, k = sides(m._reader.read(clean_input(q.item.question)).digest.text)
        out = []
        for i in q.ids:
            ed, ek = entry[i]
            match = d * ed + k * ek - d * ek - k * ed
            out.append((match,) if os.environ.get("PLATFORM_ONE") == "1" else (match, ed, ek, d, k))
        return out

    return columns


def leads(m: Matcher) -> Columns:
    """Derived from the shipped columns: for each of the rankers below, the candidate's lead (its
    value minus the runner-up's for the first, minus the first's otherwise: the gap columns give
    the first 0 however far ahead it is) and how many of them put it first. LEADS=... picks them."""
    del m
    names = os.environ.get("LEADS", "wording,example,semantic,answer_covered,title_score").split(",")
    at = [lab.F[n] for n in names]
    votes = os.environ.get("LEAD_VOTES", "1") == "1"

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        rows = q.features
        out: list[list[float]] = [[] for _ in rows]
        firsts = [0] * len(rows)
        for j in at:
            values = [r[j] for r in rows]
            order = sorted(range(len(values)), key=lambda i: -values[i])
            top = values[order[0]]
            second = values[order[1]] if len(order) > 1 else 0.0
            for i, v in enumerate(values):
                out[i].append(top - second if i == order[0] else v - top)
            firsts[order[0]] += 1
        return [(*o, float(f)) if votes else tuple(o) for o, f in zip(out, firsts, strict=True)]

    return columns


FACETS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "distro": (
        ("minikube", ("minikube",)),
        ("k3s", ("k3s", "k3d")),
        ("microk8s", ("microk8s",)),
        ("openshift", ("openshift", "oc", "okd")),
        ("talos", ("talos", "talosctl")),
        ("eks", ("eks", "eksctl", "fargate")),
        ("aks", ("aks", "azure", "acr")),
        ("gke", ("gke", "gcp", "gcloud")),
        ("kubeadm", ("kubeadm",)),
        ("rancher", ("rancher", "rke", "rke2")),
    ),
    "os": (
        ("windows", ("windows", "wsl", "wsl2", "powershell", "hyper")),
        ("mac", ("mac", "macos", "osx", "macbook", "colima")),
    ),
    "engine": (
        ("docker", ("docker", "dockerd", "moby")),
        ("podman", ("podman", "buildah")),
        ("containerd", ("containerd", "nerdctl", "ctr", "crictl")),
    ),
}


def facets(m: Matcher) -> Columns:
    """Like the platform feature, for other groups of mutually exclusive names (FACETS=distro,os,
    engine): per group, agreement minus conflict between the names a question uses and the share
    of the entry's title and questions that use each; FACET_SUM=1 sums the groups into one column."""
    from bot.examples import words
    from bot.platforms import PlatformSides

    groups = [
        PlatformSides(FACETS[g], m.entries) for g in os.environ.get("FACETS", "distro,os,engine").split(",")
    ]
    number = {e.id: i for i, e in enumerate(m.entries)}
    summed = os.environ.get("FACET_SUM") == "1"

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        said = words(m._reader.read(clean_input(q.item.question)).digest.text)
        rows = [number[i] for i in q.ids]
        per = list(zip(*(g.match(said, rows) for g in groups), strict=True))
        return [(sum(r),) if summed else tuple(r) for r in per]

    return columns


def siblings(m: Matcher) -> Columns:
    """The candidates that are each other's `see_also`: per candidate, the share of the other
    candidates linked with it either way, and whether the first other candidate (by score) is
    (SIBLINGS=count or first for one of them)."""
    linked: dict[str, set[str]] = {e.id: set(e.see_also) for e in m.entries}
    for e in m.entries:
        for other in e.see_also:
            linked.setdefault(other, set()).add(e.id)
    pick = os.environ.get("SIBLINGS", "both")

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        out = []
        for i in q.ids:
            others = [j for j in q.ids if j != i]
            share = sum(j in linked.get(i, ()) for j in others) / max(len(others), 1)
            first = float(bool(others) and others[0] in linked.get(i, ()))
            out.append((share,) if pick == "count" else (first,) if pick == "first" else (share, first))
        return out

    return columns


def prior(m: Matcher) -> Columns:
    """How often each candidate is the answer among the labelled questions of the other tenths of
    the threads (log1p of the count; PRIOR_SHARE=1: its share of those questions instead)."""
    import zlib
    from collections import Counter

    del m
    fit, _dev = lab.load()
    fold = [zlib.crc32(q.group.encode()) % 10 for q in fit]
    counts = [Counter() for _ in range(10)]
    for q, f in zip(fit, fold, strict=True):
        if q.item.expect and not q.item.gap:
            for k in range(10):
                if k != f:
                    counts[k][q.item.expect] += 1
    totals = [sum(c.values()) or 1 for c in counts]
    row = {(q.group, q.item.question): f for q, f in zip(fit, fold, strict=True)}
    share = os.environ.get("PRIOR_SHARE") == "1"

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        k = row[(q.group, q.item.question)]
        n = [counts[k][i] for i in q.ids]
        return [(v / totals[k],) if share else (math.log1p(v),) for v in n]

    return columns


_DEFINE = re.compile(
    r"^\W*(what(?:'s| is| are| does| do)\b|whats\b|explain\b|define\b|difference between\b"
    r"|why (?:do|would|should) (?:i|we|you) (?:need|use)\b|is (?:a|an|the) .{1,40} (?:like|same as)\b|eli5\b)"
    r"|\bvs\.?\b|\bversus\b"
    r"|\bin plain english\b|\bwhat(?:'s| is) .{1,30} for\b|\bmeaning of\b|\bdifference\b",
    re.IGNORECASE,
)
_HOWTO = re.compile(r"^\W*(how (?:do|can|to|should)|is there a way|way to|command to)\b", re.IGNORECASE)
_PROBLEM = re.compile(
    r"\b(error|errors|fail(?:s|ed|ing|ure)?|cannot|can't|cant|couldn't|won't|doesn't|does not|not working"
    r"|crash\w*|stuck|refused|denied|forbidden|timeout|timed out|unable|exit(?:ed)? (?:code|with)"
    r"|panic|oom\w*|backoff)\b",
    re.IGNORECASE,
)
_CONCEPT_TITLE = re.compile(r"^(what (?:is|are|do|does)|why\b.*\?$|.* vs\.? )", re.IGNORECASE)


def kinds(m: Matcher) -> Columns:
    """The kind of question (what-is, how-to, a problem report: from the title or first line) against
    the kind of entry (a concept: under knowledge/concepts or titled "What is..."; a problem: under
    knowledge/debugging or titled with an error): agreement columns (KINDS_RAW=1 adds the raw flags)."""
    entry: dict[str, tuple[float, float]] = {}
    for e in m.entries:
        folder = Path(e.path).parent.name
        concept = float(folder == "concepts" or bool(_CONCEPT_TITLE.match(e.title)))
        problem = float(folder == "debugging" or bool(_PROBLEM.search(e.title)))
        entry[e.id] = (concept, problem)
    raw = os.environ.get("KINDS_RAW") == "1"

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        d = m._reader.read(clean_input(q.item.question)).digest
        head = d.title or d.text.split("\n", 1)[0]
        define, howto = float(bool(_DEFINE.search(head))), float(bool(_HOWTO.search(head)))
        problem = float(bool(_PROBLEM.search(head)))
        out = []
        for i in q.ids:
            concept, trouble = entry[i]
            agree = define * concept + problem * trouble - define * trouble - problem * concept
            cols: tuple[float, ...] = (define * concept, problem * trouble, agree)
            out.append((*cols, define, howto, problem, concept, trouble) if raw else cols)
        return out

    return columns


def contained(m: Matcher) -> Columns:
    """How completely the entry's best-contained question appears in the question: per alternate
    (title or question), the share of its IDF weight whose tokens the question has; per candidate
    the highest over all its alternates, the highest over those of 3+ tokens, and that minus the
    best among the candidates (a pasted post holding an entry's whole error message)."""
    idf, norm = m._reader.idf, m._reader.normalizer
    alts: dict[str, list[tuple[frozenset[str], float, int]]] = {}
    for e in m.entries:
        rows = []
        for text in (e.title, *e.questions):
            toks = frozenset(norm.tokens(text))
            weight = sum(idf.get(t, 0.0) for t in toks)
            if weight > 0:
                rows.append((toks, weight, len(toks)))
        alts[e.id] = rows

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        asked = set(m._reader.read(clean_input(q.item.question)).gains)
        vals = []
        for i in q.ids:
            best = best_long = 0.0
            for toks, weight, size in alts[i]:
                share = sum(idf.get(t, 0.0) for t in toks & asked) / weight
                best = max(best, share)
                if size >= 3:
                    best_long = max(best_long, share)
            vals.append((best, best_long))
        top = max((b for _, b in vals), default=0.0)
        return [(b, bl, bl - top) for b, bl in vals]

    return columns


def neighbours_both(m: Matcher) -> Columns:
    semantic, lexical = neighbours(m), neighbours_lexical(m)
    return lambda q: [(*a, *b) for a, b in zip(semantic(q), lexical(q), strict=True)]


def both(m: Matcher) -> Columns:
    text, breadth = answer_text(m), entry_breadth(m)
    return lambda q: [(*a, *b) for a, b in zip(text(q), breadth(q), strict=True)]


EXPERIMENTS: dict[str, Callable[[Matcher], Columns]] = {
    "entry-breadth": entry_breadth,
    "alt-semantic": alt_semantic,
    "answer-text": answer_text,
    "answer-text+entry-breadth": both,
    "answer-semantic": answer_semantic,
    "title-semantic": title_semantic,
    "title-gap": title_gap,
    "neighbours": neighbours,
    "neighbours-lexical": neighbours_lexical,
    "neighbours-both": neighbours_both,
    "neighbours-tokens": neighbours_tokens,
    "knn-share": knn_share,
    "classifier": classifier,
    "platform": platform,
    "leads": leads,
    "facets": facets,
    "siblings": siblings,
    "prior": prior,
    "kinds": kinds,
    "contained": contained,
}


def trees() -> lab.Variant:
    """The shipped tree model (bot.fitting.TREE_PARAMS, its monotone features) on whatever columns
    the rows have."""

    def variant(data: Sequence[lab.Q]) -> lab.Model:
        from sklearn.ensemble import HistGradientBoostingClassifier

        x = np.vstack([np.asarray(q.features, dtype=float) for q in data if q.features])
        y = np.array([int(r) for q in data for r in q.right])
        mono = [0] * x.shape[1]
        for name in ("score", "covered", "best_alt", "semantic"):
            mono[lab.F[name]] = 1
        clf = HistGradientBoostingClassifier(monotonic_cst=mono, **TREE_PARAMS).fit(x, y)
        return lambda rows: clf.predict_proba(rows)[:, 1]  # type: ignore[no-any-return]

    return variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment", choices=list(EXPERIMENTS))
    parser.add_argument("--seeds", default="0-4", help="grouped splits, e.g. 0-4 or 5-14")
    parser.add_argument("--shipped", dest="before", action="store_false", help="on the shipped evidence")
    parser.add_argument(
        "--without-wording",
        action="store_true",
        help="on the shipped evidence without the wording model's columns",
    )
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = tuple(range(int(lo), int(hi or lo) + 1))
    fit, dev = lab.load()
    # the comparison runs on the evidence before the matcher's own entry facts (bot/entry_facts.py,
    # which came from these experiments), so each experiment reads as it did when it was run
    if args.without_wording:  # the built-in wording columns, by name
        fit = [_without(q, [lab.F[n] for n in ("wording", "wording_gap", "wording_lead")]) for q in fit]
    elif args.before:
        fit = [_only(q, BASE) for q in fit]
    columns = EXPERIMENTS[args.experiment](unfitted_matcher(load_knowledge(ROOT / "knowledge")))
    extended = [
        replace(q, features=tuple((*f, *c) for f, c in zip(q.features, columns(q), strict=True)))
        if q.features
        else q
        for q in fit
    ]
    if os.environ.get("LEAD_REPLACE") == "1":  # leads in place of the gap columns
        gaps = [lab.F[n] for n in ("semantic_gap", "answer_gap", "example_gap", "wording_gap")]
        extended = [_without(q, gaps) for q in extended]
    base = "trees before entry facts" if args.before else "shipped trees"
    lab.VARIANTS[base] = trees()
    lab.VARIANTS[f"+ {args.experiment}"] = trees()
    lab.load = lambda: (fit, dev)
    lab.robust([base], seeds)
    lab.load = lambda: (extended, dev)
    lab.robust([f"+ {args.experiment}"], seeds)


def _without(q: lab.Q, drop: Sequence[int]) -> lab.Q:
    keep = [i for i in range(len(q.features[0]) if q.features else 0) if i not in drop]
    return replace(q, features=tuple(tuple(f[i] for i in keep) for f in q.features)) if q.features else q


def _only(q: lab.Q, n: int) -> lab.Q:
    return replace(q, features=tuple(f[:n] for f in q.features)) if q.features else q


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        main()
