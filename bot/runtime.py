"""`kubebot serve slack|discord`: wire the service, the store, metrics, reload, the optional
cluster gateway and one chat adapter, then run until interrupted.

`kubebot serve` calls this; the service is built by `bot.app`, like the command line's; platform
packages are imported here, lazily, per platform.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.background import STOP_FLUSH_S as STORE_FLUSH_S
from bot.background import BackgroundSettings
from bot.config import ConfigError, CoreSettings, merged_env
from bot.logs import setup_logging
from bot.ports import Claims, ClusterGateway, MemoryOutbox, ReplyOutbox
from bot.service import QAService

log = logging.getLogger("kubebot.runtime")

DEFAULT_SLACK_PORT = 3000
SHUTDOWN_BUDGET_S = 20.0  # SIGTERM → exit; deploy/ gives 5 s of preStop plus this within 30 s
# The adapter's share (acks 3 s + replies 8 s + cancel 1 s + outbox worker 1 s = 13 s); then the
# probe server (up to 2 s) and the store flush (up to 5 s) fit in what is left.
ADAPTER_BUDGET_S = SHUTDOWN_BUDGET_S - STORE_FLUSH_S - 2.0


def _cluster_gateway(env: dict[str, str]) -> ClusterGateway | None:
    from bot.config import env_bool

    if not env_bool(env, "KUBEBOT_CLUSTER_ENABLED"):
        return None
    from bot.cluster.config import ClusterSettings
    from bot.cluster.gateway import build_gateway

    return build_gateway(ClusterSettings.from_env(env))


def _shared_claims(env: dict[str, str]) -> Claims | None:
    """Replicas that share PostgreSQL (any DSN form) also share their once-only claims (Slack
    dedupe), with the KUBEBOT_CLAIM_TIMEOUT budget; SQLite: one replica, in-memory dedupe."""
    from bot.store.claims import claims_from_env

    return claims_from_env(env)


def _reply_outbox(env: dict[str, str]) -> ReplyOutbox:
    """Where replies the platform did not take wait to be sent again: the store's outbox (the
    SQLite file, or the PostgreSQL database the replicas share), so a reply survives a restart
    and any replica can deliver it. When the store cannot be opened, in memory (and logged):
    replies still pending at exit are then lost."""
    from bot.store.base import StoreError, redact_url
    from bot.store.outbox import open_outbox

    url = env.get("KUBEBOT_DB", "").strip() or None
    try:
        return open_outbox(url, env)
    except StoreError as exc:
        log.warning("event=outbox_in_memory db=%s error=%s", redact_url(url or "sqlite"), exc)
        return MemoryOutbox()


Adapter = Callable[[Callable[[], None], asyncio.Event], Awaitable[None]]


def _adapter(platform: str, service: QAService, args: argparse.Namespace, env: dict[str, str]) -> Adapter:
    """Validate the platform's settings now (before anything starts) and return its runner,
    which serves until the event is set and then stops gracefully."""
    if platform == "slack":
        from bot.adapters.slack.config import SlackSettings
        from bot.adapters.slack.runner import run_slack

        slack = SlackSettings.from_env(env)
        slack.require(http=args.http)
        port = args.port or DEFAULT_SLACK_PORT
        host = BackgroundSettings.from_env(env).http_host  # KUBEBOT_HTTP_HOST, for both ports
        claims = _shared_claims(env)
        from bot.console.mount import slack_mount

        mount = slack_mount(env, service, http=args.http)  # KUBEBOT_CONSOLE_PATH: the console beside it
        pending = _reply_outbox(env)
        return lambda on_ready, stop: run_slack(
            service, slack, http=args.http, port=port, host=host, on_ready=on_ready, claims=claims,
            stop=stop, pending=pending, mount=mount,
        )  # fmt: skip
    from bot.adapters.discord.config import DiscordSettings
    from bot.adapters.discord.runner import run_discord

    discord = DiscordSettings.from_env(env)
    return lambda on_ready, stop: _until(stop, run_discord(service, discord, on_ready=on_ready))


async def _until(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or `stop` is set (then cancel it): for adapters without a stop event."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _serve(
    platform: str, args: argparse.Namespace, settings: CoreSettings, env: dict[str, str]
) -> None:
    """Serve until SIGTERM/SIGINT, then stop in order, within SHUTDOWN_BUDGET_S: /readyz answers
    503 at once, the adapter stops accepting, finishes its acks and drains its replies, then the
    store is flushed. A second signal cancels whatever is left."""
    from bot.app import kb_dir, load_snapshot, service_for
    from bot.background import start_background

    directory = kb_dir(args.kb, settings)
    service = service_for(load_snapshot(directory), cluster=_cluster_gateway(env))
    run_adapter = _adapter(platform, service, args, env)  # a missing token fails here, before anything runs
    background = start_background(service, settings, env=env)
    await background.start()
    stop = asyncio.Event()
    task = asyncio.ensure_future(run_adapter(lambda: background.set_ready(True), stop))

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("event=stopping_now signal=%s", sig.name)
            task.cancel()
            return
        log.info("event=stopping signal=%s budget_s=%.0f", sig.name, SHUTDOWN_BUDGET_S)
        background.set_ready(False)  # first: /readyz 503, so no new traffic is routed here
        stop.set()
        asyncio.get_running_loop().call_later(ADAPTER_BUDGET_S, _overdue, task)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Kubernetes stops pods with SIGTERM
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    log.info(
        "event=serving platform=%s kb=%s entries=%d cluster=%s",
        platform,
        directory,
        len(service.kb.entries),
        service.cluster_enabled,
    )
    try:
        await task
    except asyncio.CancelledError:
        log.info("event=stopping platform=%s cancelled=true", platform)
    finally:
        background.set_ready(False)
        await background.stop()  # flushes the store
        close = getattr(service.cluster, "aclose", None)
        if close is not None:
            await close()
        log.info("event=stopped platform=%s", platform)


def _overdue(task: asyncio.Future[None]) -> None:
    """The adapter overran its share of the shutdown budget: cancel it so the store still flushes."""
    if not task.done():
        log.warning("event=stopping_overdue then=cancel")
        task.cancel()


def serve(platform: str, args: argparse.Namespace, settings: CoreSettings) -> int:
    """Run the bot on `platform` until SIGINT/SIGTERM. Config problems raise ConfigError."""
    env = merged_env()
    setup_logging(settings.log_level, settings.log_format, env)
    try:
        asyncio.run(_serve(platform, args, settings, env))
    except KeyboardInterrupt:
        pass
    except ModuleNotFoundError as exc:
        extra = "cluster" if "lightkube" in str(exc) else platform
        raise ConfigError(f"{exc.name} is not installed: pip install 'kubebot[{extra}]'") from None
    return 0
