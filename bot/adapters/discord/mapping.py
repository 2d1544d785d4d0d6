"""Discord objects → the core's `Message` / `Person`. Nothing else crosses into the service."""

from __future__ import annotations

import re

import discord

from bot.models import ChannelType, Message, Person, Platform

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def person(user: discord.User | discord.Member) -> Person:
    roles: tuple[str, ...] = ()
    if isinstance(user, discord.Member):
        roles = tuple(str(role.id) for role in user.roles if not role.is_default())
    return Person(str(user.id), user.name, roles)


def from_interaction(
    interaction: discord.Interaction[discord.Client],
    text: str,
    channel_type: ChannelType = ChannelType.COMMAND,
) -> Message:
    channel_id = str(interaction.channel_id) if interaction.channel_id is not None else ""
    return Message(text, Platform.DISCORD, channel_type, channel_id, person(interaction.user))


def from_message(message: discord.Message, text: str, channel_type: ChannelType) -> Message:
    return Message(text, Platform.DISCORD, channel_type, str(message.channel.id), person(message.author))


def component_channel_type(interaction: discord.Interaction[discord.Client]) -> ChannelType:
    """Where the message carrying a clicked button came from: a slash command, a DM or a channel."""
    message = interaction.message
    if message is not None and message.interaction_metadata is not None:
        return ChannelType.COMMAND
    return ChannelType.DIRECT if interaction.guild_id is None else ChannelType.CHANNEL


def strip_mentions(content: str, user_ids: set[int], role_ids: set[int]) -> str:
    """The question without the mentions that addressed the bot (other mentions are kept). Its
    lines stay as they were: a pasted post's structure tells its output from its prose."""
    content = _USER_MENTION.sub(lambda m: "" if int(m.group(1)) in user_ids else m.group(0), content)
    content = _ROLE_MENTION.sub(lambda m: "" if int(m.group(1)) in role_ids else m.group(0), content)
    return content.strip()
