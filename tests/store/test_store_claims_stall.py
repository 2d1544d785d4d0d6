"""Issue 14.1: a stalled PostgreSQL must not freeze the bot.

`kubebot serve slack --http` runs as a real process with KUBEBOT_DB pointing at a real
PostgreSQL through a loopback proxy. Mid-run the proxy freezes (the database accepts bytes and
never answers): Slack events must still be acked within the claim budget and answered (the
shared dedupe fails open), and /healthz must keep answering. Before claims were async, the
first event after the freeze blocked the whole event loop until PostgreSQL came back.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.faultproxy import FaultProxy
from tests.helpers import sample
from tests.serving import serving_slack_http, wait_ready

CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=5)
ACK_BOUND = 1.5  # the 0.3 s claim budget plus generous room for a loaded machine; a frozen loop is >5 s


def mention(n: int) -> dict[str, str]:
    ts = f"{1_700_000_000 + n}.000100"
    return {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> what is a pod",
        "channel": "C1",
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }


async def timed(coro: asyncio.Future[tuple[int, str]] | asyncio.Task[tuple[int, str]]) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = await coro
    return status, time.monotonic() - started


async def get_status(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, timeout=CLIENT_TIMEOUT) as resp:
        return resp.status, await resp.text()


async def test_a_frozen_postgres_never_stalls_acks_or_health(pg_url: str, proxy: FaultProxy) -> None:
    settings = {"KUBEBOT_DB": proxy.via(pg_url), "KUBEBOT_CLAIM_TIMEOUT": "0.3"}
    async with serving_slack_http(**settings) as served:
        fake, healthz = served.fake, served.admin("/healthz")
        try:
            async with aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as session:
                await wait_ready(session, served)
                sender = served.sender(session)
                assert (await sender.event(mention(0)))[0] == 200
                await fake.wait_for("chat.postMessage", 1, timeout=10)  # claims work: answered once

                proxy.freeze()
                events = [asyncio.ensure_future(sender.event(mention(n))) for n in range(1, 11)]
                probes = [asyncio.ensure_future(get_status(session, healthz)) for _ in range(5)]
                acks = await asyncio.gather(*(timed(e) for e in events), return_exceptions=True)
                health = await asyncio.gather(*(timed(p) for p in probes), return_exceptions=True)
                assert all(isinstance(a, tuple) and a[0] == 200 for a in acks), acks
                assert all(isinstance(h, tuple) and h[0] == 200 for h in health), health
                worst_ack = max(a[1] for a in acks if isinstance(a, tuple))
                worst_health = max(h[1] for h in health if isinstance(h, tuple))
                assert worst_ack < ACK_BOUND, acks
                assert worst_health < ACK_BOUND, health
                # the shared dedupe failed open: every event is still answered while PostgreSQL is frozen
                await fake.wait_for("chat.postMessage", 11, timeout=10)
                status, _ = await get_status(session, healthz)
                assert status == 200
                async with session.get(served.admin("/metrics")) as resp:
                    metrics = await resp.text()
                assert sample(metrics, "kubebot_claims_failed_open_total") >= 10, metrics
        finally:
            proxy.thaw()
            stderr = served.stop()
    # the freeze is logged once, not once per claim (a slow first connect on a loaded machine may
    # have been one more outage, logged once and recovered before the freeze)
    assert stderr.count("event=claims_unavailable") == stderr.count("event=claims_recovered") + 1, stderr
