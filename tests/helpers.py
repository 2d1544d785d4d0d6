"""Stand-ins shared by the test suites (only for our own ports; platforms are faked over HTTP)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
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
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


def sample(scrape: Metrics | bytes | str, name: str, **labels: str) -> float:
    """One sample's value from a scrape (what /metrics serves; a `Metrics` is scraped here), read by
    prometheus-client's parser. A metric the scrape does not declare fails; a label combination not
    seen yet is 0."""
    if isinstance(scrape, Metrics):
        scrape = scrape.render()
    text = scrape.decode("utf-8") if isinstance(scrape, bytes) else scrape
    suffixes = ("", "_total", "_bucket", "_sum", "_count")
    declared = False
    for family in text_string_to_metric_families(text):
        if any(name == family.name + suffix for suffix in suffixes):
            declared = True
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return float(s.value)
    assert declared, f"{name} is not in the scrape:\n{text}"
    return 0.0
