"""Who may see the console: the token, the login cookie, loopback only without a token."""

from __future__ import annotations

import time

import aiohttp
import pytest
from aiohttp import web

from bot.config import ConfigError
from bot.console import auth
from bot.console.app import build_console, mount_console
from bot.console.config import ConsoleSettings, is_loopback
from bot.service import QAService
from tests.console.conftest import TOKEN, MakeConsole, served
from tests.helpers import serve_on_loopback


async def test_no_token_means_401_on_every_page(make_console: MakeConsole) -> None:
    async with served(make_console(token=TOKEN)) as (session, base):
        for path in ("/", "/entries", "/try?q=pod", "/suggestions", "/entries/pod"):
            async with session.get(base + path) as resp:
                assert resp.status == 401, path
                assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                html = await resp.text()
                assert 'name="token"' in html and "crashloopbackoff" not in html.lower()
        for path in ("/healthz", "/static/console.css", "/login"):  # what the login form itself needs
            async with session.get(base + path) as resp:
                assert resp.status == 200, path


async def test_bearer_token(make_console: MakeConsole) -> None:
    async with served(make_console(token=TOKEN)) as (session, base):
        for header, status in (
            (f"Bearer {TOKEN}", 200),
            (f"bearer {TOKEN}", 200),
            (f"Bearer {TOKEN}x", 401),
            (f"Bearer {TOKEN[:-1]}", 401),
            (f"Basic {TOKEN}", 401),
            ("Bearer ", 401),
        ):
            async with session.get(base + "/", headers={"Authorization": header}) as resp:
                assert resp.status == status, header


async def test_login_form_sets_a_strict_http_only_cookie(make_console: MakeConsole) -> None:
    async with served(make_console(token=TOKEN)) as (session, base):
        form = {"token": "wrong-token-wrong-token", "next": "/suggestions"}
        async with session.post(base + "/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 401 and "That token is not right." in await resp.text()
            assert auth.COOKIE not in resp.cookies
        form["token"] = TOKEN
        async with session.post(base + "/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/suggestions"
            cookie = resp.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        async with session.get(base + "/suggestions") as resp:  # the session sends the cookie back
            assert resp.status == 200 and "Picked by people" in await resp.text()
        async with session.post(base + "/logout", allow_redirects=False) as resp:
            assert resp.status == 303
        async with session.get(base + "/") as resp:
            assert resp.status == 401


async def test_login_never_redirects_off_the_console(make_console: MakeConsole) -> None:
    async with served(make_console(token=TOKEN)) as (session, base):
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            form = {"token": TOKEN, "next": target}
            async with session.post(base + "/login", data=form, allow_redirects=False) as resp:
                assert resp.headers["Location"] == "/", target


def test_forged_and_expired_cookies_are_refused() -> None:
    now = time.time()
    good = auth.session_cookie(TOKEN, now)
    assert auth.valid_cookie(good, TOKEN, now)
    assert not auth.valid_cookie(good, TOKEN + "-other", now)  # signed with another token
    assert not auth.valid_cookie(good, TOKEN, now + auth.SESSION_SECONDS + 1)  # expired
    expires, _, signature = good.partition(".")
    assert not auth.valid_cookie(f"{int(expires) + 3600}.{signature}", TOKEN, now)  # extended by hand
    for junk in ("", ".", "abc.def", "9" * 40 + ".x", TOKEN):
        assert not auth.valid_cookie(junk, TOKEN, now)


async def test_without_a_token_only_loopback_host_names_are_answered(make_console: MakeConsole) -> None:
    async with served(make_console()) as (session, base):
        port = base.rsplit(":", 1)[1]
        for host, status in (
            (f"127.0.0.1:{port}", 200),
            (f"localhost:{port}", 200),
            (f"[::1]:{port}", 200),
            (f"attacker.example:{port}", 403),  # DNS rebinding: a page elsewhere naming its own host
            ("10.0.0.5", 403),
        ):
            async with session.get(base + "/", headers={"Host": host}) as resp:
                assert resp.status == status, host


def test_off_localhost_needs_a_token() -> None:
    for host in ("0.0.0.0", "::", "10.1.2.3", "console.internal"):
        with pytest.raises(ConfigError, match="KUBEBOT_CONSOLE_TOKEN"):
            ConsoleSettings.from_env({}, host=host)
        assert ConsoleSettings.from_env({"KUBEBOT_CONSOLE_TOKEN": TOKEN}, host=host).token == TOKEN
    with pytest.raises(ConfigError, match="at least 16"):
        ConsoleSettings.from_env({"KUBEBOT_CONSOLE_TOKEN": "short"})
    settings = ConsoleSettings.from_env({"KUBEBOT_CONSOLE_TOKEN": TOKEN})
    assert settings.host == "127.0.0.1" and TOKEN not in repr(settings)
    assert [is_loopback(h) for h in ("127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "0.0.0.0")] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    with pytest.raises(ConfigError, match="Slack HTTP port"):
        ConsoleSettings(prefix="/console").check(public=True)


async def test_mounted_next_to_another_app(service: QAService, db: str) -> None:
    app = web.Application()

    async def events(request: web.Request) -> web.Response:
        return web.Response(text="slack")

    app.router.add_post("/slack/events", events)
    console = build_console(service, ConsoleSettings(token=TOKEN, prefix="/console"), db)
    mount_console(app, console)
    runner, port = await serve_on_loopback(app)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(base + "/slack/events") as resp:
                assert await resp.text() == "slack"  # the host app is untouched
            async with session.get(base + "/console/") as resp:
                assert resp.status == 401
            async with session.get(base + "/console", headers=headers) as resp:
                assert resp.status == 200 and str(resp.url).endswith("/console/")
                html = await resp.text()
                assert 'href="/console/static/console.css"' in html and 'href="/console/try"' in html
            async with session.get(base + "/console/try?q=what+is+a+pod", headers=headers) as resp:
                assert resp.status == 200 and 'id="band">answered<' in await resp.text()
            form = {"token": TOKEN, "next": "/console/entries"}
            async with session.post(base + "/console/login", data=form, allow_redirects=False) as resp:
                assert resp.headers["Location"] == "/console/entries"
                assert "Path=/console" in resp.headers["Set-Cookie"]
    finally:
        await runner.cleanup()
    with pytest.raises(ValueError, match="prefix"):
        mount_console(web.Application(), build_console(service, ConsoleSettings(), db))
