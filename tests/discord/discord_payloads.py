"""Gateway payloads shaped as Discord sends them (INTERACTION_CREATE, MESSAGE_CREATE, GUILD_CREATE...)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.discord.discord_fake import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    TIMESTAMP,
    bot_message,
    text_channel,
    thread_channel,
)

GUILD_ID = 920000000000000001
CHANNEL_ID = 920000000000000002
LISTEN_CHANNEL_ID = 920000000000000003
THREAD_ID = 920000000000000006
ONBOARDING_CHANNEL_ID = 920000000000000004
DM_CHANNEL_ID = 920000000000000005
USER_ID = 920000000000000010
OTHER_BOT_ID = 920000000000000011
ROLE_ID = 920000000000000020
BOT_ROLE_ID = 920000000000000021
COMMAND_ID = 920000000000000030
ALL_PERMISSIONS = "2251799813685247"

_ids = itertools.count(930000000000000000)


def snowflake() -> str:
    return str(next(_ids))


def user(user_id: int = USER_ID, name: str = "alice", bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "public_flags": 0,
        **({"bot": True} if bot else {}),
    }


def member(
    user_id: int = USER_ID, roles: tuple[int, ...] = (ROLE_ID,), with_user: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
    }
    if with_user:
        data["user"] = user(user_id)
    return data


def role(
    role_id: int, name: str, position: int, *, managed: bool = False, bot_id: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(role_id),
        "name": name,
        "permissions": "1071698660929",
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": managed,
        "mentionable": False,
        "flags": 0,
        "icon": None,
        "unicode_emoji": None,
    }
    if bot_id is not None:
        data["tags"] = {"bot_id": str(bot_id)}
    return data


def guild_create() -> dict[str, Any]:
    """GUILD_CREATE for the test guild: roles (incl. the bot's managed role), channels, the bot member."""
    return {
        "id": str(GUILD_ID),
        "name": "k8s learners",
        "icon": None,
        "owner_id": str(USER_ID),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [
            role(GUILD_ID, "@everyone", 0),
            role(ROLE_ID, "devs", 1),
            role(BOT_ROLE_ID, "kubebot", 2, managed=True, bot_id=BOT_ID),
        ],
        "channels": [
            text_channel(str(CHANNEL_ID), name="general"),
            text_channel(str(LISTEN_CHANNEL_ID), name="k8s-help"),
            text_channel(str(ONBOARDING_CHANNEL_ID), name="welcome"),
        ],
        "threads": [
            {
                **thread_channel(str(THREAD_ID), parent_id=str(LISTEN_CHANNEL_ID), name="pods?"),
                "owner_id": str(USER_ID),
            }
        ],
        "members": [{**member(BOT_ID, roles=(BOT_ROLE_ID,), with_user=False), "user": BOT_USER}],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": TIMESTAMP,
        "premium_subscription_count": 0,
        "max_members": 500000,
        "nsfw": False,
    }


def _interaction(kind: int, data: dict[str, Any] | None, *, dm: bool = False, **extra: Any) -> dict[str, Any]:
    interaction_id = snowflake()
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"itoken-{interaction_id}",
        "version": 1,
        "app_permissions": ALL_PERMISSIONS,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if data is not None:
        payload["data"] = data
    if dm:
        payload.update(
            channel_id=str(DM_CHANNEL_ID),
            channel={
                "id": str(DM_CHANNEL_ID),
                "type": 1,
                "flags": 0,
                "last_message_id": None,
                "recipients": [user()],
            },
            user=user(),
            authorizing_integration_owners={"1": str(USER_ID)},
            context=1,
        )
    else:
        payload.update(
            guild_id=str(GUILD_ID),
            guild={"id": str(GUILD_ID), "locale": "en-US", "features": []},
            guild_locale="en-US",
            channel_id=str(CHANNEL_ID),
            channel={**text_channel(str(CHANNEL_ID), str(GUILD_ID)), "permissions": ALL_PERMISSIONS},
            member={**member(), "permissions": ALL_PERMISSIONS},
            authorizing_integration_owners={"0": str(GUILD_ID)},
            context=0,
        )
    payload.update(extra)
    return payload


def command(sub: str, dm: bool = False, **options: str) -> dict[str, Any]:
    """Type 2: `/kube <sub> [options]` as a CHAT_INPUT command with a SUB_COMMAND option."""
    inner = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    data: dict[str, Any] = {
        "id": str(COMMAND_ID),
        "name": "kube",
        "type": 1,
        "options": [{"name": sub, "type": 1, "options": inner}],
    }
    if not dm:
        data["guild_id"] = str(GUILD_ID)
    return _interaction(2, data, dm=dm)


def autocomplete(sub: str, option: str, value: str) -> dict[str, Any]:
    """Type 4: the user is typing `value` into `option`, which is focused."""
    data = {
        "id": str(COMMAND_ID),
        "name": "kube",
        "type": 1,
        "guild_id": str(GUILD_ID),
        "options": [
            {
                "name": sub,
                "type": 1,
                "options": [{"name": option, "type": 3, "value": value, "focused": True}],
            }
        ],
    }
    return _interaction(4, data)


def sent_message(
    sent: dict[str, Any],
    *,
    channel_id: int = CHANNEL_ID,
    message_id: str | None = None,
    from_command: bool = True,
) -> dict[str, Any]:
    """The message a user sees, rebuilt from what the bot sent (embeds, components, flags)."""
    message = bot_message(
        sent, channel_id=str(channel_id), message_id=message_id or snowflake(), kind=20 if from_command else 0
    )
    if from_command:
        message["interaction_metadata"] = {
            "id": snowflake(),
            "type": 2,
            "user": user(),
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "name": "kube ask",
            "command_type": 1,
        }
    return message


def click(custom_id: str, message: dict[str, Any], dm: bool = False) -> dict[str, Any]:
    """Type 3: a button press on `message` (which must carry the button, as Discord's payload does)."""
    return _interaction(3, {"custom_id": custom_id, "component_type": 2}, dm=dm, message=message)


def message_create(
    content: str,
    *,
    channel_id: int = CHANNEL_ID,
    author_id: int = USER_ID,
    bot: bool = False,
    dm: bool = False,
    mentions: tuple[dict[str, Any], ...] = (),
    mention_roles: tuple[int, ...] = (),
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": snowflake(),
        "channel_id": str(DM_CHANNEL_ID if dm else channel_id),
        "author": user(author_id, "bot2" if bot else "alice", bot=bot),
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": list(mentions),
        "mention_roles": [str(r) for r in mention_roles],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
    }
    if not dm:
        data["guild_id"] = str(GUILD_ID)
        data["member"] = member(author_id, with_user=False)
    return data


def bot_mention() -> dict[str, Any]:
    return {**BOT_USER, "member": member(BOT_ID, roles=(BOT_ROLE_ID,), with_user=False)}


def member_add(user_id: int = USER_ID, bot: bool = False) -> dict[str, Any]:
    """GUILD_MEMBER_ADD."""
    return {**member(user_id, roles=()), "user": user(user_id, "newbie", bot=bot), "guild_id": str(GUILD_ID)}
