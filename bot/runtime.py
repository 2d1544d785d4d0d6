"""`kubebot serve slack|discord`: wire the service, the store, metrics, reload, the optional
cluster gateway and one chat adapter, then run until interrupted.

Only `bot.cli` calls this; platform packages are imported here, lazily, per platform.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import ConfigError, CoreSettings, merged_env
from bot.knowledge import bundled_kb_dir
from bot.logs import setup_logging
from bot.ports import Claims, ClusterGateway
from bot.service import KnowledgeHolder, QAService

log = logging.getLogger("kubebot.runtime")

DEFAULT_SLACK_PORT = 3000


def _cluster_gateway(env: dict[str, str]) -> ClusterGateway | None:
    from bot.config import env_bool

    if not env_bool(env, "KUBEBOT_CLUSTER_ENABLED"):
        return None
    from bot.cluster.config import ClusterSettings
    from bot.cluster.gateway import build_gateway

    return build_gateway(ClusterSettings.from_env(env))


def _shared_claims(env: dict[str, str]) -> Claims | None:
    """Replicas that share PostgreSQL also share their once-only claims (Slack dedupe)."""
    url = env.get("KUBEBOT_DB", "").strip()
    if not url.startswith(("postgresql://", "postgres://")):
        return None  # SQLite: one replica, in-memory dedupe is enough
    from bot.store.claims import PostgresClaims

    return PostgresClaims(url)


def _adapter(
    platform: str, service: QAService, args: argparse.Namespace, env: dict[str, str]
) -> Callable[[Callable[[], None]], Awaitable[None]]:
    """Validate the platform's settings now (before anything starts) and return its runner."""
    if platform == "slack":
        from bot.adapters.slack.config import SlackSettings
        from bot.adapters.slack.runner import run_slack

        slack = SlackSettings.from_env(env)
        slack.require(http=args.http)
        port = args.port or DEFAULT_SLACK_PORT
        claims = _shared_claims(env)
        from bot.console.mount import slack_mount

        mount = slack_mount(env, service, http=args.http)  # KUBEBOT_CONSOLE_PATH: the console beside it
        return lambda on_ready: run_slack(
            service, slack, http=args.http, port=port, on_ready=on_ready, claims=claims, mount=mount
        )
    from bot.adapters.discord.config import DiscordSettings
    from bot.adapters.discord.runner import run_discord

    discord = DiscordSettings.from_env(env)
    return lambda on_ready: run_discord(service, discord, on_ready=on_ready)


async def _serve(
    platform: str, args: argparse.Namespace, settings: CoreSettings, env: dict[str, str]
) -> None:
    from bot.background import start_background
    from bot.cli import load_snapshot

    kb_dir = Path(args.kb) if args.kb else (settings.kb_dir or bundled_kb_dir())
    service = QAService(KnowledgeHolder(load_snapshot(kb_dir)), cluster=_cluster_gateway(env))
    run_adapter = _adapter(platform, service, args, env)  # a missing token fails here, before anything runs
    background = start_background(service, settings, env=env)
    await background.start()
    task = asyncio.ensure_future(run_adapter(lambda: background.set_ready(True)))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Kubernetes stops pods with SIGTERM
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, task.cancel)
    log.info(
        "event=serving platform=%s kb=%s entries=%d cluster=%s",
        platform,
        kb_dir,
        len(service.holder.current.kb.entries),
        service.cluster_enabled,
    )
    try:
        await task
    except asyncio.CancelledError:
        log.info("event=stopping platform=%s", platform)
    finally:
        background.set_ready(False)
        await background.stop()
        close = getattr(service.cluster, "aclose", None)
        if close is not None:
            await close()


def serve(platform: str, args: argparse.Namespace, settings: CoreSettings) -> int:
    """Run the bot on `platform` until SIGINT/SIGTERM. Config problems raise ConfigError."""
    env = merged_env()
    setup_logging(settings.log_level)
    try:
        asyncio.run(_serve(platform, args, settings, env))
    except KeyboardInterrupt:
        pass
    except ModuleNotFoundError as exc:
        extra = "cluster" if "lightkube" in str(exc) else platform
        raise ConfigError(f"{exc.name} is not installed: pip install 'kubebot[{extra}]'") from None
    return 0
