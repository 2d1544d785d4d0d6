"""Slack payloads → core `Message`s, and the small decisions about which events deserve an answer.

Pure functions over the JSON Slack sends (slash-command form fields, Events API `event` objects,
`block_actions` payloads); nothing here talks to Slack or the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.adapters.slack.mrkdwn import from_slack, strip_mention
from bot.models import ChannelType, Message, Person, Platform

Payload = Mapping[str, Any]

# Message subtypes that are still a person writing something new.
_USER_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


def channel_type_of(channel_id: str, slack_type: str | None = None) -> ChannelType:
    """Slack's `channel_type` (im, mpim, channel, group) or the id prefix (D… is a DM)."""
    if slack_type == "im" or (slack_type is None and channel_id.startswith("D")):
        return ChannelType.DIRECT
    return ChannelType.CHANNEL


def command_message(body: Payload) -> Message:
    """A slash command's form fields; `/kube` alone means `help`."""
    text = from_slack(str(body.get("text") or "")).strip() or "help"
    return Message(
        text,
        Platform.SLACK,
        ChannelType.COMMAND,
        str(body.get("channel_id") or ""),
        Person(str(body.get("user_id") or ""), str(body.get("user_name") or "")),
    )


def event_message(event: Payload, bot_user_id: str | None, channel_type: ChannelType) -> Message:
    """A mention, DM or channel message; the bot's own mention is stripped, empty means `help`."""
    raw = strip_mention(str(event.get("text") or ""), bot_user_id)
    text = from_slack(raw).strip() or "help"
    return Message(
        text,
        Platform.SLACK,
        channel_type,
        str(event.get("channel") or ""),
        Person(str(event.get("user") or "")),
    )


def is_from_bot(event: Payload) -> bool:
    """Bots (including this one) never get answers: no loops, no bot-to-bot chatter."""
    return (
        bool(event.get("bot_id")) or event.get("subtype") == "bot_message" or bool(event.get("bot_profile"))
    )


def is_user_message(event: Payload) -> bool:
    """A new message written by a person (not an edit, deletion, join notice or bot post)."""
    subtype = event.get("subtype")
    return (
        (subtype is None or subtype in _USER_SUBTYPES) and not is_from_bot(event) and bool(event.get("user"))
    )


def mentions(event: Payload, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in str(event.get("text") or "")


def is_top_level(event: Payload) -> bool:
    thread_ts = event.get("thread_ts")
    return thread_ts is None or thread_ts == event.get("ts")


def thread_of(event: Payload) -> str:
    """Where a threaded reply goes: the existing thread, or a new one under this message."""
    return str(event.get("thread_ts") or event.get("ts") or "")


def dedupe_key(event: Payload) -> str:
    """One message arrives as both `app_mention` and `message`; channel+ts identifies it."""
    return f"msg:{event.get('channel', '')}:{event.get('ts', '')}"


def action_channel_type(body: Payload) -> ChannelType:
    """Where a button was clicked: an ephemeral slash-command reply, a DM, or a channel."""
    container = body.get("container") or {}
    if container.get("is_ephemeral"):
        return ChannelType.COMMAND
    channel = body.get("channel") or {}
    channel_id = str(channel.get("id") or container.get("channel_id") or "")
    return channel_type_of(channel_id, "im" if channel.get("name") == "directmessage" else None)


def action_message(body: Payload, text: str) -> Message:
    """A Message for a button click, e.g. feedback on `text` (the question it refers to)."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    user = body.get("user") or {}
    return Message(
        text,
        Platform.SLACK,
        action_channel_type(body),
        str(channel.get("id") or container.get("channel_id") or ""),
        Person(str(user.get("id") or ""), str(user.get("username") or user.get("name") or "")),
    )
