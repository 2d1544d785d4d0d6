"""A store filled with two weeks of believable traffic for the console tests and screenshots."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from bot.store import open_store
from bot.store.base import FeedbackRow, QuestionRow
from bot.store.picks import PickRow

XSS = "<script>alert('xss')</script> why is my pod <b>pending</b>"
ANSWERED = [
    ("what is a pod", "pod"),
    ("pod stuck in crashloopbackoff", "crashloopbackoff"),
    ("how do i see logs of a crashed container", "logs-previous"),
    ("configmap vs secret", "configmap"),
    ("how to expose a deployment", "service"),
    ("imagepullbackoff private registry", "imagepullbackoff"),
]
ALTERNATIVES = [("my pod restarts all the time", "crashloopbackoff"), ("ingress returns 404", "ingress-404")]
SUGGESTED = ["pods keep dying", "container networking", "rollout"]
CLOSE_GUESS = "vault agent sidecar injection not working"
DECLINED = [
    "how do i set up istio",
    "installing istio on eks",
    "set up istio service mesh",
    "what is the weather in paris",
    "terraform state lock",
    XSS,
]
PICKS = [
    ("pods keep dying", "crashloopbackoff", "did_you_mean", 3),
    ("pods keep dying", "oomkilled", "did_you_mean", 1),
    ("my app gets killed with exit 137", "oomkilled", "not_this", 2),
    ("how do i restart all pods of my app", "rollout-restart", "helpful", 2),
    ("what is a pod", "pod", "helpful", 1),
    (XSS, "pending-pod", "did_you_mean", 1),
]


def noon(day: date, minutes: int = 0) -> float:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() + minutes * 60


def seed(url: str, *, end: date, days: int = 14) -> None:
    """Write `days` days of questions, feedback and picks ending on `end` (UTC)."""
    rng = random.Random(7)
    questions: list[QuestionRow] = []
    feedback: list[FeedbackRow] = []
    picks: list[PickRow] = []
    for back in range(days):
        day = end - timedelta(days=back)
        n = 0
        for _ in range(rng.randint(4, 9)):
            text, entry = rng.choice(ANSWERED)
            questions.append(QuestionRow(noon(day, n), "slack", "channel", "answered", entry, 0.95, text))
            n += 1
        for _ in range(rng.randint(0, 3)):
            text, entry = rng.choice(ALTERNATIVES)
            questions.append(
                QuestionRow(
                    noon(day, n), "discord", "command", "answered_with_alternatives", entry, 0.7, text
                )
            )
            n += 1
        for _ in range(rng.randint(0, 2)):
            questions.append(
                QuestionRow(noon(day, n), "slack", "direct", "suggested", None, 0.4, rng.choice(SUGGESTED))
            )
            n += 1
        for _ in range(rng.randint(1, 3)):
            questions.append(
                QuestionRow(noon(day, n), "slack", "channel", "declined", None, 0.1, rng.choice(DECLINED))
            )
            n += 1
        for _ in range(rng.randint(0, 3)):
            entry = rng.choice(ANSWERED)[1]
            feedback.append(FeedbackRow(noon(day, n), entry, rng.random() > 0.25, "slack", "channel"))
            n += 1
    questions.append(QuestionRow(noon(end, 99), "slack", "channel", "declined", None, 0.05, XSS))
    # declined, though an entry is close: a guess to review (the KB has grown to answer the istio ones)
    questions.append(QuestionRow(noon(end, 98), "slack", "channel", "declined", None, 0.1, CLOSE_GUESS))
    feedback.append(
        FeedbackRow(noon(end, 100), "ingress-404", False, "slack", "channel", "ingress returns 404")
    )
    for text, entry, kind, count in PICKS:
        for i in range(count):
            picks.append(
                PickRow(noon(end - timedelta(days=i), 200 + i), entry, kind, "slack", "channel", text)
            )
    store = open_store(url)
    try:
        store.write(questions, feedback)
        store.write_picks(picks)
    finally:
        store.close()
