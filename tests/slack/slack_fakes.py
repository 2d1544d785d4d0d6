"""Test doubles for Slack, all real HTTP on 127.0.0.1:

- `FakeSlack`: the Web API (`/api/<method>`), `response_url`s (`/response/<id>`), file upload URLs
  (`/upload/<file id>`, handed out by files.getUploadURLExternal) and the Socket Mode WebSocket
  (`/link`). It records every call (unless made with `record=False`, as the fault benchmark's is:
  thousands of calls nobody reads), checks every message against Slack's Block Kit limits and for
  unescaped pings, counts accepted replies per thread or response_url (`answers`), and can be told
  to fail (429 with Retry-After, 5xx, `ok: false`), to be down (`outage`: every call, or those of
  some methods, gets that status, for good or for some seconds), to hang (`hang`: no answer until
  `release`, or for some seconds) or to refuse connections (`down` until `up`).
- `MemoryRecorder`: an in-memory `bot.ports.Recorder`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.helpers import MemoryRecorder  # noqa: F401  (re-exported)

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"
SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-token"
PINGS = ("<!channel", "<!here", "<!everyone", "<!subteam")


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    data: dict[str, Any]
    path: str
    auth: str = ""
    status: int = 200  # what the fake answered (a scripted failure or an outage: not 200)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Outage:
    status: int
    methods: frozenset[str]  # empty: every call
    until: float = math.inf  # time.monotonic()
    headers: dict[str, str] = field(default_factory=dict)

    def covers(self, method: str) -> bool:
        return (not self.methods or method in self.methods) and time.monotonic() < self.until


def block_problems(blocks: list[dict[str, Any]], max_blocks: int = 50) -> list[str]:
    """What Slack would reject in these blocks (the documented Block Kit limits)."""
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if len(block["text"]["text"]) > 3000:
                problems.append(f"section text {len(block['text']['text'])} > 3000")
        elif kind == "header":
            if block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > 150:
                problems.append("header text must be plain_text of at most 150 characters")
        elif kind == "context":
            if len(block["elements"]) > 10 or any(len(e.get("text", "")) > 3000 for e in block["elements"]):
                problems.append("context too long")
        elif kind == "actions":
            elements = block["elements"]
            if len(elements) > 25:
                problems.append(f"{len(elements)} elements in an actions block > 25")
            ids = [e["action_id"] for e in elements]
            if len(set(ids)) != len(ids):
                problems.append(f"duplicate action ids in a block: {ids}")
            for element in elements:
                if len(element["text"]["text"]) > 75:
                    problems.append(f"button text {len(element['text']['text'])} > 75")
                if len(element.get("value", "")) > 2000:
                    problems.append("button value > 2000")
                if len(element["action_id"]) > 255:
                    problems.append("action_id > 255")
    return problems


def texts_of(data: dict[str, Any]) -> list[str]:
    """Every mrkdwn / plain text string in a message or view."""
    out = [str(data["text"])] if isinstance(data.get("text"), str) else []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data.get("blocks") or [])
    return out


def all_text(data: dict[str, Any]) -> str:
    return "\n".join(texts_of(data))


def action_ids(data: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in data.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def button(data: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in data.get("blocks") or []:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"] == action_id:
                    return dict(element)
    raise AssertionError(f"no button {action_id} in {action_ids(data)}")


class FakeSlack:
    def __init__(self, *, record: bool = True) -> None:
        self.record = record  # False: no `calls` (so no wait_for) and no `violations`
        self.calls: list[Call] = []
        self.violations: list[str] = []
        # reply id -> deliveries accepted: "m:<thread_ts>" (chat.postMessage), "c:<rid>" (response_url)
        self.answers: Counter[str] = Counter()
        self.answered_at: dict[str, float] = {}  # reply id -> perf_counter() of its first delivery
        self.acks: list[dict[str, Any]] = []
        self.envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.auth_error: str | None = None
        self._outage: Outage | None = None
        self._hanging: set[str] = set()
        self._released = asyncio.Event()
        self._release_timer: asyncio.TimerHandle | None = None
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes posted to its upload URL
        self._file_ids = itertools.count(1)
        self._failures: dict[str, list[Failure]] = {}
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0  # a free one, picked at start() and kept across down() and up()

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self.up()

    async def up(self) -> None:
        """Listening (again, on the same port after `down`)."""
        assert self._runner is not None and self._site is None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = int(self._runner.addresses[0][1])

    async def down(self) -> None:
        """Connections refused until `up`: the listening socket and open connections are closed."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            await self._runner.server.shutdown(0.1)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, rid: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{rid}"

    # -- scripting ------------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int,
        *,
        error: str = "fatal_error",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` get this status (and `ok: false, error` as the body)."""
        failure = Failure(status, {"ok": False, "error": error}, headers or {})
        self._failures.setdefault(method, []).extend([failure] * times)

    def outage(
        self,
        status: int | None,
        *methods: str,
        seconds: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """From now on (for `seconds`, if given) every call of `methods` (none named: every call, Web
        API and response_url) gets `status`, with `headers`; None ends the outage."""
        if status is None:
            self._outage = None
            return
        until = math.inf if seconds is None else time.monotonic() + seconds
        self._outage = Outage(status, frozenset(methods), until, headers or {})

    def hang(self, *methods: str, seconds: float | None = None) -> None:
        """Calls of these methods (e.g. "auth.test", "response_url") get no answer until release()
        (with `seconds`: until that many seconds from now, when release() is called)."""
        self._hanging.update(methods)
        self._released.clear()
        if seconds is not None:
            if self._release_timer is not None:
                self._release_timer.cancel()
            self._release_timer = asyncio.get_running_loop().call_later(seconds, self.release)

    def release(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        self._hanging.clear()
        self._released.set()

    def reset_faults(self) -> None:
        """No outage, nothing hanging (what hung is answered) and no scripted failure left."""
        self.outage(None)
        self.release()
        self._failures.clear()

    @property
    def delivered(self) -> list[Call]:
        """Replies Slack accepted (status 200, not a scripted failure)."""
        return [c for c in self.replies if c.status == 200]

    # -- assertions -----------------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def replies(self) -> list[Call]:
        """Everything the bot said: messages, ephemeral messages and response_url posts."""
        return [
            c for c in self.calls if c.method in ("chat.postMessage", "chat.postEphemeral", "response_url")
        ]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(method)) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} {method} call(s), got {[c.method for c in self.calls]}"
            ) from None
        return self.of(method)

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        async def acked() -> dict[str, Any]:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: any(a.get("envelope_id") == envelope_id for a in self.acks)
                )
            return next(a for a in self.acks if a.get("envelope_id") == envelope_id)

        return await asyncio.wait_for(acked(), timeout)

    # -- handlers --------------------------------------------------------------------------------
    async def _record(self, call: Call) -> None:
        if not self.record:
            return
        problems: list[str] = []
        if isinstance(call.data.get("blocks"), list):
            problems += block_problems(call.data["blocks"])
        view = call.data.get("view")
        if isinstance(view, dict):
            problems += block_problems(view["blocks"], max_blocks=100)
            problems += [f"unescaped ping in {t!r}" for t in texts_of(view) if any(p in t for p in PINGS)]
        problems += [f"unescaped ping in {t!r}" for t in texts_of(call.data) if any(p in t for p in PINGS)]
        self.violations += [f"{call.method}: {p}" for p in problems]
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            return dict(json.loads(raw or "{}"))
        # slack_sdk sends some methods' arguments (files.*) in the query string
        parsed = {**dict(request.query), **dict(urllib.parse.parse_qsl(raw))}
        for key in ("blocks", "view", "files"):
            if key in parsed:
                parsed[key] = json.loads(parsed[key])
        return parsed

    def _failure(self, method: str) -> Failure | None:
        outage = self._outage
        if outage is not None and outage.covers(method):
            error = "ratelimited" if outage.status == 429 else "service_unavailable"
            return Failure(outage.status, {"ok": False, "error": error}, outage.headers)
        queue = self._failures.get(method)
        return queue.pop(0) if queue else None

    async def _hold(self, method: str) -> None:
        while method in self._hanging:
            await self._released.wait()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._body(request)
        auth = request.headers.get("Authorization", "")
        await self._hold(method)
        failure = self._failure(method)
        await self._record(Call(method, data, request.path, auth, failure.status if failure else 200))
        if failure is not None:
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if auth != f"Bearer {expected}" or (method == "auth.test" and self.auth_error):
            return web.json_response({"ok": False, "error": self.auth_error or "invalid_auth"})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://t.slack.com/",
                    "team": "T",
                    "user": "kubebot",
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "bot_id": BOT_ID,
                }
            )
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})
        if "blocks" in data and block_problems(data["blocks"] if isinstance(data["blocks"], list) else []):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        if method == "chat.postMessage":
            self._answered(f"m:{data.get('thread_ts', '')}")
            return web.json_response(
                {"ok": True, "channel": data.get("channel"), "ts": f"{next(self._ts)}.000100"}
            )
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"{next(self._ts)}.000200"})
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):09d}"
            upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return web.json_response({"ok": True, "upload_url": upload_url, "file_id": file_id})
        if method == "files.completeUploadExternal":
            files = [{"id": f["id"], "title": f.get("title", "")} for f in data.get("files") or []]
            unknown = [f["id"] for f in files if f["id"] not in self.uploads]
            if unknown:
                return web.json_response({"ok": False, "error": "file_not_found"})
            return web.json_response({"ok": True, "files": files})
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        raw = await request.read()
        await self._record(Call("upload", {"file_id": file_id, "length": len(raw)}, request.path))
        failure = self._failure("upload")
        if failure is not None:
            return web.Response(status=failure.status, text=failure.body["error"])
        self.uploads[file_id] = raw
        return web.Response(text=f"OK - {len(raw)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        await self._hold("response_url")
        failure = self._failure("response_url")
        await self._record(
            Call("response_url", data, request.path, status=failure.status if failure else 200)
        )
        if failure is not None:
            return web.Response(status=failure.status, text=failure.body["error"], headers=failure.headers)
        self._answered(f"c:{request.match_info['rid']}")
        return web.Response(text="ok")

    def _answered(self, reply: str) -> None:
        self.answers[reply] += 1
        self.answered_at.setdefault(reply, time.perf_counter())

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})

        async def push() -> None:
            while True:
                await ws.send_json(await self.envelopes.get())

        pusher = asyncio.create_task(push())
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    async with self._changed:
                        self.acks.append(json.loads(msg.data))
                        self._changed.notify_all()
        finally:
            pusher.cancel()
        return ws
