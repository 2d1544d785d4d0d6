"""Runs the Slack app: Socket Mode (an outbound WebSocket, no ingress) or HTTP (Events API).

`run_slack()` is the entry point `kubebot serve slack [--http --port N]` calls. It returns only
when cancelled; background replies still in flight get a few seconds to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import build_app, build_client
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.outbox import Background
from bot.config import ConfigError
from bot.ports import Claims
from bot.service import QAService

log = logging.getLogger("kubebot.slack")

EVENTS_PATH = "/slack/events"
DRAIN_SECONDS = 10.0
_BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


def build_web_app(
    app: AsyncApp, path: str = EVENTS_PATH, *, mount: Callable[[web.Application], None] | None = None
) -> web.Application:
    """An aiohttp application serving the bolt app at `path` through bolt's aiohttp adapter.

    `mount` may add more routes next to it (the maintainer console, `bot.console.mount`)."""

    async def events(request: web.Request) -> web.StreamResponse:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    web_app = web.Application()
    web_app.router.add_post(path, events)
    if mount is not None:
        mount(web_app)
    return web_app


async def run_slack(
    service: QAService,
    settings: SlackSettings,
    *,
    http: bool,
    port: int,
    host: str = "0.0.0.0",
    on_ready: Callable[[], None] | None = None,
    claims: Claims | None = None,
    mount: Callable[[web.Application], None] | None = None,
) -> None:
    """Serve Slack until cancelled. Raises ConfigError for missing or rejected tokens.

    `on_ready` is called once the bot can take requests: the HTTP port is listening, or the
    Socket Mode connection is up. `claims`, shared by all replicas, dedupes across them.
    """
    ready = on_ready or (lambda: None)
    settings.require(http=http)
    async with aiohttp.ClientSession() as session:
        client = build_client(settings, session)
        await _check_bot_token(client)
        background = Background()
        app = build_app(service, settings, client, background=background, claims=claims)
        try:
            if http:
                await _serve_http(app, host, port, ready, mount)
            else:
                await _serve_socket_mode(app, client, settings, ready)
        finally:
            if not await background.drain(timeout=DRAIN_SECONDS):
                log.warning("event=slack_shutdown_cancelled_replies count=%d", len(background))
                background.cancel()
            log.info("event=slack_stopped")


async def _serve_http(
    app: AsyncApp,
    host: str,
    port: int,
    ready: Callable[[], None],
    mount: Callable[[web.Application], None] | None = None,
) -> None:
    runner = web.AppRunner(build_web_app(app, mount=mount), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("event=slack_started mode=http host=%s port=%d path=%s", host, port, EVENTS_PATH)
        ready()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _serve_socket_mode(
    app: AsyncApp, client: AsyncWebClient, settings: SlackSettings, ready: Callable[[], None]
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
    handler.client.wss_uri = str(response["url"])
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it unannotated
        log.info("event=slack_started mode=socket")
        ready()
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _check_bot_token(client: AsyncWebClient) -> None:
    """Fail fast on a rejected bot token; other errors (Slack unreachable) are left to the retries."""
    try:
        await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        if error in _BAD_TOKEN:
            raise ConfigError(
                f"Slack rejected SLACK_BOT_TOKEN ({error}); reinstall the app and copy the token"
            ) from None
        log.warning("event=slack_auth_test_failed error=%s", error)
    except Exception as exc:
        log.warning("event=slack_auth_test_failed error=%s", type(exc).__name__)
