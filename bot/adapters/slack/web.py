"""The HTTP endpoint Slack POSTs to (`/slack/events`): the signature is checked before the body
is parsed, so junk from the internet costs one HMAC and one log line, never a traceback.

Order per request: the `X-Slack-Request-Timestamp` must be digits within Slack's 5-minute
window and `X-Slack-Signature` must match the raw body (slack_sdk's `SignatureVerifier`), else
401; then the body must parse as Slack sends it (JSON object, form fields or `payload=` JSON
object), else 400; only then does bolt see it. This is the HTTP path's one signature check:
the bolt app is built without its own (`app.build_app`), as Socket Mode needs none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, unquote_plus

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.metrics import METRICS, Metrics

log = logging.getLogger("kubebot.slack")

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KB; aiohttp answers 413 above this
_INVALID = '{"error": "invalid request"}'


def _reject(status: int, reason: str, metrics: Metrics, request: web.Request) -> web.Response:
    metrics.requests_rejected.labels(reason).inc()
    log.warning(
        "event=slack_request_rejected status=%d reason=%s bytes=%s",
        status,
        reason,
        request.content_length if request.content_length is not None else "-",
    )
    body = _INVALID if status == 401 else '{"error": "malformed request"}'
    return web.Response(status=status, text=body, content_type="application/json")


def signature_problem(
    verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]
) -> tuple[str, str] | None:
    """None for a correctly signed body; else (reason, decoded text or "")."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        return "unsigned", ""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "bad_timestamp", ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8", ""
    if not verifier.is_valid(text, timestamp, signature):
        return "bad_signature", ""
    return None


def parse_problem(text: str, content_type: str) -> str | None:
    """What is wrong with a signed body, as bolt would parse it; None when it is a Slack payload."""
    if not text:
        return "empty"
    try:
        if content_type == "application/json" or text.startswith(("{", "[")):
            parsed = json.loads(text)
        else:
            has_fields, payload = _form_shape(text)
            if payload is None:
                return None if has_fields else "not_an_object"
            parsed = json.loads(payload)
    except ValueError:
        return "malformed"
    return None if isinstance(parsed, dict) and parsed else "not_an_object"


def _form_shape(text: str) -> tuple[bool, str | None]:
    """For a form body: whether it has any field, and its `payload` field (the last one), exactly
    as `dict(parse_qsl(text, keep_blank_values=True))` would give them, without decoding the
    other values (a slash command's text and response_url: most of the work, every request)."""
    has_fields, payload = False, None
    for part in text.split("&"):
        if not part:
            continue
        has_fields = True
        name, _, value = part.partition("=")
        if unquote_plus(name) == "payload":
            payload = value
    return has_fields, None if payload is None else unquote_plus(payload)


def _bolt_safe(text: str, content_type: str) -> str:
    """Work around bolt's parse_body, which takes any form body containing the letters "payload"
    for a `payload=` body and returns {} when there is no such field: `/kube what is a payload`
    would go unanswered. Percent-encoding one letter parses to the same fields. The signature
    was checked on the original bytes above (bolt's own check is off, see app.build_app)."""
    if content_type == "application/json" or text.startswith("{") or "payload" not in text:
        return text
    if any(key == "payload" for key, _ in parse_qsl(text, keep_blank_values=True)):
        return text
    return text.replace("payload", "%70ayload")


def build_web_app(
    app: AsyncApp,
    path: str = EVENTS_PATH,
    *,
    signing_secret: str,
    metrics: Metrics | None = None,
    mount: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """An aiohttp application serving the bolt app at `path`, verifying before parsing; `mount`
    may add more routes next to it (the maintainer console, `bot.console.mount`)."""
    counters = metrics or METRICS
    verifier = SignatureVerifier(signing_secret)

    async def events(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        problem = signature_problem(verifier, raw, request.headers)
        if problem is not None:
            return _reject(401, problem[0], counters, request)
        text = raw.decode("utf-8")
        bad = parse_problem(text, request.content_type)
        if bad is not None:
            return _reject(400, bad, counters, request)
        text = _bolt_safe(text, request.content_type)
        try:
            bolt_request = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]  # as bolt's aiohttp adapter does
            )
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return _reject(400, "unexpected_shape", counters, request)
        response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(path, events)
    if mount is not None:
        mount(web_app)
    return web_app
