"""Picks (migration 4) on both backends, and what KUBEBOT_STORE_QUESTIONS keeps of their question."""

from __future__ import annotations

import pytest

from bot.models import ChannelType, PickKind, Platform
from bot.ports import PickRecord
from bot.store import open_store
from bot.store.base import question_hash
from bot.store.picks import PickRow, pick_row

NOW = 1_750_000_000.0


def test_picks_round_trip_and_filter_by_time(store_url: str) -> None:
    store = open_store(store_url)
    try:
        rows = [
            PickRow(NOW - 10, "pod", "did_you_mean", "slack", "channel", "pods keep dying", None),
            PickRow(NOW - 5, "crashloopbackoff", "not_this", "discord", "command", None, "ab" * 32),
            PickRow(NOW, "pod", "helpful", "slack", "direct", "what is a pod ✓", None),
        ]
        store.write_picks(rows)
        store.write_picks([])
        assert store.picks_since(0) == rows
        assert store.picks_since(NOW - 5) == rows[1:]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("mode", "question", "digest"),
    [
        ("full", "Pods keep dying?", None),
        ("hash", None, question_hash("Pods keep dying?")),
        ("off", None, None),
    ],
)
def test_a_pick_keeps_its_question_as_configured(mode: str, question: str | None, digest: str | None) -> None:
    record = PickRecord("Pods keep dying?", "pod", PickKind.NOT_THIS, Platform.DISCORD, ChannelType.CHANNEL)
    row = pick_row(record, mode, NOW)
    assert row == PickRow(NOW, "pod", "not_this", "discord", "channel", question, digest)
