"""Who may see the console: the token (Bearer header or login cookie), security headers, Host check.

- Token set: every request but the login form, the stylesheet and /healthz needs it, as
  ``Authorization: Bearer TOKEN`` (scripts) or the cookie the login form sets (HttpOnly,
  SameSite=Strict). The cookie holds an expiry and an HMAC of it keyed by the token, never the
  token; both are compared with `hmac.compare_digest`.
- No token (only allowed on loopback): the Host header must name a loopback host, so a web page
  elsewhere cannot reach the console through DNS rebinding.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.console.config import ConsoleSettings, is_loopback

log = logging.getLogger("kubebot.console")

COOKIE = "kubebot_console"
SESSION_SECONDS = 12 * 3600
MAX_FORM_BYTES = 4096
PUBLIC_PATHS = ("/login", "/healthz", "/static/console.css")

LoginPage = Callable[[web.Request, str, int, str], web.Response]  # request, error, status, next

SECURITY_HEADERS = {
    # no scripts at all; styles and images only from the console itself; forms only post here
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _sign(token: str, expires: int) -> str:
    return hmac.new(token.encode(), f"kubebot-console:{expires}".encode(), hashlib.sha256).hexdigest()


def session_cookie(token: str, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + SESSION_SECONDS)
    return f"{expires}.{_sign(token, expires)}"


def valid_cookie(value: str, token: str, now: float | None = None) -> bool:
    expires_text, _, signature = value.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    fresh = expires > (now if now is not None else time.time())
    return hmac.compare_digest(signature.encode(), _sign(token, expires).encode()) and fresh


def bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def authorized(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    if header:
        return bearer_matches(header, token)  # a wrong Bearer is refused even with a good cookie
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and valid_cookie(cookie, token)


def host_is_loopback(request: web.Request) -> bool:
    host = request.headers.get("Host", "")
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return False
    return is_loopback(name)


def safe_next(value: str, prefix: str) -> str:
    """Where to go after logging in: a console path, never another site."""
    home = prefix + "/"
    if not value.startswith(home) or value.startswith("//") or "\\" in value or "\n" in value:
        return home
    return value


def middlewares(settings: ConsoleSettings, login_page: LoginPage) -> list[Middleware]:
    prefix = settings.prefix
    public = {prefix + p for p in PUBLIC_PATHS}

    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if isinstance(response, web.HTTPException):
            raise response
        return response

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = settings.token
        if token is None:
            if not host_is_loopback(request):
                log.warning("event=console_refused reason=host_not_loopback")
                raise web.HTTPForbidden(text="This console only answers on localhost.\n")
            return await handler(request)
        if request.path in public or authorized(request, token):
            return await handler(request)
        if request.headers.get("Authorization"):
            log.info("event=console_unauthorized reason=bad_bearer path=%s", request.path[:80])
        response = login_page(request, "", 401, request.path_qs if request.method == "GET" else "")
        response.headers["WWW-Authenticate"] = 'Bearer realm="kubebot console"'
        return response

    return [headers, guard]


async def login(request: web.Request, settings: ConsoleSettings, login_page: LoginPage) -> web.StreamResponse:
    """POST /login: the token from the form; a cookie and a redirect when it matches."""
    token = settings.token
    if token is None:
        raise web.HTTPFound(settings.prefix + "/")
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM_BYTES, request.content_length or 0)
    form = await request.post()
    given = str(form.get("token", ""))
    target = safe_next(str(form.get("next", "")), settings.prefix)
    if not hmac.compare_digest(given.encode(), token.encode()):
        log.info("event=console_login_failed")
        return login_page(request, "That token is not right.", 401, target)
    log.info("event=console_login")
    response = web.Response(status=303, headers={"Location": target})
    response.set_cookie(
        COOKIE,
        session_cookie(token),
        max_age=SESSION_SECONDS,
        path=settings.prefix or "/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


async def logout(request: web.Request, settings: ConsoleSettings) -> web.StreamResponse:
    response = web.Response(status=303, headers={"Location": settings.prefix + "/login"})
    response.del_cookie(COOKIE, path=settings.prefix or "/")
    return response
