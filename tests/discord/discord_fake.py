"""A local stand-in for Discord's REST API (aiohttp, 127.0.0.1, port 0) that records every request.

discord.py is pointed at it by patching `discord.http.Route.BASE`, so tests assert on the JSON
discord.py really sends. Canned failures (429 with Via + retry_after, 403, ...) can be queued per route.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.helpers import serve_on_loopback

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
OWNER_ID = 900000000000000003
TIMESTAMP = "2024-05-01T12:00:00.000000+00:00"

BOT_USER = {
    "id": str(BOT_ID),
    "username": "kubebot",
    "discriminator": "0",
    "global_name": "kubebot",
    "avatar": None,
    "bot": True,
    "flags": 0,
    "mfa_enabled": False,
    "verified": True,
}


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, bytes) of a multipart upload

    @property
    def data(self) -> dict[str, Any]:
        """The message-ish part: `data` of an interaction callback, else the body itself."""
        if isinstance(self.body, dict) and "type" in self.body and "data" in self.body:
            return dict(self.body["data"] or {})
        return dict(self.body) if isinstance(self.body, dict) else {}


@dataclass
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeDiscord:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._canned: list[tuple[str, re.Pattern[str], Canned]] = []
        self._ids = itertools.count(910000000000000000)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- control ------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def next_id(self) -> str:
        return str(next(self._ids))

    def queue(
        self, method: str, path_regex: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        """The next matching request gets this response instead of the normal one."""
        self._canned.append((method, re.compile(path_regex), Canned(status, body, headers or {})))

    def rate_limit(self, method: str, path_regex: str, retry_after: float) -> None:
        """A real-looking 429: Discord's body, and the Via header discord.py checks for (not Cloudflare)."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        headers = {"Via": "1.1 google", "Retry-After": str(retry_after), "X-RateLimit-Scope": "user"}
        self.queue(method, path_regex, 429, body, headers)

    def matching(self, method: str, path_regex: str) -> list[Recorded]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    async def wait_for(
        self, method: str, path_regex: str, count: int = 1, timeout: float = 3.0
    ) -> list[Recorded]:
        """Poll until `count` matching requests arrived (handlers finish after the dispatch returns)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.matching(method, path_regex)
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                seen = [f"{r.method} {r.path}" for r in self.requests]
                raise AssertionError(
                    f"expected {count} x {method} {path_regex}, got {len(found)}; seen {seen}"
                )
            await asyncio.sleep(0.01)

    async def settle(self, predicate: Callable[[], bool] | None = None, timeout: float = 0.3) -> None:
        """Give pending handler tasks a moment (used to assert that nothing was sent)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if predicate is not None and predicate():
                return
            await asyncio.sleep(0.01)

    # -- server -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner, self.port = await serve_on_loopback(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        body: Any = json.loads(raw) if raw and request.content_type == "application/json" else None
        files: list[tuple[str, bytes]] = []
        if request.content_type == "multipart/form-data":
            body, files = parse_multipart(request.headers["Content-Type"], raw)
        self.requests.append(Recorded(request.method, path, dict(request.query), body, files))
        for i, (method, pattern, canned) in enumerate(self._canned):
            if method == request.method and pattern.fullmatch(path):
                del self._canned[i]
                return _json(canned.body, canned.status, canned.headers)
        status, payload = self._route(request.method, path, body)
        if status == 204:
            return web.Response(status=204)
        return _json(payload, status)

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/users/@me":
            return 200, BOT_USER
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, application()
        if method == "PUT" and (m := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)):
            return 200, [
                {
                    **cmd,
                    "id": self.next_id(),
                    "application_id": m[1],
                    "version": "1",
                    "type": cmd.get("type", 1),
                    **({"guild_id": m[2]} if m[2] else {}),
                }
                for cmd in body
            ]
        if method == "POST" and (m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)):
            return 200, self._callback(m[1], body)
        if method == "POST" and (m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)", path)):
            return 200, self.message(body, channel_id="0")
        if method == "PATCH" and re.fullmatch(r"/webhooks/(\d+)/([^/]+)/messages/[^/]+", path):
            return 200, self.message(body, channel_id="0")
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return 200, self.message(body, channel_id=m[1])
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)):
            return 201, thread_channel(self.next_id(), parent_id=m[1], name=body.get("name", ""))
        if method == "GET" and (m := re.fullmatch(r"/channels/(\d+)", path)):
            return 200, text_channel(m[1])
        return 404, {"message": "Unknown route in fake", "code": 0}

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body["type"]
        data = body.get("data") or {}
        flags = int(data.get("flags", 0) or 0)
        message_id = self.next_id()
        result: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": message_id,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if kind in (4, 7):
            result["resource"] = {
                "type": kind,
                "message": self.message(data, channel_id="0", message_id=message_id),
            }
        return result

    def message(self, body: Any, *, channel_id: str, message_id: str | None = None) -> dict[str, Any]:
        body = body or {}
        kind = 19 if body.get("message_reference") else 0
        return bot_message(body, channel_id=channel_id, message_id=message_id or self.next_id(), kind=kind)


def parse_multipart(content_type: str, raw: bytes) -> tuple[Any, list[tuple[str, bytes]]]:
    """What discord.py sends with files: `payload_json` (the message) and `files[N]` parts."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    body: Any = None
    files: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        if name == "payload_json":
            body = json.loads(data)
        elif isinstance(name, str) and name.startswith("files["):
            files.append((str(part.get_filename()), data))
    return body, files


def attachments_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The attachments of a sent message as Discord returns them (with CDN URLs)."""
    return [
        {
            "id": str(910000000000001000 + int(a.get("id", 0))),
            "filename": a["filename"],
            "description": a.get("description"),
            "size": 1,
            "url": f"https://cdn.discordapp.test/attachments/{a['filename']}",
            "proxy_url": f"https://media.discordapp.test/attachments/{a['filename']}",
            "content_type": "image/png",
        }
        for a in body.get("attachments") or []
        if "filename" in a
    ]


def bot_message(body: dict[str, Any], *, channel_id: str, message_id: str, kind: int) -> dict[str, Any]:
    """A message of the bot's, as Discord returns it, built from what the bot sent."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "author": BOT_USER,
        "content": body.get("content") or "",
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "flags": body.get("flags", 0) or 0,
        "type": kind,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments_of(body),
        "pinned": False,
    }


def _json(payload: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    # Discord answers with exactly "application/json" (no charset), which discord.py compares literally.
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def application() -> dict[str, Any]:
    return {
        "id": str(APP_ID),
        "name": "kubebot",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": {"id": str(OWNER_ID), "username": "owner", "discriminator": "0", "avatar": None},
        "verify_key": "0" * 64,
        "flags": 0,
        "summary": "",
        "team": None,
        "rpc_origins": [],
    }


def text_channel(channel_id: str, guild_id: str | None = None, name: str = "general") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": channel_id,
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "topic": None,
        "last_message_id": None,
        "flags": 0,
    }
    if guild_id:
        data["guild_id"] = guild_id
    return data


def thread_channel(
    thread_id: str, *, parent_id: str, name: str, guild_id: str | None = None
) -> dict[str, Any]:
    data = {
        "id": thread_id,
        "type": 11,
        "parent_id": parent_id,
        "owner_id": str(BOT_ID),
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": TIMESTAMP,
            "locked": False,
        },
    }
    if guild_id:
        data["guild_id"] = guild_id
    return data
