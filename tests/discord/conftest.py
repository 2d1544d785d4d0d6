"""Fixtures: a fake Discord REST server on 127.0.0.1, and a kubebot client logged in against it.

The client never opens a gateway connection; gateway events are fed through discord.py's own
parsers (`parse_interaction_create`, `parse_message_create`, ...), exactly as the gateway would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import discord
import pytest

from bot.adapters.discord.client import KubeBot, build_bot
from bot.adapters.discord.config import DiscordSettings
from bot.knowledge import load_knowledge
from bot.match_settings import MatchSettings
from bot.models import ClusterReport, Finding, Message
from bot.ports import ClusterQuery
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.discord import discord_payloads as p
from tests.discord.discord_fake import FakeDiscord
from tests.helpers import MemoryRecorder

FIXTURE_KB = Path(__file__).resolve().parents[1] / "fixtures" / "kb"


class FakeCluster:
    """A ClusterGateway stand-in: one crash-looping pod, linked to the crashloopbackoff entry."""

    def __init__(self) -> None:
        self.queries: list[tuple[ClusterQuery, Message]] = []

    async def query(self, query: ClusterQuery, message: Message) -> ClusterReport:
        self.queries.append((query, message))
        ns = query.namespace or "default"
        return ClusterReport(
            title=f"pods in {ns}",
            columns=("NAME", "READY", "STATUS", "RESTARTS"),
            rows=(("web-1", "0/1", "CrashLoopBackOff", "7"), ("db-0", "1/1", "Running", "0")),
            findings=(
                Finding(
                    f"pod {ns}/web-1",
                    "keeps crashing",
                    ("Back-off restarting failed container",),
                    "crashloopbackoff",
                ),
            ),
        )


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@pytest.fixture
def service(recorder: MemoryRecorder) -> QAService:
    return QAService(KnowledgeHolder(Snapshot.build(load_knowledge(FIXTURE_KB))), recorder=recorder)


@pytest.fixture
def unsure_service(recorder: MemoryRecorder) -> QAService:
    """A service that never answers outright and never declines: every reply is a did-you-mean."""
    strict = MatchSettings(answer_threshold=0.999, topic_threshold=0.0)
    return QAService(KnowledgeHolder(Snapshot.build(load_knowledge(FIXTURE_KB), strict)), recorder=recorder)


@pytest.fixture
async def unsure_bot(
    fake: FakeDiscord, unsure_service: QAService, settings: DiscordSettings
) -> AsyncIterator[KubeBot]:
    kube = await start_bot(fake, unsure_service, settings)
    yield kube
    await kube.client.close()


@pytest.fixture
def settings() -> DiscordSettings:
    return DiscordSettings(token="test-token", listen_channels=frozenset({p.LISTEN_CHANNEL_ID}))


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.base)
    yield server
    await server.stop()


async def start_bot(fake: FakeDiscord, service: QAService, settings: DiscordSettings) -> KubeBot:
    """Build the bot and log in against the fake (GET /users/@me, /oauth2/applications/@me)."""
    assert fake.base == discord.http.Route.BASE
    bot = build_bot(service, settings)
    await bot.client.login(settings.token)
    state = bot.client._connection
    state._chunk_guilds = False  # member chunking needs a gateway websocket; the test guild is complete
    state.parse_guild_create(p.guild_create())
    return bot


@pytest.fixture
async def bot(fake: FakeDiscord, service: QAService, settings: DiscordSettings) -> AsyncIterator[KubeBot]:
    kube = await start_bot(fake, service, settings)
    yield kube
    await kube.client.close()


@pytest.fixture
async def cluster_bot(
    fake: FakeDiscord, service: QAService, settings: DiscordSettings
) -> AsyncIterator[tuple[KubeBot, FakeCluster]]:
    cluster = FakeCluster()
    service.cluster = cluster
    kube = await start_bot(fake, service, replace(settings))
    yield kube, cluster
    await kube.client.close()
