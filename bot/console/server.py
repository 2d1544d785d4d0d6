"""`kubebot serve console [--host H] [--port N]`: the console on its own, until SIGINT/SIGTERM.

It loads the knowledge base itself (and reloads it when the files change, like the bot), answers
"Try a question" with its own `QAService` that records nothing, and reads the store KUBEBOT_DB
names: the same database the bot writes (PostgreSQL shared by replicas, or the SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from bot.config import ConfigError, CoreSettings, env_float, merged_env
from bot.console.config import ConsoleSettings
from bot.logs import setup_logging

log = logging.getLogger("kubebot.console")


async def _serve(console: object, kb_dir: Path, reload_interval: float) -> None:
    from aiohttp import web

    from bot.console.app import Console, build_app
    from bot.reload import KnowledgeReloader

    assert isinstance(console, Console)
    settings = console.settings
    runner = web.AppRunner(build_app(console), access_log=None, handle_signals=False)
    await runner.setup()
    reloader = KnowledgeReloader(console.service.holder, kb_dir, interval=reload_interval)
    await reloader.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {settings.host}:{settings.port} for the console: {exc.strerror or exc}"
            ) from None
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        port = int(sockets[0].getsockname()[1]) if sockets else settings.port
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        log.info(
            "event=console_listening url=http://%s:%d/ auth=%s store=%s entries=%d",
            host,
            port,
            "token" if settings.token else "none",
            console.reader.where,
            len(console.service.kb.entries),
        )
        await stop.wait()
        log.info("event=console_stopping")
    finally:
        await runner.cleanup()
        await reloader.stop()


def serve_console(args: argparse.Namespace, settings: CoreSettings) -> int:
    """Run the console until interrupted; unsafe or broken settings raise ConfigError first."""
    env = merged_env()
    setup_logging(settings.log_level, settings.log_format, env)
    console_settings = ConsoleSettings.from_env(
        env, host=args.host, port=args.port, store_questions=settings.store_questions
    )
    try:
        from bot.console.app import build_console
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{exc.name} is not installed: pip install 'kubebot[console]'") from None
    from bot.app import build_service, kb_dir

    directory = kb_dir(args.kb, settings)
    service = build_service(directory)  # no recorder: trying a question records nothing
    console = build_console(service, console_settings, settings.db_url)
    interval = env_float(env, "KUBEBOT_RELOAD_INTERVAL", 2.0, minimum=0, what="a number of seconds")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(console, directory, interval))
    return 0
