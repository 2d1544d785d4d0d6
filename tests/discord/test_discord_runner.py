"""run_discord: login against the fake, command sync, clean errors for a bad token or refused intents."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest

from bot.adapters.discord.client import build_bot, build_client
from bot.adapters.discord.runner import run_discord
from bot.config import ConfigError
from tests.discord import discord_payloads as p
from tests.discord.discord_fake import APP_ID


async def test_run_logs_in_syncs_then_connects(fake, service, settings, monkeypatch):
    connected: list[bool] = []

    async def connect(self: discord.Client, *, reconnect: bool = True) -> None:
        assert self.user is not None and self.user.id and self.application_id == APP_ID
        connected.append(reconnect)

    monkeypatch.setattr(discord.Client, "connect", connect)
    await run_discord(service, replace(settings, guild_id=p.GUILD_ID))
    assert connected == [True]
    assert [r.path for r in fake.requests] == [
        "/users/@me",
        "/oauth2/applications/@me",
        f"/applications/{APP_ID}/guilds/{p.GUILD_ID}/commands",
    ]


async def test_a_rejected_token_is_a_config_error(fake, service, settings):
    fake.queue("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    with pytest.raises(ConfigError, match="DISCORD_TOKEN was rejected"):
        await run_discord(service, settings)


async def test_refused_privileged_intents_are_a_config_error(fake, service, settings, monkeypatch):
    async def connect(self: discord.Client, *, reconnect: bool = True) -> None:
        raise discord.PrivilegedIntentsRequired(None)

    monkeypatch.setattr(discord.Client, "connect", connect)
    with pytest.raises(ConfigError, match="Message Content"):
        await run_discord(service, settings)


def test_sharded_when_configured(service, settings):
    bot = build_bot(service, replace(settings, shard_count=3))
    assert isinstance(bot.client, discord.AutoShardedClient) and bot.client.shard_count == 3
    assert not isinstance(build_client(service, settings), discord.AutoShardedClient)
    assert bot.client.allowed_mentions is not None and bot.client.allowed_mentions.to_dict() == {"parse": []}
    assert bot.tree.get_command("kube") is bot.commands
