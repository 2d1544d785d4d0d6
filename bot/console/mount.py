"""The console beside the Slack HTTP server: `KUBEBOT_CONSOLE_PATH=/console` with `serve slack --http`.

The Slack port faces the internet (through the Ingress), so the mounted console always needs
`KUBEBOT_CONSOLE_TOKEN`. It shares the bot's own service, so "Try a question" sees exactly the
knowledge base the bot answers with, reloads included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bot.config import ConfigError, CoreSettings
from bot.console.config import ConsoleSettings
from bot.service import QAService

if TYPE_CHECKING:
    from aiohttp import web


def slack_mount(
    env: Mapping[str, str], service: QAService, *, http: bool
) -> Callable[[web.Application], None] | None:
    """The hook that adds the console to the Slack HTTP app, or None when KUBEBOT_CONSOLE_PATH is unset.
    Raises ConfigError for a console that would be public without a token, or that has no HTTP port."""
    prefix = env.get("KUBEBOT_CONSOLE_PATH", "").strip()
    if not prefix:
        return None
    if not http:
        raise ConfigError(
            "KUBEBOT_CONSOLE_PATH mounts the console on the Slack HTTP port: use `serve slack --http`, "
            "or run `kubebot serve console` on its own"
        )
    core = CoreSettings.from_env(env)
    settings = ConsoleSettings.from_env(env, prefix=prefix, store_questions=core.store_questions)
    settings.check(public=True)
    if not settings.prefix:
        raise ConfigError("KUBEBOT_CONSOLE_PATH must be a path below the root, like /console")
    try:
        from bot.console.app import build_console, mount_console
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{exc.name} is not installed: pip install 'kubebot[console]'") from None
    console = build_console(service, settings, core.db_url)

    def mount(app: web.Application) -> None:
        mount_console(app, console)

    return mount
