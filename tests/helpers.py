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


_LOGFMT_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def parse_logfmt(line: str) -> dict[str, str]:
    """One logfmt line as go-logfmt reads it, strictly: ``key=value`` pairs separated by spaces,
    keys of printable non-space characters without ``=`` or ``"``, values bare (the same
    characters) or double-quoted with backslash escapes. Anything else raises ValueError."""
    pairs: dict[str, str] = {}
    i, n = 0, len(line)
    if "\n" in line or "\r" in line:
        raise ValueError(f"not one line: {line!r}")
    while i < n:
        if line[i] == " ":
            i += 1
            continue
        start = i
        while i < n and line[i] > " " and line[i] not in '="':
            i += 1
        key = line[start:i]
        if not key or i >= n or line[i] != "=":
            raise ValueError(f"expected key= at {start} in {line!r}")
        i += 1
        if i < n and line[i] == '"':
            i += 1
            value: list[str] = []
            while True:
                if i >= n:
                    raise ValueError(f"unterminated quoted value for {key} in {line!r}")
                char = line[i]
                if char == '"':
                    i += 1
                    break
                if char == "\\":
                    if i + 1 >= n or line[i + 1] not in _LOGFMT_ESCAPES:
                        raise ValueError(f"bad escape in {key} in {line!r}")
                    value.append(_LOGFMT_ESCAPES[line[i + 1]])
                    i += 2
                    continue
                if char < " ":
                    raise ValueError(f"control character in {key} in {line!r}")
                value.append(char)
                i += 1
            text = "".join(value)
        else:
            start = i
            while i < n and line[i] > " " and line[i] not in '="':
                i += 1
            text = line[start:i]
        if i < n and line[i] != " ":
            raise ValueError(f"expected a space after {key} at {i} in {line!r}")
        if key in pairs:
            raise ValueError(f"{key} twice in {line!r}")
        pairs[key] = text
    return pairs
