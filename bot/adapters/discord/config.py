"""Discord settings from the environment (`DISCORD_TOKEN`, `KUBEBOT_DISCORD_*`). No discord.py import here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import ConfigError, env_bool, env_float, env_int, env_list, merged_env

DEFAULT_WELCOME = "Welcome {user}! New to Kubernetes? Take the guided tour, one step at a time."


def _snowflake(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a Discord id (digits; Developer Mode → Copy ID), not {raw!r}")
    return int(raw)


def _snowflakes(env: Mapping[str, str], name: str) -> frozenset[int]:
    values = env_list(env, name)
    bad = [v for v in values if not v.isdigit()]
    if bad:
        raise ConfigError(f"{name} must be a comma-separated list of channel ids, not {', '.join(bad)!r}")
    return frozenset(int(v) for v in values)


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Everything the Discord adapter reads from the environment.

    `token` is kept out of repr so that logging the settings never leaks it.
    """

    token: str = field(repr=False)
    guild_id: int | None = None  # sync commands to this guild only (instant); global otherwise
    listen_channels: frozenset[int] = frozenset()  # passive mode; needs the message-content intent
    passive_min: float = 0.75
    members_intent: bool = False
    onboarding_channel: int | None = None
    welcome: str = DEFAULT_WELCOME
    sharded: bool = False
    shard_count: int | None = None
    ephemeral: bool = True
    max_ratelimit_wait: float = 60.0

    @property
    def message_content_intent(self) -> bool:
        """Only passive mode needs message content: mentions and DMs carry it anyway."""
        return bool(self.listen_channels)

    @property
    def use_sharding(self) -> bool:
        return self.sharded or self.shard_count is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordSettings:
        e = merged_env(env)
        token = e.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal "
                "(Applications → your app → Bot → Reset Token) and export DISCORD_TOKEN"
            )
        members = env_bool(e, "KUBEBOT_DISCORD_MEMBERS_INTENT", False)
        onboarding = _snowflake(e, "KUBEBOT_DISCORD_ONBOARDING_CHANNEL")
        if onboarding is not None and not members:
            raise ConfigError(
                "KUBEBOT_DISCORD_ONBOARDING_CHANNEL needs KUBEBOT_DISCORD_MEMBERS_INTENT=true "
                "(and the Server Members intent enabled in the Developer Portal)"
            )
        shard_count: int | None = None
        if e.get("KUBEBOT_DISCORD_SHARD_COUNT", "").strip():
            shard_count = env_int(e, "KUBEBOT_DISCORD_SHARD_COUNT", 1)
            if shard_count < 1:
                raise ConfigError("KUBEBOT_DISCORD_SHARD_COUNT must be at least 1")
        wait = float(env_int(e, "KUBEBOT_DISCORD_MAX_RATELIMIT_WAIT", 60))
        if wait < 30:
            raise ConfigError("KUBEBOT_DISCORD_MAX_RATELIMIT_WAIT must be at least 30 (seconds)")
        return cls(
            token=token,
            guild_id=_snowflake(e, "KUBEBOT_DISCORD_GUILD_ID"),
            listen_channels=_snowflakes(e, "KUBEBOT_DISCORD_LISTEN_CHANNELS"),
            passive_min=env_float(
                e, "KUBEBOT_DISCORD_PASSIVE_MIN", 0.75, minimum=0, maximum=1, what="a number between 0 and 1"
            ),
            members_intent=members,
            onboarding_channel=onboarding,
            welcome=e.get("KUBEBOT_DISCORD_WELCOME", "").strip() or DEFAULT_WELCOME,
            sharded=env_bool(e, "KUBEBOT_DISCORD_SHARDED", False),
            shard_count=shard_count,
            ephemeral=env_bool(e, "KUBEBOT_DISCORD_EPHEMERAL", True),
            max_ratelimit_wait=wait,
        )
