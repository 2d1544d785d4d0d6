"""The answer-model variants `decide_lab.py` compares: each is fitted on questions (their
candidates' evidence rows) and returns a function from a question's rows to a probability per row."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evidence import FEATURES  # noqa: E402
from bot.fit_bins import bin_features, to_bins  # noqa: E402
from bot.fitting import _fit, _Question  # noqa: E402

F = {name: i for i, name in enumerate(FEATURES)}
Q = _Question

# A variant: fitted on questions, returns a function from a question's candidate rows to p per row.
Model = Callable[[np.ndarray], np.ndarray]
Variant = Callable[[Sequence[Q]], Model]


def rows(data: Sequence[Q]) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    x = np.array([f for q in data for f in q.features], dtype=float)
    y = np.array([int(r) for q in data for r in q.right])
    g = [q.group for q in data for _ in q.features]
    qid = np.array([i for i, q in enumerate(data) for _ in q.features])
    return x, y, g, qid


def logistic(data: Sequence[Q]) -> Model:
    x, y, g, _ = rows(data)
    model, _c = _fit([tuple(r) for r in x], list(y), g, 5)
    w, b = np.array(model.coef), model.intercept
    return lambda m: 1 / (1 + np.exp(-np.clip(m @ w + b, -30, 30)))


MONO = ("score", "covered", "semantic", "best_alt")  # bot/fitting.py's MONOTONE


def hgb(
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    mono_names: Sequence[str] = ("score", "covered", "semantic", "best_alt"),
    chat_weight: float = 1.0,
    per_question: bool = False,
    **params: object,
) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        from sklearn.ensemble import HistGradientBoostingClassifier

        tf = transform or (lambda a: a)
        x = np.vstack([tf(np.asarray(q.features, dtype=float)) for q in data if q.features])
        _, y, _, _ = rows(data)
        # chat-style questions (no source) weigh ``chat_weight`` rows each
        w = np.array([1.0 if q.item.source else chat_weight for q in data for _ in q.features])
        if per_question:  # every question weighs the same, however many candidates it has
            w = w * np.array([8.0 / len(q.features) for q in data for _ in q.features])
        mono = [0] * x.shape[1]
        for name in mono_names:
            mono[F[name]] = 1
        p = dict(
            max_depth=3,
            max_iter=100,
            learning_rate=0.05,
            l2_regularization=1.0,
            min_samples_leaf=40,
            monotonic_cst=mono,
            early_stopping=False,
            random_state=0,
        )
        p.update(params)
        # scikit-learn's weighted fit on bin numbers (bot/fit_bins.py: the same trees, ~10x faster)
        binned, bins = bin_features(x, w)
        clf = HistGradientBoostingClassifier(**p).fit(binned, y, sample_weight=w)  # type: ignore[arg-type]
        return lambda m: clf.predict_proba(to_bins(bins, tf(m)))[:, 1]

    return variant


def without(*names: str) -> Callable[[np.ndarray], np.ndarray]:
    """The features ``names`` held constant (the trees cannot split on them)."""
    cols = [F[n] for n in names]

    def f(x: np.ndarray) -> np.ndarray:
        x = x.copy()
        x[:, cols] = 0.0
        return x

    return f


def only_pasted(*names: str) -> Callable[[np.ndarray], np.ndarray]:
    """The features ``names`` held constant for questions that are not pasted posts (one or two
    lines without output): what the matcher would give if it computed them for posts only."""
    cols = [F[n] for n in names]

    def f(x: np.ndarray) -> np.ndarray:
        x = x.copy()
        x[np.ix_(x[:, F["pasted"]] < 1.0, cols)] = 0.0
        return x

    return f


EXAMPLE_COLUMNS = ("example", "example_gap", "example_share", "example_lead")
BREADTH = ("entry_questions", "entry_words", "entry_idf", "entry_idf_top")
# the trees shipped until stop 14; the variants named "shipped-..." change these
BASE75 = dict(max_iter=75, learning_rate=0.15, min_samples_leaf=20, interaction_cst="pairwise")
SHIPPED = {**BASE75, "max_iter": 250, "learning_rate": 0.1}  # bot/fitting.py's TREE_PARAMS since stop 14


def expand_products(names: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    idx = [F[n] for n in names]
    pairs = [(a, b) for i, a in enumerate(idx) for b in idx[i + 1 :]]

    def f(x: np.ndarray) -> np.ndarray:
        return np.hstack([x] + [x[:, [a]] * x[:, [b]] for a, b in pairs])

    return f


def with_pasted(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, x * x[:, [F["pasted"]]]])


def rank_features(x: np.ndarray) -> np.ndarray:
    """Per question: candidate rank /5, the top row's score/semantic, gap to the best semantic by rank."""
    n = len(x)
    rank = np.arange(n, dtype=float)[:, None] / 5
    best_score = np.full((n, 1), x[:, F["score"]].max())
    rel = x[:, [F["score"]]] / np.maximum(best_score, 1e-9)
    best_alt_gap = x[:, [F["best_alt"]]] - x[:, F["best_alt"]].max()
    cov_gap = x[:, [F["covered"]]] - x[:, F["covered"]].max()
    return np.hstack([x, rank, rel, best_alt_gap, cov_gap])


def logistic_on(transform: Callable[[np.ndarray], np.ndarray], per_question: bool = False) -> Variant:
    """Logistic regression (bot.fitting._fit) on transformed features."""

    def variant(data: Sequence[Q]) -> Model:
        if per_question:
            x = np.vstack([transform(np.asarray(q.features, dtype=float)) for q in data if q.features])
        else:
            x = transform(rows(data)[0])
        _, y, g, _ = rows(data)
        model, _c = _fit([tuple(r) for r in x], list(y), g, 5)
        w, b = np.array(model.coef), model.intercept
        return lambda m: 1 / (1 + np.exp(-np.clip(transform(m) @ w + b, -30, 30)))

    return variant


def splines(n_knots: int = 4, names: Sequence[str] = ("score", "best_alt", "semantic", "margin")) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import SplineTransformer, StandardScaler

        x, y, g, _ = rows(data)
        ct = ColumnTransformer(
            [("s", SplineTransformer(n_knots=n_knots, degree=3), [F[n] for n in names])],
            remainder="passthrough",
        )
        pipe = make_pipeline(ct, StandardScaler(), LogisticRegression(max_iter=5000))
        splits = list(GroupKFold(n_splits=5).split(x, y, g))
        search = GridSearchCV(
            pipe, {"logisticregression__C": list(np.logspace(-2, 2, 9))}, cv=splits, scoring="neg_log_loss"
        ).fit(x, y)
        est = search.best_estimator_
        return lambda m: est.predict_proba(m)[:, 1]

    return variant


def listwise(l2: float = 1.0, extra: Callable[[np.ndarray], np.ndarray] | None = None) -> Variant:
    """A conditional logit over each question's candidates plus a 'none of them' option (score 0):
    p_i = exp(s_i) / (1 + sum_j exp(s_j)), s = w.x + b."""

    def variant(data: Sequence[Q]) -> Model:
        from scipy.optimize import minimize

        tf = extra or (lambda a: a)
        qs = [
            (tf(np.asarray(q.features, dtype=float)), np.asarray(q.right, dtype=float))
            for q in data
            if q.features
        ]
        allx = np.vstack([a for a, _ in qs])
        mu, sd = allx.mean(0), allx.std(0) + 1e-9
        qs = [((a - mu) / sd, r) for a, r in qs]
        big = np.vstack([a for a, _ in qs])
        ys = np.concatenate([r for _, r in qs])
        bounds = np.cumsum([0] + [len(a) for a, _ in qs])
        nq = len(qs)
        seg = np.repeat(np.arange(nq), np.diff(bounds))

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:-1], theta[-1]
            s = big @ w + b
            e = np.exp(np.clip(s, -50, 50))
            z = 1 + np.bincount(seg, e, minlength=nq)
            p = e / z[seg]
            ll = np.sum(ys * s) - np.sum(np.log(z))
            grad_s = ys - p
            gw = big.T @ grad_s - l2 * w
            gb = grad_s.sum()
            return -(ll - 0.5 * l2 * w @ w), -np.append(gw, gb)

        res = minimize(loss, np.zeros(big.shape[1] + 1), jac=True, method="L-BFGS-B")
        w, b = res.x[:-1], res.x[-1]

        def predict(m: np.ndarray) -> np.ndarray:
            s = ((tf(m) - mu) / sd) @ w + b
            e = np.exp(np.clip(s, -50, 50))
            return e / (1 + e.sum())

        return predict

    return variant


def mean_of(*variants: Variant) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        models = [v(data) for v in variants]
        return lambda m: np.mean([model(m) for model in models], axis=0)

    return variant


VARIANTS: dict[str, Variant] = {
    "logistic": logistic,
    "hgb-d3-100": hgb(),
    "hgb-d3-150-lr.1": hgb(max_iter=150, learning_rate=0.1),
    "hgb-d2-150": hgb(max_depth=2, max_iter=150, learning_rate=0.1),
    "hgb-d3-50": hgb(max_iter=50, learning_rate=0.1),
    "hgb-d3-100-lr.1": hgb(learning_rate=0.1),
    "hgb-d3-200-lr.1": hgb(max_iter=200, learning_rate=0.1),
    "hgb-d3-150-lr.1-leaf20": hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-100-lr.1-leaf20": hgb(max_iter=100, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-75-lr.15-leaf20": hgb(max_iter=75, learning_rate=0.15, min_samples_leaf=20),
    # depth 3, but each path reads two features at most (tables over pairs, as for depth 2)
    "hgb-d3-75-lr.15-leaf20-pairs": hgb(
        max_iter=75, learning_rate=0.15, min_samples_leaf=20, interaction_cst="pairwise"
    ),
    "hgb-d3-150-lr.1-leaf20-pairs": hgb(
        max_iter=150, learning_rate=0.1, min_samples_leaf=20, interaction_cst="pairwise"
    ),
    "shipped": hgb(chat_weight=2.0, **SHIPPED),  # bot/fitting.py's TREE_PARAMS and chat weight
    "shipped-chat1": hgb(**SHIPPED),
    "shipped-chat1.5-now": hgb(chat_weight=1.5, **SHIPPED),
    "shipped-400": hgb(chat_weight=2.0, **{**SHIPPED, "max_iter": 400}),
    "shipped-leaf40": hgb(chat_weight=2.0, **{**SHIPPED, "min_samples_leaf": 40}),
    # stop 20: more features whose higher values can only speak for the candidate
    "shipped-mono-leads": hgb(
        mono_names=(*MONO, "wording_lead", "example_lead", "semantic_lead", "answer_lead", "title_lead"),
        chat_weight=2.0,
        **SHIPPED,
    ),
    "shipped-mono-more": hgb(
        mono_names=(
            *MONO,
            *("wording_lead", "example_lead", "semantic_lead", "answer_lead", "title_lead"),
            *("wording", "wording_gap", "example", "example_gap", "example_share", "semantic_gap"),
            *("title_score", "title_best_alt", "title_covered", "answer_covered", "answer_gap"),
        ),
        chat_weight=2.0,
        **SHIPPED,
    ),
    "shipped-500-lr.05": hgb(chat_weight=2.0, **{**SHIPPED, "max_iter": 500, "learning_rate": 0.05}),
    "shipped-75": hgb(**BASE75),  # before the chat weight
    "shipped-chat2": hgb(chat_weight=2.0, **BASE75),
    "shipped-chat3": hgb(chat_weight=3.0, **BASE75),
    "shipped-chat2-100": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 100}),
    "shipped-chat2-leaf40": hgb(chat_weight=2.0, **{**BASE75, "min_samples_leaf": 40}),
    "shipped-chat2-d4": hgb(chat_weight=2.0, **{**BASE75, "max_depth": 4}),
    "shipped-chat1.5": hgb(chat_weight=1.5, **BASE75),
    "shipped-chat2-150-lr.1": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 150, "learning_rate": 0.1}),
    "shipped-chat2-leaf10": hgb(chat_weight=2.0, **{**BASE75, "min_samples_leaf": 10}),
    "shipped-chat2-250-lr.1": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 250, "learning_rate": 0.1}),
    "shipped-chat2-400-lr.1": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 400, "learning_rate": 0.1}),
    "shipped-chat2-250-lr.15": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 250}),
    "shipped-chat2-250-lr.1-leaf40": hgb(
        chat_weight=2.0, **{**BASE75, "max_iter": 250, "learning_rate": 0.1, "min_samples_leaf": 40}
    ),
    "shipped-chat2-150-lr.15": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 150}),
    "shipped-chat2-100-lr.1": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 100, "learning_rate": 0.1}),
    "shipped-chat2-allpairs": hgb(chat_weight=2.0, **{**BASE75, "interaction_cst": None}),
    "shipped-chat2-200-lr.05": hgb(chat_weight=2.0, **{**BASE75, "max_iter": 200, "learning_rate": 0.05}),
    "shipped-chat2-l2-0": hgb(chat_weight=2.0, **{**BASE75, "l2_regularization": 0.0}),
    "shipped-perq": hgb(per_question=True, **BASE75),
    "shipped-perq-chat2": hgb(per_question=True, chat_weight=2.0, **BASE75),
    "shipped-no-breadth": hgb(without(*BREADTH), **BASE75),
    "shipped-no-semantic": hgb(without("semantic", "semantic_gap"), chat_weight=2.0, **SHIPPED),
    # what each group of features is worth beside the wording model (stop 18)
    "shipped-no-wording": hgb(without("wording", "wording_gap"), chat_weight=2.0, **SHIPPED),
    "shipped-no-examples": hgb(
        without("example", "example_gap", "example_share"), chat_weight=2.0, **SHIPPED
    ),
    "shipped-no-share": hgb(without("example_share"), chat_weight=2.0, **SHIPPED),
    # the examples compared for pasted posts only (stop 19: the chat median's budget)
    "shipped-examples-pasted": hgb(only_pasted(*EXAMPLE_COLUMNS), chat_weight=2.0, **SHIPPED),
    # the same beside the leads (stop 19)
    "shipped-no-examples-lead": hgb(
        without("example", "example_gap", "example_share", "example_lead"), chat_weight=2.0, **SHIPPED
    ),
    "shipped-no-answer-facts": hgb(
        without("answer_covered", "answer_gap", "answer_rarest", "answer_new"), chat_weight=2.0, **SHIPPED
    ),
    "shipped-no-title": hgb(
        without("title_score", "title_best_alt", "title_covered"), chat_weight=2.0, **SHIPPED
    ),
    "shipped-no-entry-words": hgb(without("entry_words", "entry_questions"), **BASE75),
    "hgb-d3-150-lr.1-leaf80": hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=80),
    "hgb-d3-150-lr.1-l2-5": hgb(max_iter=150, learning_rate=0.1, l2_regularization=5.0),
    "hgb-d3-150-lr.1-nomono": hgb(max_iter=150, learning_rate=0.1, mono_names=()),
    "hgb-d3-150-lr.1-rank": hgb(rank_features, max_iter=150, learning_rate=0.1),
    "hgb-d3-100-lr.1-rank": hgb(rank_features, max_iter=100, learning_rate=0.1),
    "hgb-d4-100-lr.1": hgb(max_depth=4, max_iter=100, learning_rate=0.1),
    "hgb-d3-150-lr.1-leaf20-rank": hgb(rank_features, max_iter=150, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-300-lr.05-leaf20": hgb(max_iter=300, learning_rate=0.05, min_samples_leaf=20),
    "hgb-d2-300-lr.1-leaf20": hgb(max_depth=2, max_iter=300, learning_rate=0.1, min_samples_leaf=20),
    "mean-logistic-hgb-leaf20": mean_of(logistic, hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=20)),
    "products": logistic_on(
        expand_products(("score", "best_alt", "margin", "semantic", "semantic_gap", "pasted"))
    ),
    "pasted-interaction": logistic_on(with_pasted),
    "rank-features": logistic_on(rank_features, per_question=True),
    "splines": splines(),
    "listwise": listwise(),
    "listwise-rank": listwise(extra=rank_features),
}
