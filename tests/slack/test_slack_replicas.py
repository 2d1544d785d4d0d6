"""Several HTTP replicas behind one Service share PostgreSQL claims, so a Slack retry that lands
on another replica is not answered twice."""

from __future__ import annotations

from bot.store.claims import PostgresClaims
from tests.pg import pg_server, pg_url  # noqa: F401  (the real PostgreSQL fixtures)
from tests.slack.conftest import MakeBot
from tests.slack.slack_requests import app_mention


async def test_a_retry_on_another_replica_is_answered_once(make_bot: MakeBot, pg_url: str) -> None:  # noqa: F811
    claims_a, claims_b = PostgresClaims(pg_url), PostgresClaims(pg_url)
    try:
        replica_a = await make_bot(claims=claims_a)
        replica_b = await make_bot(claims=claims_b)
        event = app_mention("what is a pod", "100.1", event_ts="100.1", channel_type="channel")
        assert (await replica_a.slack.event(event, event_id="EvRetry"))[0] == 200
        assert (await replica_b.slack.event(event, event_id="EvRetry", retry_num=1))[0] == 200
        await replica_a.settle()
        await replica_b.settle()
        answers = replica_a.fake.of("chat.postMessage")
        assert len(answers) == 1 and answers[0].data["thread_ts"] == "100.1"
    finally:
        await claims_a.close()
        await claims_b.close()
