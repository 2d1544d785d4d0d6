"""Slack settings from the environment: tokens, the slash command name, passive mode, onboarding.

Tokens never appear in `repr()` or logs. Missing or malformed tokens raise `ConfigError` with the
name of the variable and where to find the value in the Slack app settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import ConfigError, env_float, env_list, merged_env

DEFAULT_COMMAND = "/kube"
DEFAULT_PASSIVE_MIN = 0.75
DEFAULT_DEDUPE_TTL = 900.0  # Slack retries for about 5 minutes; keep ids three times as long

_WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with connections:write under Basic Information",
    "SLACK_SIGNING_SECRET": "the Signing Secret under Basic Information > App Credentials",
}


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Everything the Slack adapter reads from the environment."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    command: str = DEFAULT_COMMAND
    listen_channels: frozenset[str] = frozenset()
    passive_min: float = DEFAULT_PASSIVE_MIN
    onboarding_channel: str = ""
    api_url: str | None = None  # None: https://slack.com/api/
    dedupe_ttl: float = DEFAULT_DEDUPE_TTL

    @property
    def passive_enabled(self) -> bool:
        return bool(self.listen_channels)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, http: bool | None = None) -> SlackSettings:
        """Read `SLACK_*` and `KUBEBOT_SLACK_*`; with `http` given, also check that mode's tokens."""
        e = merged_env(env)
        bot_token = e.get("SLACK_BOT_TOKEN", "").strip()
        if not bot_token:
            raise ConfigError(_missing("SLACK_BOT_TOKEN"))
        if not bot_token.startswith("xoxb-"):
            raise ConfigError(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (" + _WHERE["SLACK_BOT_TOKEN"] + ")"
            )
        command = e.get("KUBEBOT_SLACK_COMMAND", "").strip() or DEFAULT_COMMAND
        command = "/" + command.lstrip("/")
        if len(command) < 2 or any(ch.isspace() for ch in command) or len(command) > 32:
            raise ConfigError(f"KUBEBOT_SLACK_COMMAND must be one word like /kube, not {command!r}")
        api_url = e.get("KUBEBOT_SLACK_API_URL", "").strip() or None
        if api_url is not None:
            if not api_url.startswith(("http://", "https://")):
                raise ConfigError(f"KUBEBOT_SLACK_API_URL must be an http(s) URL, not {api_url!r}")
            api_url = api_url.rstrip("/") + "/"
        settings = cls(
            bot_token=bot_token,
            signing_secret=e.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=e.get("SLACK_APP_TOKEN", "").strip(),
            command=command,
            listen_channels=frozenset(env_list(e, "KUBEBOT_SLACK_LISTEN_CHANNELS")),
            passive_min=env_float(
                e,
                "KUBEBOT_SLACK_PASSIVE_MIN",
                DEFAULT_PASSIVE_MIN,
                minimum=0,
                maximum=1,
                what="a number between 0 and 1",
            ),
            onboarding_channel=e.get("KUBEBOT_SLACK_ONBOARDING_CHANNEL", "").strip(),
            api_url=api_url,
        )
        if http is not None:
            settings.require(http=http)
        return settings

    def require(self, *, http: bool) -> None:
        """Raise ConfigError unless the tokens for this mode are present and well-formed."""
        if http:
            if not self.signing_secret:
                raise ConfigError(_missing("SLACK_SIGNING_SECRET", "HTTP mode (--http)"))
            return
        if not self.app_token:
            raise ConfigError(
                _missing("SLACK_APP_TOKEN", "Socket Mode")
                + "; or run `kubebot serve slack --http` with SLACK_SIGNING_SECRET"
            )
        if not self.app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- ("
                + _WHERE["SLACK_APP_TOKEN"]
                + ")"
            )


def _missing(name: str, mode: str = "") -> str:
    needed = f" for {mode}" if mode else ""
    return f"{name} is not set{needed}: set it to {_WHERE[name]} of your Slack app"
