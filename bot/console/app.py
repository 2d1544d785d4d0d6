"""The console's aiohttp application: routes, templates, and `mount_console` for another app."""

from __future__ import annotations

import logging
from importlib import resources

from aiohttp import web

from bot.console import auth, views
from bot.console.context import CONSOLE, Console, build_console

__all__ = ["CONSOLE", "Console", "build_app", "build_console", "mount_console"]

log = logging.getLogger("kubebot.console")


def _stylesheet() -> bytes:
    return resources.files("bot.console").joinpath("static/console.css").read_bytes()


def build_app(console: Console) -> web.Application:
    """The console's pages at its root; serve it alone, or mount it with `mount_console`."""
    settings = console.settings

    def login_page(request: web.Request, error: str, status: int, target: str) -> web.Response:
        return console.render(
            "login.html", status=status, error=error, next=auth.safe_next(target, settings.prefix)
        )

    app = web.Application(middlewares=auth.middlewares(settings, login_page), client_max_size=64 * 1024)
    app[CONSOLE] = console
    css = _stylesheet()

    async def stylesheet(request: web.Request) -> web.Response:
        return web.Response(body=css, content_type="text/css", charset="utf-8")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def get_login(request: web.Request) -> web.Response:
        if settings.token is None:
            raise web.HTTPFound(settings.prefix + "/")
        return login_page(request, "", 200, request.query.get("next", ""))

    async def post_login(request: web.Request) -> web.StreamResponse:
        return await auth.login(request, settings, login_page)

    async def post_logout(request: web.Request) -> web.StreamResponse:
        return await auth.logout(request, settings)

    app.router.add_get("/", views.overview)
    app.router.add_get("/entries", views.entries)
    app.router.add_get("/entries/{entry_id}", views.entry)
    app.router.add_get("/try", views.try_question)
    app.router.add_get("/suggestions", views.suggestions)
    app.router.add_get("/login", get_login)
    app.router.add_post("/login", post_login)
    app.router.add_post("/logout", post_logout)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/static/console.css", stylesheet)
    return app


def mount_console(app: web.Application, console: Console) -> None:
    """Add the console's pages to `app` under the console's prefix (e.g. next to /slack/events).

    The prefix must be set (the console refuses to take over another app's root)."""
    if not console.base:
        raise ValueError("mounting the console needs a prefix such as /console")

    async def to_root(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(console.base + "/")

    app.router.add_get(console.base, to_root)  # before the sub-app, which would answer 404 here
    app.add_subapp(console.base, build_app(console))
    log.info(
        "event=console_mounted prefix=%s auth=%s", console.base, "token" if console.settings.token else "none"
    )
