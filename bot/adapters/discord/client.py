"""Wiring: the discord.py client (sharded when configured), its command tree, the button template
and the event handlers. `build_bot` is what tests use; nothing here logs in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from bot.adapters.discord.commands import CommandHandler, KubeCommands, KubeTree
from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.delivery import DELIVERY_ERRORS, no_pings
from bot.adapters.discord.events import DiscordEvents
from bot.adapters.discord.views import ComponentActions, button_item
from bot.service import QAService

log = logging.getLogger("kubebot.discord")


def intents_for(settings: DiscordSettings) -> discord.Intents:
    """Default intents; the privileged ones only when a feature needs them."""
    intents = discord.Intents.default()
    intents.typing = False
    intents.presences = False
    intents.members = settings.members_intent
    intents.message_content = settings.message_content_intent
    return intents


@dataclass(frozen=True)
class KubeBot:
    client: discord.Client
    tree: KubeTree
    commands: KubeCommands
    actions: ComponentActions
    events: DiscordEvents
    settings: DiscordSettings

    async def sync_commands(self) -> bool:
        """Register /kube with Discord: to one guild (instant, for testing) or globally."""
        try:
            if self.settings.guild_id is not None:
                guild = discord.Object(id=self.settings.guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
            else:
                synced = await self.tree.sync()
        except DELIVERY_ERRORS as exc:
            log.error(
                "event=sync_failed error=%s status=%s hint=%s",
                type(exc).__name__,
                getattr(exc, "status", ""),
                "invite with the applications.commands scope",
            )
            return False
        log.info("event=commands_synced scope=%s count=%d", self.settings.guild_id or "global", len(synced))
        return True


def build_bot(service: QAService, settings: DiscordSettings) -> KubeBot:
    intents, pings, wait = intents_for(settings), no_pings(), settings.max_ratelimit_wait
    client: discord.Client
    if settings.use_sharding:
        client = discord.AutoShardedClient(
            shard_count=settings.shard_count,
            intents=intents,
            allowed_mentions=pings,
            max_ratelimit_timeout=wait,
        )
    else:
        client = discord.Client(intents=intents, allowed_mentions=pings, max_ratelimit_timeout=wait)
    tree = KubeTree(client)
    commands = KubeCommands(CommandHandler(service, settings))
    tree.add_command(commands)
    actions = ComponentActions(service, settings)
    client.add_dynamic_items(button_item(actions))
    events = DiscordEvents(service, settings, client)
    client.event(events.on_message)
    client.event(events.on_interaction)
    if settings.onboarding_channel is not None:
        client.event(events.on_member_join)
    bot = KubeBot(client, tree, commands, actions, events, settings)

    async def on_ready() -> None:
        user = client.user
        log.info("event=ready user_id=%s guilds=%d", user.id if user else "-", len(client.guilds))

    client.event(on_ready)
    return bot


def build_client(service: QAService, settings: DiscordSettings) -> discord.Client:
    """The configured client (its CommandTree is attached; `build_bot` also returns the tree)."""
    return build_bot(service, settings).client
