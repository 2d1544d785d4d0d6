"""Passive mode's rule (bot.passive), shared by Slack and Discord."""

from __future__ import annotations

import pytest

from bot.passive import looks_like_question


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what is a pod", True),
        ("What's a pod", True),
        ("How do I scale?", True),
        ("pods keep crashing?", True),
        ("is the cluster down", True),
        ("deploy it now", False),
        ("why?", False),
        ("", False),
        ("lunch at noon", False),
    ],
)
def test_looks_like_question(text: str, expected: bool) -> None:
    assert looks_like_question(text) is expected
