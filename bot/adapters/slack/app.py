"""Builds the bolt AsyncApp: the Web API client, the middleware and one listener per Slack feature.

Every listener acks first and returns at once (`process_before_response=True`, so the ack is
the HTTP response or the Socket Mode ack envelope); the answer is computed and sent by a
background task afterwards. Over HTTP, `web.build_web_app` verifies the signature before the
body is even parsed: serve this app only through it (or Socket Mode). Requests are authorised
from the start-up `auth.test` (`auth.StartupAuthorization`), so no ack waits on Slack.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import actions as act
from bot.adapters.slack.auth import StartupAuthorization
from bot.adapters.slack.clicks import ClickHandlers
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.dedupe import EventDedupe, SeenKeys
from bot.adapters.slack.handlers import MessageHandlers
from bot.adapters.slack.outbox import Outbox, PostAckTasks, retry_handlers
from bot.adapters.slack.retry import SEND_TIMEOUT_S
from bot.adapters.slack.tasks import AcksFirst
from bot.ports import Claims
from bot.service import QAService

log = logging.getLogger("kubebot.slack")


def build_client(settings: SlackSettings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client: KUBEBOT_SLACK_API_URL when set, 429/5xx retried with backoff, and a
    time limit per try (a hanging Slack is given up on, and the reply kept in the outbox).

    With `session`, every call (and every response_url post) reuses its connections.
    """
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url or AsyncWebClient.BASE_URL,
        session=session,
        timeout=int(SEND_TIMEOUT_S),
        logger=logging.getLogger("kubebot.slack.sdk"),
        retry_handlers=retry_handlers(),
    )


def _tokenless(client: AsyncWebClient) -> AsyncWebClient:
    return AsyncWebClient(
        base_url=client.base_url,
        session=client.session,
        timeout=client.timeout,
        logger=client.logger,
        retry_handlers=client.retry_handlers,
    )


def build_app(
    service: QAService,
    settings: SlackSettings,
    client: AsyncWebClient | None = None,
    *,
    background: PostAckTasks | None = None,
    claims: Claims | None = None,
    authorization: StartupAuthorization | None = None,
    outbox: Outbox | None = None,
) -> AsyncApp:
    """The kubebot Slack app; pass `background` to wait for or cancel the post-ack work,
    `claims` (shared by all replicas) so that several HTTP replicas answer each event once,
    `authorization` (checked at start-up) so that no request calls auth.test, and `outbox` to
    choose where undelivered replies wait (default: in memory)."""
    client = client or build_client(settings)
    app = AsyncApp(
        name="kubebot",
        # With `authorize`, bolt takes the token from its result: give bolt the client without one.
        client=client if authorization is None else _tokenless(client),
        signing_secret=settings.signing_secret,
        process_before_response=True,
        logger=logging.getLogger("kubebot.slack.bolt"),
        authorize=authorization.authorize() if authorization is not None else None,
        # Over HTTP, web.build_web_app checks the signature on the raw bytes before anything is
        # parsed (and may then re-encode the body for bolt); Socket Mode needs no signature.
        request_verification_enabled=False,
    )
    background = background if background is not None else PostAckTasks()
    seen = SeenKeys(settings.dedupe_ttl, shared=claims)
    app.use(AcksFirst(background))  # first: a duplicate is acked too
    app.use(EventDedupe(seen))
    messages = MessageHandlers(service, settings, outbox or Outbox(client), background, seen)
    clicks = ClickHandlers(messages)
    _register(app, settings, messages, clicks)
    return app


def _register(
    app: AsyncApp, settings: SlackSettings, messages: MessageHandlers, clicks: ClickHandlers
) -> None:
    async def on_command(args: AsyncArgs) -> None:
        await args.ack()
        messages.on_command(args.body)

    async def on_action(args: AsyncArgs) -> None:
        await args.ack()
        if args.action is not None:
            clicks.on_click(args.body, args.action)

    async def on_mention(args: AsyncArgs) -> None:
        if args.event is not None:
            messages.on_mention(args.event, args.context.bot_user_id)

    async def on_message(args: AsyncArgs) -> None:
        if args.event is not None:
            messages.on_message(args.event, args.context.bot_user_id)

    async def on_member_joined(args: AsyncArgs) -> None:
        if args.event is not None:
            messages.on_member_joined(args.event, args.context.bot_user_id)

    async def on_home_opened(args: AsyncArgs) -> None:
        if args.event is not None:
            messages.on_home_opened(args.event)

    async def on_error(error: Exception) -> None:
        log.error("event=slack_listener_error error=%s detail=%s", type(error).__name__, str(error)[:200])

    app.command(settings.command)(on_command)
    app.action(act.ANY_PATTERN)(on_action)  # every kubebot button, including ones from older versions
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("member_joined_channel")(on_member_joined)
    app.event("app_home_opened")(on_home_opened)
    app.error(on_error)
