"""What every console page works with: the `Console` (service, settings, store reader, templates),
kept under `CONSOLE` in the aiohttp application. The routes are in `bot.console.app`, the pages in
`bot.console.views`; both import this module, never each other's.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from bot.console.config import ConsoleSettings
from bot.console.data import StoreReader
from bot.service import QAService


@dataclass(frozen=True)
class Console:
    """Everything a page needs: the service (the bot's own, when mounted), settings, the store."""

    service: QAService
    settings: ConsoleSettings
    reader: StoreReader
    templates: jinja2.Environment

    @property
    def base(self) -> str:
        return self.settings.prefix

    def render(self, name: str, *, status: int = 200, **context: object) -> web.Response:
        template = self.templates.get_template(name)
        context.setdefault("page", "")
        html = template.render(
            base=self.base,
            mode=self.settings.store_questions,
            store=self.reader.where,
            auth=self.settings.token is not None,
            **context,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


CONSOLE = web.AppKey("kubebot_console", Console)


def templates() -> jinja2.Environment:
    """Jinja2 with autoescaping on for every template: all user text is escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["conf"] = lambda v: f"{v:.2f}"
    return env


def build_console(service: QAService, settings: ConsoleSettings, db_url: str | None) -> Console:
    return Console(service, settings, StoreReader(db_url, settings.store_questions), templates())
