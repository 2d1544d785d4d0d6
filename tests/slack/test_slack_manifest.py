"""deploy/slack-manifest.yaml asks for what the adapter uses, and only that."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.adapters.slack.config import DEFAULT_COMMAND
from bot.adapters.slack.runner import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yaml"


def test_manifest_scopes_events_and_command() -> None:
    text = MANIFEST.read_text()
    manifest = yaml.safe_load(text)
    assert manifest["display_information"]["name"] == "kubebot"
    assert len(manifest["display_information"]["long_description"]) >= 175  # Slack's minimum
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "files:write",
        "app_mentions:read",
        "im:history",
        "im:read",
        "im:write",
        "channels:history",
        "groups:history",
        "channels:read",
    }
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_mention",
        "message.im",
        "message.channels",
        "member_joined_channel",
        "app_home_opened",
    } <= events
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == DEFAULT_COMMAND
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    # The HTTP variant is documented in comments, pointing every URL at the events path.
    assert text.count(f"# request_url: https://kubebot.example.com{EVENTS_PATH}") == 2
    assert f"# url: https://kubebot.example.com{EVENTS_PATH}" in text
