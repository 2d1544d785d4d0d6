"""`kubebot serve discord`: log in, sync the slash commands, then stay connected to the gateway."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.adapters.discord.client import build_bot
from bot.adapters.discord.config import DiscordSettings
from bot.config import ConfigError
from bot.service import QAService

log = logging.getLogger("kubebot.discord")


async def run_discord(
    service: QAService, settings: DiscordSettings, on_ready: Callable[[], None] | None = None
) -> None:
    """Log in, sync commands and stay connected. `on_ready` is called once logged in and synced."""
    bot = build_bot(service, settings)
    client = bot.client
    log.info(
        "event=starting sharded=%s guild=%s passive_channels=%d members_intent=%s",
        settings.use_sharding,
        settings.guild_id or "global",
        len(settings.listen_channels),
        settings.members_intent,
    )
    async with client:
        try:
            await client.login(settings.token)
        except discord.LoginFailure:
            raise ConfigError(
                "DISCORD_TOKEN was rejected by Discord: reset the bot token and try again"
            ) from None
        await bot.sync_commands()
        if on_ready is not None:
            on_ready()
        try:
            await client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            wanted = [
                name
                for name, on in (
                    ("Server Members", settings.members_intent),
                    ("Message Content", settings.message_content_intent),
                )
                if on
            ]
            raise ConfigError(
                f"Discord refused the privileged intents ({', '.join(wanted)}): enable them in the Developer "
                "Portal (Applications → your app → Bot → Privileged Gateway Intents), or turn off "
                "KUBEBOT_DISCORD_MEMBERS_INTENT / KUBEBOT_DISCORD_LISTEN_CHANNELS"
            ) from None
