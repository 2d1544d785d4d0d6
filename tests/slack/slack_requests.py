"""Requests as Slack sends them to the bot: form-encoded slash commands, JSON Events API
callbacks and `payload=` block actions, signed with the signing secret (X-Slack-Signature)."""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
import uuid
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from .slack_fakes import BOT_USER, SECRET, TEAM


class SlackSender:
    """Posts to the bot's /slack/events like Slack does, signed with the signing secret."""

    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str = SECRET) -> None:
        self.session = session
        self.url = url
        self.verifier = SignatureVerifier(secret)
        self._ids = itertools.count(1)

    def signed_headers(self, body: str, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body) or "",
        }

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        sent = headers if headers is not None else self.signed_headers(body, content_type)
        async with self.session.post(self.url, data=body.encode(), headers=sent) as resp:
            return resp.status, await resp.text()

    async def command(
        self, text: str, *, response_url: str, command: str = "/kube", user: str = "U1", channel: str = "C1"
    ) -> tuple[int, str]:
        return await self.post(
            *command_body(text, response_url=response_url, command=command, user=user, channel=channel)
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> tuple[int, str]:
        body = json.dumps(event_callback(event, event_id or f"Ev{next(self._ids):06d}"))
        headers = self.signed_headers(body, "application/json")
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, "application/json", headers)

    async def click(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        return await self.post(body, "application/x-www-form-urlencoded")


_TRIGGERS = itertools.count(1)


def command_body(
    text: str,
    *,
    response_url: str,
    command: str = "/kube",
    user: str = "U1",
    channel: str = "C1",
    trigger_id: str | None = None,
) -> tuple[str, str]:
    """A slash command's form fields; each gets its own trigger_id, as from Slack."""
    fields = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": "ann",
        "command": command,
        "text": text,
        "api_app_id": "A0001",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_TRIGGERS)}.1234.{uuid.uuid4().hex[:16]}",
    }
    return urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"


def app_mention(question: str, ts: str, channel: str = "C1", **extra: str) -> dict[str, str]:
    """An ``app_mention`` event: user U1 asks the bot `question` in `channel`."""
    text = f"<@{BOT_USER}> {question}"
    return {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": channel} | extra


def event_callback(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def click_payload(
    action_id: str,
    value: str,
    *,
    response_url: str | None,
    user: str = "U1",
    channel: str = "C1",
    ephemeral: bool = True,
    home: bool = False,
    message_ts: str = "1700000000.000100",
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "test"},
        "api_app_id": "A0001",
        "token": "legacy",
        "user": {"id": user, "username": "ann", "team_id": TEAM},
        "trigger_id": "1.2.3",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": "1700000001.0001",
            }
        ],
    }
    if home:
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "private_metadata": "", "blocks": []}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        payload["channel"] = {
            "id": channel,
            "name": "directmessage" if channel.startswith("D") else "general",
        }
        if not ephemeral:
            payload["message"] = {"type": "message", "ts": message_ts, "text": "x", "user": BOT_USER}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload
