"""Gateway events: mentions and DMs (answered), passive channels (only confident answers, in a
thread), member joins (onboarding welcome), and clicks on buttons this version does not know.
"""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.delivery import DELIVERY_ERRORS, log_failure, reply_to_interaction, send_parts
from bot.adapters.discord.limits import THREAD_NAME, truncate
from bot.adapters.discord.mapping import from_message, strip_mentions
from bot.adapters.discord.render import EXPIRED, notice, render_reply, welcome
from bot.adapters.discord.views import is_ours
from bot.models import ChannelType
from bot.service import QAService

log = logging.getLogger("kubebot.discord")


class DiscordEvents:
    def __init__(self, service: QAService, settings: DiscordSettings, client: discord.Client) -> None:
        self.service = service
        self.settings = settings
        self.client = client

    # -- messages ------------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or message.author.id == me.id or message.webhook_id:
            return  # never answer ourselves or other bots: no loops
        try:
            if message.guild is None:
                await self._direct(message)
            elif self._addressed(message, me.id):
                await self._mention(message, me.id)
            elif self._listened(message.channel):
                await self._passive(message)
        except Exception:  # one bad message must not stop the event loop
            log.exception("event=message_failed")

    def _bot_role_ids(self, message: discord.Message) -> set[int]:
        me = message.guild.me if message.guild else None
        if me is None:
            return set()
        return {role.id for role in me.roles if role.is_bot_managed()}

    def _addressed(self, message: discord.Message, my_id: int) -> bool:
        """An explicit @mention of the bot or of its own (managed) role; a reply-ping alone is not."""
        return my_id in message.raw_mentions or bool(
            self._bot_role_ids(message) & set(message.raw_role_mentions)
        )

    def _listened(self, channel: discord.abc.MessageableChannel) -> bool:
        if not self.settings.listen_channels:
            return False
        parent = getattr(channel, "parent_id", None)
        return channel.id in self.settings.listen_channels or parent in self.settings.listen_channels

    async def _direct(self, message: discord.Message) -> None:
        reply = await self.service.handle(from_message(message, message.content, ChannelType.DIRECT))
        log.info("event=direct kind=%s confidence=%.2f", reply.kind.value, reply.confidence)
        await send_parts(message.channel, render_reply(reply))

    async def _mention(self, message: discord.Message, my_id: int) -> None:
        text = strip_mentions(message.content, {my_id}, self._bot_role_ids(message))
        reply = await self.service.handle(from_message(message, text, ChannelType.CHANNEL))
        log.info("event=mention kind=%s confidence=%.2f", reply.kind.value, reply.confidence)
        await send_parts(message.channel, render_reply(reply), reference=message)

    async def _passive(self, message: discord.Message) -> None:
        """Answer unprompted only when confident; everything else stays silent (and unrecorded)."""
        text = message.content
        reply = self.service.passive_answer(
            from_message(message, text, ChannelType.CHANNEL), self.settings.passive_min
        )
        if reply is None:
            return
        log.info(
            "event=passive_answer entry=%s confidence=%.2f",
            reply.entry.id if reply.entry else "-",
            reply.confidence,
        )
        parts = render_reply(reply)
        if isinstance(message.channel, discord.Thread):
            await send_parts(message.channel, parts, reference=message)
            return
        name = truncate(reply.entry.title if reply.entry else text, THREAD_NAME)
        try:
            thread = await message.create_thread(name=name)
        except DELIVERY_ERRORS as exc:  # no thread permission: fall back to a plain reply
            log_failure("thread", exc)
            await send_parts(message.channel, parts, reference=message)
            return
        await send_parts(thread, parts)

    # -- members -------------------------------------------------------------------------------
    async def on_member_join(self, member: discord.Member) -> None:
        channel_id = self.settings.onboarding_channel
        if channel_id is None or member.bot:
            return
        try:
            await self._welcome(member, channel_id)
        except Exception:  # a failed welcome must not stop the event loop
            log.exception("event=welcome_failed")

    async def _welcome(self, member: discord.Member, channel_id: int) -> None:
        try:
            channel = member.guild.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        except DELIVERY_ERRORS as exc:
            log_failure("onboarding_channel", exc)
            return
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("event=onboarding_skipped reason=not_a_text_channel channel=%s", channel_id)
            return
        # The mention renders the member's name; AllowedMentions.none() keeps it from pinging.
        part = welcome(self.settings.welcome, member.mention, self.service.tour(None, 0))
        log.info("event=welcome guild=%s", member.guild.id)
        await send_parts(channel, (part,))

    # -- interactions --------------------------------------------------------------------------
    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Buttons whose id is not a `kb:` id (older versions, other formats) get a clear answer.
        `kb:` ids are handled by the DynamicItem; slash commands by the command tree."""
        if interaction.type is not discord.InteractionType.component or not isinstance(
            interaction.data, dict
        ):
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        if is_ours(custom_id):
            return
        log.info("event=click action=expired")
        await reply_to_interaction(interaction, notice(EXPIRED), ephemeral=True)
