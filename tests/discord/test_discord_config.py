"""DiscordSettings.from_env: required token, ids, thresholds, intents and sharding switches."""

from __future__ import annotations

import pytest

from bot.adapters.discord.config import DEFAULT_WELCOME, DiscordSettings
from bot.config import ConfigError


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        DiscordSettings.from_env({})
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        DiscordSettings.from_env({"DISCORD_TOKEN": "   "})


def test_defaults() -> None:
    s = DiscordSettings.from_env({"DISCORD_TOKEN": "secret-token"})
    assert s.guild_id is None and s.listen_channels == frozenset() and s.passive_min == 0.75
    assert not s.members_intent and not s.message_content_intent and not s.use_sharding
    assert s.ephemeral and s.welcome == DEFAULT_WELCOME and s.max_ratelimit_wait == 60.0
    assert "secret-token" not in repr(s)


def test_everything_set() -> None:
    s = DiscordSettings.from_env(
        {
            "DISCORD_TOKEN": "t",
            "KUBEBOT_DISCORD_GUILD_ID": "123456789012345678",
            "KUBEBOT_DISCORD_LISTEN_CHANNELS": "111111111111111111, 222222222222222222",
            "KUBEBOT_DISCORD_PASSIVE_MIN": "0.9",
            "KUBEBOT_DISCORD_MEMBERS_INTENT": "true",
            "KUBEBOT_DISCORD_ONBOARDING_CHANNEL": "333333333333333333",
            "KUBEBOT_DISCORD_WELCOME": "Hi {user}",
            "KUBEBOT_DISCORD_SHARD_COUNT": "4",
            "KUBEBOT_DISCORD_EPHEMERAL": "false",
            "KUBEBOT_DISCORD_MAX_RATELIMIT_WAIT": "120",
        }
    )
    assert s.guild_id == 123456789012345678
    assert s.listen_channels == {111111111111111111, 222222222222222222} and s.message_content_intent
    assert s.passive_min == 0.9 and s.members_intent and s.onboarding_channel == 333333333333333333
    assert s.welcome == "Hi {user}" and s.shard_count == 4 and s.use_sharding and not s.ephemeral
    assert s.max_ratelimit_wait == 120.0
    assert DiscordSettings.from_env({"DISCORD_TOKEN": "t", "KUBEBOT_DISCORD_SHARDED": "yes"}).use_sharding


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KUBEBOT_DISCORD_GUILD_ID", "my-guild", "KUBEBOT_DISCORD_GUILD_ID"),
        ("KUBEBOT_DISCORD_LISTEN_CHANNELS", "123,general", "general"),
        ("KUBEBOT_DISCORD_PASSIVE_MIN", "1.5", "between 0 and 1"),
        ("KUBEBOT_DISCORD_PASSIVE_MIN", "high", "KUBEBOT_DISCORD_PASSIVE_MIN"),
        ("KUBEBOT_DISCORD_ONBOARDING_CHANNEL", "123", "KUBEBOT_DISCORD_MEMBERS_INTENT"),
        ("KUBEBOT_DISCORD_SHARD_COUNT", "0", "at least 1"),
        ("KUBEBOT_DISCORD_SHARDED", "maybe", "true or false"),
        ("KUBEBOT_DISCORD_MAX_RATELIMIT_WAIT", "5", "at least 30"),
    ],
)
def test_bad_values_are_config_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DiscordSettings.from_env({"DISCORD_TOKEN": "t", name: value})
