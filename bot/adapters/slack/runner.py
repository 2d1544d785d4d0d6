"""Runs the Slack app: Socket Mode (an outbound WebSocket, no ingress) or HTTP (Events API).

`run_slack()` is the entry point `kubebot serve slack [--http --port N]` calls. It serves until
`stop` is set, then shuts down in order: stop accepting (HTTP: close the listening socket),
finish the acks in flight (aiohttp's graceful shutdown, `ACK_GRACE_S`), drain the replies
started after those acks (`DRAIN_SECONDS`; what is still being sent then moves to the outbox),
stop the outbox worker. The runtime flushes the store afterwards, all within 20 s of SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import build_app, build_client
from bot.adapters.slack.auth import StartupAuthorization
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.outbox import Outbox, PostAckTasks
from bot.adapters.slack.redeliver import Redelivery
from bot.adapters.slack.sdk_internals import use_connection_url
from bot.adapters.slack.web import EVENTS_PATH, build_web_app
from bot.config import ConfigError
from bot.ports import Claims, MemoryOutbox, ReplyOutbox
from bot.service import QAService

log = logging.getLogger("kubebot.slack")

ACK_GRACE_S = 3.0  # requests in flight at shutdown: Slack waits 3 s for an ack, so do we
DRAIN_SECONDS = 8.0  # replies started after an ack; what is left then goes to the outbox
CANCEL_SECONDS = 1.0

__all__ = ["EVENTS_PATH", "build_web_app", "run_slack"]


async def run_slack(
    service: QAService,
    settings: SlackSettings,
    *,
    http: bool,
    port: int,
    host: str = "0.0.0.0",
    on_ready: Callable[[], None] | None = None,
    claims: Claims | None = None,
    stop: asyncio.Event | None = None,
    pending: ReplyOutbox | None = None,
    mount: Callable[[web.Application], None] | None = None,
) -> None:
    """Serve Slack until `stop` is set (or the task is cancelled). Raises ConfigError for missing
    or rejected tokens.

    `on_ready` is called once the bot can take requests: the HTTP port is listening, or the
    Socket Mode connection is up. `claims`, shared by all replicas, dedupes across them;
    `pending` is where undelivered replies wait (the store's outbox; default in memory).
    """
    ready = on_ready or (lambda: None)
    stop = stop or asyncio.Event()
    settings.require(http=http)
    async with aiohttp.ClientSession() as session:
        client = build_client(settings, session)
        outbox = Outbox(client, pending=pending if pending is not None else MemoryOutbox())
        app, background, authorization = await wire_app(service, settings, client, outbox, claims)
        worker_stop = asyncio.Event()
        worker = asyncio.create_task(Redelivery(outbox).run(worker_stop), name="kubebot-slack-outbox")
        try:
            if http:
                await _serve_http(app, settings, host, port, ready, stop, mount)
            else:
                await _serve_socket_mode(app, client, settings, ready, stop)
        finally:
            await _drain(background)
            worker_stop.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(worker, CANCEL_SECONDS)
            await authorization.aclose()
            left = len(outbox.pending) if isinstance(outbox.pending, MemoryOutbox) else 0
            if left:
                log.warning("event=slack_outbox_abandoned count=%d store=memory", left)
            log.info("event=slack_stopped")


async def wire_app(
    service: QAService, settings: SlackSettings, client: AsyncWebClient, outbox: Outbox, claims: Claims | None
) -> tuple[AsyncApp, PostAckTasks, StartupAuthorization]:
    """The bolt app, the replies it has running and its token check: the token is checked here
    (auth.test), so a rejected one fails at startup and no request ever waits on it."""
    authorization = StartupAuthorization(client)
    await authorization.check()
    background = PostAckTasks()
    app = build_app(
        service,
        settings,
        client,
        background=background,
        claims=claims,
        authorization=authorization,
        outbox=outbox,
    )
    return app, background, authorization


async def _drain(background: PostAckTasks) -> None:
    if await background.drain(timeout=DRAIN_SECONDS):
        log.info("event=slack_replies_drained")
        return
    log.warning("event=slack_replies_drained cancelled=%d then=outbox", len(background))
    await background.cancel_and_wait(CANCEL_SECONDS)


async def _serve_http(
    app: AsyncApp,
    settings: SlackSettings,
    host: str,
    port: int,
    ready: Callable[[], None],
    stop: asyncio.Event,
    mount: Callable[[web.Application], None] | None = None,
) -> None:
    # aiohttp's own graceful shutdown: cleanup() waits up to shutdown_timeout for handlers in flight.
    runner = web.AppRunner(
        build_web_app(app, signing_secret=settings.signing_secret, mount=mount),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=ACK_GRACE_S,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("event=slack_started mode=http host=%s port=%d path=%s", host, port, EVENTS_PATH)
        ready()
        await stop.wait()
        await site.stop()  # stop accepting; requests already read are answered below
        log.info("event=slack_http_closed")
    finally:
        await runner.cleanup()
        log.info("event=slack_acks_finished")


async def _serve_socket_mode(
    app: AsyncApp,
    client: AsyncWebClient,
    settings: SlackSettings,
    ready: Callable[[], None],
    stop: asyncio.Event,
) -> None:
    # Ask for the WebSocket URL ourselves first: a bad app token is a clear error here, where the
    # handler would retry it forever. The handler then connects to that URL.
    try:
        response = await client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        raise ConfigError(
            f"Slack rejected SLACK_APP_TOKEN ({error}); it needs the connections:write scope"
        ) from None
    handler = AsyncSocketModeHandler(
        app, settings.app_token, logger=logging.getLogger("kubebot.slack.socket")
    )
    use_connection_url(handler.client, str(response["url"]))
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it unannotated
        log.info("event=slack_started mode=socket")
        ready()
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        log.info("event=slack_acks_finished")
