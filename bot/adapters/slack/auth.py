"""Authorise once, at start-up: bolt's `AuthorizeResult` is built from the start-up `auth.test`.

Without this, bolt's single-team authorisation calls `auth.test` on the first request, so that
request's ack waits on Slack (and fails with "reinstall this app" when Slack answers 429/500 or
hangs at that moment). Here `check()` runs `auth.test` before the app serves; every request then
gets the cached result with no I/O. When start-up could not reach Slack (not a rejected token,
which is a ConfigError), requests are authorised from what they carry (team, enterprise) with
the bot token, and `auth.test` is tried again in the background until it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import ConfigError

log = logging.getLogger("kubebot.slack")

BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})
REFRESH_EVERY_S = 30.0


class StartupAuthorization:
    """bolt's `authorize=` callable for one workspace and one bot token."""

    def __init__(self, client: AsyncWebClient, *, refresh_every: float = REFRESH_EVERY_S) -> None:
        self.client = client
        self.token = client.token or ""
        self.refresh_every = refresh_every
        self.auth_test: AsyncSlackResponse | None = None
        self._refresh: asyncio.Task[None] | None = None

    @property
    def bot_user_id(self) -> str | None:
        return str(self.auth_test["user_id"]) if self.auth_test is not None else None

    async def check(self) -> None:
        """Call auth.test once. Raises ConfigError for a rejected token; other failures (Slack
        unreachable) are logged and retried in the background while the app serves."""
        try:
            self._remember(await self.client.auth_test())
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in BAD_TOKEN:
                raise ConfigError(
                    f"Slack rejected SLACK_BOT_TOKEN ({error}); reinstall the app and copy the token"
                ) from None
            log.warning("event=slack_auth_test_failed error=%s then=retry_in_background", error)
            self._start_refresh()
        except Exception as exc:
            log.warning("event=slack_auth_test_failed error=%s then=retry_in_background", type(exc).__name__)
            self._start_refresh()

    def authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """The function for `AsyncApp(authorize=...)` (bolt passes arguments by parameter name)."""

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            return self.result(enterprise_id, team_id, user_id)

        return authorize

    def result(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        """The start-up auth.test as an AuthorizeResult; no I/O."""
        if self.auth_test is not None:
            result = AuthorizeResult.from_auth_test_response(
                bot_token=self.token,
                auth_test_response=self.auth_test,
                bot_scopes=self.auth_test.headers.get("x-oauth-scopes"),
            )
            result["user_id"] = result.user_id = user_id  # the person behind this request
            return result
        self._start_refresh()
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=self.token, user_id=user_id
        )

    async def aclose(self) -> None:
        task, self._refresh = self._refresh, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _remember(self, response: Any) -> None:
        self.auth_test = response
        log.info(
            "event=slack_authorized team=%s bot_user=%s", response.get("team_id"), response.get("user_id")
        )

    def _start_refresh(self) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(
                self._refresh_loop(), name="kubebot-auth-test"
            )

    async def _refresh_loop(self) -> None:
        while self.auth_test is None:
            await asyncio.sleep(self.refresh_every)
            try:
                self._remember(await self.client.auth_test())
            except Exception as exc:
                code = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                log.warning("event=slack_auth_test_failed error=%s then=retry_in_background", code)
