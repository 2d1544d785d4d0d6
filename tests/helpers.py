"""Stand-ins shared by the test suites (only for our own ports; platforms are faked over HTTP)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.ports import FeedbackRecord, PickRecord, QuestionRecord


class MemoryRecorder:
    """An in-memory `bot.ports.Recorder`."""

    def __init__(self) -> None:
        self.questions: list[QuestionRecord] = []
        self.feedback: list[FeedbackRecord] = []
        self.picks: list[PickRecord] = []

    def record_question(self, record: QuestionRecord) -> None:
        self.questions.append(record)

    def record_feedback(self, record: FeedbackRecord) -> None:
        self.feedback.append(record)

    def record_pick(self, record: PickRecord) -> None:
        self.picks.append(record)


async def serve_on_loopback(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Serve an aiohttp app on 127.0.0.1 on a free port; returns the runner (to clean up) and the port."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    return runner, int(server.sockets[0].getsockname()[1])
