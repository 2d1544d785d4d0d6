"""Once-only claims shared by replicas through PostgreSQL (Slack dedupe across HTTP replicas)."""

from __future__ import annotations

import logging
import time

import pytest

from bot.store.claims import PostgresClaims


def test_first_claim_wins_across_replicas_and_expires(pg_url: str) -> None:
    replica_a, replica_b = PostgresClaims(pg_url), PostgresClaims(pg_url)
    try:
        assert replica_a.claim("event:Ev1", 60) is True
        assert replica_b.claim("event:Ev1", 60) is False  # the other replica already has it
        assert replica_a.claim("event:Ev1", 60) is False
        assert replica_b.claim("event:Ev2", 60) is True
        assert replica_a.claim("msg:C1:1.2", 0.05) is True
        time.sleep(0.2)
        assert replica_b.claim("msg:C1:1.2", 60) is True  # expired: can be claimed again
    finally:
        replica_a.close()
        replica_b.close()


def test_unreachable_database_fails_open_and_logs_once(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    claims = PostgresClaims(f"postgresql://kubebot:secret@127.0.0.1:{closed_port}/kubebot")
    with caplog.at_level(logging.WARNING, logger="kubebot.store"):
        started = time.monotonic()
        assert all(claims.claim(f"event:{i}", 60) for i in range(5))  # answer twice rather than never
        assert time.monotonic() - started < 5
    lines = [r.getMessage() for r in caplog.records if "claims_unavailable" in r.getMessage()]
    assert len(lines) == 1 and "secret" not in lines[0]
