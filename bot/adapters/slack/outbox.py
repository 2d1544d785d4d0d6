"""Everything the adapter sends to Slack, and the background tasks that send it after the ack.

Web API calls go through one `AsyncWebClient` whose retry handlers honour 429 Retry-After and
retry 5xx with backoff; `response_url` posts get the same handlers. A failed send is logged
(`event=slack_send_failed`) and reported as False: a reply that cannot be delivered never
crashes the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.blocks import SlackMessage

log = logging.getLogger("kubebot.slack")

# Errors that mean "post it another way" (the bot is not in the channel), not "Slack is down".
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def retry_handlers() -> list[AsyncRetryHandler]:
    """Connection errors once, 429 twice (sleeping Retry-After), 500/503 twice with backoff."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(
            max_retry_count=2, interval_calculator=BackoffRetryIntervalCalculator(0.5)
        ),
    ]


class SendError(Exception):
    """A Slack call failed after its retries; `code` is Slack's error string or the HTTP status."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Outbox:
    """Sends rendered messages; every method logs and returns False instead of raising."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._handlers = retry_handlers()

    async def post(
        self, channel: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> bool:
        """chat.postMessage each message (in a thread when thread_ts is given)."""
        try:
            await self.post_or_raise(channel, messages, thread_ts=thread_ts)
        except SendError:
            return False
        return True

    async def post_or_raise(
        self, channel: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> None:
        for message in messages:
            await self._call(
                "chat.postMessage",
                self.client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.block_dicts(),
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                ),
            )

    async def post_ephemeral(self, channel: str, user: str, messages: Sequence[SlackMessage]) -> bool:
        try:
            for message in messages:
                await self._call(
                    "chat.postEphemeral",
                    self.client.chat_postEphemeral(
                        channel=channel, user=user, text=message.text, blocks=message.block_dicts()
                    ),
                )
        except SendError:
            return False
        return True

    async def publish_home(self, user_id: str, view: View) -> bool:
        try:
            await self._call("views.publish", self.client.views_publish(user_id=user_id, view=view))
        except SendError:
            return False
        return True

    async def respond(
        self,
        response_url: str,
        messages: Sequence[SlackMessage],
        *,
        public: bool = False,
        replace_original: bool = False,
    ) -> bool:
        """Post to a response_url (ephemeral unless public); only the first message replaces the original."""
        for i, message in enumerate(messages):
            body: dict[str, Any] = {
                "text": message.text,
                "blocks": message.block_dicts(),
                "response_type": "in_channel" if public else "ephemeral",
                "replace_original": replace_original and i == 0,
            }
            if not await self._webhook(response_url, body):
                return False
        return True

    async def delete_original(self, response_url: str) -> bool:
        return await self._webhook(response_url, {"delete_original": True})

    async def _webhook(self, response_url: str, body: dict[str, Any]) -> bool:
        # The Web API client's session when it has one (run_slack shares one), else one per call.
        webhook = AsyncWebhookClient(
            url=response_url, session=self.client.session, retry_handlers=list(self._handlers)
        )
        try:
            response = await webhook.send_dict(body)
        except Exception as exc:  # network errors after retries: log, never raise
            log.warning("event=slack_send_failed method=response_url error=%s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning(
                "event=slack_send_failed method=response_url status=%s error=%s",
                response.status_code,
                (response.body or "")[:100].replace(" ", "_"),
            )
            return False
        return True

    async def _call(self, method: str, call: Coroutine[Any, Any, Any]) -> None:
        try:
            await call
        except SlackApiError as exc:
            code = str(exc.response.get("error") or exc.response.status_code)
            log.warning("event=slack_send_failed method=%s error=%s", method, code)
            raise SendError(code) from None
        except Exception as exc:
            log.warning("event=slack_send_failed method=%s error=%s", method, type(exc).__name__)
            raise SendError(type(exc).__name__) from None


class Background:
    """Work started after the ack: tracked (so it is not garbage-collected), logged when it fails,
    and drained on shutdown and in tests."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=f"kubebot-slack-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for the running tasks (and any they start); False if some were still running at timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event=slack_task_failed task=%s", name)
