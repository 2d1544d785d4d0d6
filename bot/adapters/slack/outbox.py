"""Everything the adapter sends to Slack; a reply Slack does not take is kept and sent again.

A send is tried in line with slack_sdk's retry handlers (`retry.inline_handlers`: connection
errors, short 429s, 500/502/503/504). A reply that still fails for a transient reason (Slack
down, a long Retry-After, a hang) goes to the `ReplyOutbox` (`bot.ports`), where
`redeliver.Redelivery` tries it again later; a reply Slack refuses for good (channel_not_found,
invalid_blocks...) is given up at once. Either way one line is logged (`event=slack_send_failed`)
and nothing is raised: a reply that cannot be delivered never crashes the app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.blocks import SlackMessage
from bot.adapters.slack.retry import (
    RESPONSE_URL_TTL,
    RETRYABLE_STATUS,
    SEND_TIMEOUT_S,
    RetrySchedule,
    inline_handlers,
    retry_after,
)
from bot.adapters.slack.tasks import PostAckTasks
from bot.metrics import METRICS, Metrics
from bot.ports import MemoryOutbox, PendingReply, ReplyOutbox

log = logging.getLogger("kubebot.slack")

# Errors that mean "post it another way" (the bot is not in the channel), not "Slack is down".
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# `ok: false` errors that Slack documents as its own trouble: worth trying again later.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
RESPONSE_URL = "response_url"


def retry_handlers() -> list[AsyncRetryHandler]:
    """The in-line retry handlers every Web API client gets (see `retry.inline_handlers`)."""
    return inline_handlers()


class SendError(Exception):
    """A Slack call failed after its retries; `code` is Slack's error string or the HTTP status."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one send went: delivered, or not (`transient`: worth trying again; `wait`: Retry-After)."""

    ok: bool
    code: str = ""
    transient: bool = False
    wait: float | None = None


def _client(client: AsyncWebClient, handlers: list[AsyncRetryHandler]) -> AsyncWebClient:
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        session=client.session,
        timeout=int(SEND_TIMEOUT_S),
        logger=client.logger,
        retry_handlers=handlers,
    )


class Outbox:
    """Sends rendered messages. Durable sends (`post`, `post_ephemeral`, `respond`) return True
    when Slack took the reply now, False when it was deferred or refused; they never raise."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pending: ReplyOutbox | None = None,
        schedule: RetrySchedule | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.pending: ReplyOutbox = pending if pending is not None else MemoryOutbox()
        self.schedule = schedule or RetrySchedule()
        self.clock = clock
        self.metrics = metrics or METRICS
        self._api = _client(client, self.schedule.handlers("chat.postMessage"))
        self._webhook_retries = self.schedule.handlers(RESPONSE_URL)  # stateless: shared by every post
        self._api_once = _client(client, [])

    # -- durable sends -------------------------------------------------------------------------
    async def post(
        self,
        channel: str,
        messages: Sequence[SlackMessage],
        *,
        thread_ts: str | None = None,
        key: str | None = None,
    ) -> bool:
        """chat.postMessage each message (in a thread when thread_ts is given)."""
        bodies = [self._message_body(channel, m, thread_ts) for m in messages]
        return await self._deliver_all("chat.postMessage", channel, bodies, key)

    async def post_ephemeral(
        self, channel: str, user: str, messages: Sequence[SlackMessage], *, key: str | None = None
    ) -> bool:
        bodies: list[dict[str, Any]] = [
            {"channel": channel, "user": user, "text": m.text, "blocks": m.block_dicts()} for m in messages
        ]
        return await self._deliver_all("chat.postEphemeral", channel, bodies, key)

    async def respond(
        self,
        response_url: str,
        messages: Sequence[SlackMessage],
        *,
        public: bool = False,
        replace_original: bool = False,
        key: str | None = None,
    ) -> bool:
        """ONE post to a response_url (ephemeral unless public): Slack takes five per interaction,
        so a reply is rendered to fit one message (`render_reply(..., max_messages=1)`)."""
        if not messages:
            return True
        if len(messages) > 1:
            log.warning("event=slack_reply_cut method=response_url messages=%d sent=1", len(messages))
        message = messages[0]
        body: dict[str, Any] = {
            "text": message.text,
            "blocks": message.block_dicts(),
            "response_type": "in_channel" if public else "ephemeral",
            "replace_original": replace_original,
        }
        expires = self.clock() + RESPONSE_URL_TTL
        return await self._deliver(RESPONSE_URL, response_url, body, key or _new_key(), expires) == "sent"

    # -- sends that are not worth keeping ------------------------------------------------------
    async def post_or_raise(
        self, channel: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> None:
        """chat.postMessage each message; raise SendError (the caller falls back) on failure."""
        for message in messages:
            result = await self.attempt(
                "chat.postMessage", channel, self._message_body(channel, message, thread_ts)
            )
            if not result.ok:
                log.warning("event=slack_send_failed method=chat.postMessage error=%s", result.code)
                raise SendError(result.code)

    async def publish_home(self, user_id: str, view: View) -> bool:
        result = await self.attempt("views.publish", user_id, {"user_id": user_id, "view": view.to_dict()})
        if not result.ok:
            log.warning("event=slack_send_failed method=views.publish error=%s", result.code)
        return result.ok

    async def delete_original(self, response_url: str) -> bool:
        result = await self.attempt(RESPONSE_URL, response_url, {"delete_original": True})
        if not result.ok:
            log.warning("event=slack_send_failed method=response_url error=%s", result.code)
        return result.ok

    # -- one try -------------------------------------------------------------------------------
    async def attempt(
        self, method: str, target: str, body: dict[str, Any], *, inline: bool = True
    ) -> Attempt:
        """Send once (with the in-line retries unless `inline` is False); never raises."""
        try:
            if method == RESPONSE_URL:
                return await self._webhook(target, body, inline)
            await (self._api if inline else self._api_once).api_call(method, json=body)
            return Attempt(True)
        except SlackApiError as exc:
            status = int(exc.response.status_code)
            error = str(exc.response.get("error") or status) if isinstance(exc.response.data, dict) else ""
            code = error or str(status)
            transient = status in RETRYABLE_STATUS or error in TRANSIENT_ERRORS
            return Attempt(False, code, transient, retry_after(exc.response.headers))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Attempt(False, type(exc).__name__, transient=True)
        except Exception as exc:  # a bug or an unexpected library error: never worth a crash
            log.exception("event=slack_send_error method=%s", method)
            return Attempt(False, type(exc).__name__)

    async def _webhook(self, url: str, body: dict[str, Any], inline: bool) -> Attempt:
        handlers = self._webhook_retries if inline else []
        webhook = AsyncWebhookClient(
            url=url, session=self.client.session, timeout=int(SEND_TIMEOUT_S), retry_handlers=handlers
        )
        response = await webhook.send_dict(body)
        if response.status_code == 200:
            return Attempt(True)
        code = f"{response.status_code}:{(response.body or '')[:60].replace(' ', '_')}"
        return Attempt(False, code, response.status_code in RETRYABLE_STATUS, retry_after(response.headers))

    # -- durable delivery ----------------------------------------------------------------------
    async def _deliver_all(
        self, method: str, target: str, bodies: Sequence[dict[str, Any]], key: str | None
    ) -> bool:
        """Send the messages of one reply in order; once one is deferred, the rest follow it."""
        base, expires = key or _new_key(), self.clock() + self.schedule.max_age
        for i, body in enumerate(bodies):
            part = base if len(bodies) == 1 else f"{base}#{i}"
            outcome = await self._deliver(method, target, body, part, expires)
            if outcome == "deferred":
                for j, rest in enumerate(bodies[i + 1 :], start=i + 1):
                    await self._defer(method, target, rest, f"{base}#{j}", expires, "after_part", order=j)
            if outcome != "sent":
                return False
        return True

    async def _deliver(
        self, method: str, target: str, body: dict[str, Any], key: str, expires_at: float
    ) -> str:
        """ "sent", "deferred" (in the outbox) or "failed" (refused by Slack: given up)."""
        try:
            result = await self.attempt(method, target, body)
        except asyncio.CancelledError:  # shutting down mid-send: keep the reply for later
            await self._defer(method, target, body, key, expires_at, "shutdown")
            raise
        if result.ok:
            return "sent"
        if result.transient:
            await self._defer(method, target, body, key, expires_at, result.code, wait=result.wait)
            return "deferred"
        log.warning("event=slack_send_failed method=%s error=%s then=given_up", method, result.code)
        self.metrics.replies_given_up.labels("slack", "rejected").inc()
        return "failed"

    async def _defer(
        self,
        method: str,
        target: str,
        body: dict[str, Any],
        key: str,
        expires_at: float,
        code: str,
        *,
        wait: float | None = None,
        order: int = 0,
    ) -> None:
        now = self.clock()
        reply = PendingReply(
            key=key,
            platform="slack",
            method=method,
            target=target,
            body=json.dumps(body, ensure_ascii=False),
            created_at=now + order * 1e-3,  # the parts of one reply stay in order
            expires_at=expires_at,
            attempts=self.schedule.inline_attempts(method),
            next_at=now + self.schedule.delay(method, 0, wait),
        )
        try:
            await asyncio.to_thread(self.pending.put, reply)
        except Exception as exc:
            log.error("event=slack_send_failed method=%s error=%s then=lost outbox_error=%s",
                      method, code, type(exc).__name__)  # fmt: skip
            self.metrics.replies_given_up.labels("slack", "outbox_unavailable").inc()
            return
        self.metrics.replies_deferred.labels("slack").inc()
        log.warning("event=slack_send_failed method=%s error=%s then=deferred key=%s", method, code, key)

    @staticmethod
    def _message_body(channel: str, message: SlackMessage, thread_ts: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.block_dicts(),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        return body


def _new_key() -> str:
    return f"slack:{uuid.uuid4().hex}"


__all__ = ["NOT_IN_CHANNEL", "Attempt", "Outbox", "PostAckTasks", "SendError", "retry_handlers"]
