"""The console's pages over real HTTP on loopback: content, charts, escaping, hash mode, read-only."""

from __future__ import annotations

import re
import sqlite3
from html import unescape

import pytest

from bot.console.data import today
from bot.service import QAService
from tests.console.conftest import MakeConsole, served
from tests.console.seed import XSS

PAGES = ("/", "/entries", "/entries/crashloopbackoff", "/entries/pending-pod", "/suggestions", "/try?q=pods")


async def get(make_console: MakeConsole, path: str, **settings: object) -> tuple[int, str]:
    async with served(make_console(**settings)) as (session, base), session.get(base + path) as resp:
        return resp.status, await resp.text()


def marks(html: str, chart: str) -> list[float]:
    svg = re.search(rf'<svg[^>]*data-chart="{chart}".*?</svg>', html, re.S)
    assert svg, f"no {chart} chart"
    return [float(v) for v in re.findall(r'class="mark [^"]*"[^>]*data-value="([0-9.]+)"', svg.group(0))]


async def test_every_page_loads_with_its_content(make_console: MakeConsole) -> None:
    async with served(make_console()) as (session, base):
        for path in PAGES:
            async with session.get(base + path) as resp:
                html = await resp.text()
                assert resp.status == 200, (path, html[:500])
                assert resp.headers["Content-Type"].startswith("text/html")
                assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
                assert "<script" not in html.lower(), f"{path}: the console ships no scripts"
        async with session.get(base + "/entries/no-such-entry") as resp:
            assert resp.status == 404


async def test_overview_charts_draw_every_question_of_the_period(make_console: MakeConsole, db: str) -> None:
    with sqlite3.connect(db) as conn:
        (expected,) = conn.execute("SELECT count(*) FROM kubebot_questions").fetchone()
        (votes,) = conn.execute("SELECT count(*) FROM kubebot_feedback WHERE entry_id IS NOT NULL").fetchone()
    status, html = await get(make_console, "/?days=14")
    assert status == 200
    assert sum(marks(html, "questions")) == expected > 0
    assert sum(marks(html, "feedback")) == votes > 0
    rates = marks(html, "answer-rate")
    assert len(rates) == 14 and all(0 <= r <= 1 for r in rates)
    assert f'<span class="num" id="total-questions">{expected}</span>' in html
    # a shorter period draws fewer questions, all of them from inside it
    assert 0 < sum(marks((await get(make_console, "/?days=1"))[1], "questions")) < expected


async def test_user_text_is_escaped_everywhere(make_console: MakeConsole) -> None:
    for path in (
        "/suggestions",
        "/entries/pending-pod",
        "/try?q=" + XSS.replace(" ", "+").replace("'", "%27"),
    ):
        status, html = await get(make_console, path)
        assert status == 200
        assert "<script>" not in html and "<b>pending</b>" not in html, path
        assert "&lt;script&gt;alert(" in html, f"{path}: the question is shown, as text"


async def test_hash_mode_shows_hashes_only(make_console: MakeConsole) -> None:
    for path in ("/", "/suggestions", "/entries/crashloopbackoff"):
        status, html = await get(make_console, path, store_questions="hash")
        assert status == 200
        text = unescape(html)
        for question in ("pods keep dying", "my pod restarts all the time", "how do i set up istio"):
            assert question not in text, f"{path} shows {question!r} in hash mode"
        assert "sha256:" in text, path


async def test_the_console_writes_nothing(make_console: MakeConsole, db: str) -> None:
    def counts() -> tuple[int, ...]:
        with sqlite3.connect(db) as conn:
            return tuple(
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("kubebot_questions", "kubebot_feedback", "kubebot_picks")
            )

    before = counts()
    async with served(make_console()) as (session, base):
        for path in PAGES:
            async with session.get(base + path) as resp:
                assert resp.status == 200
            for method in ("POST", "PUT", "DELETE"):
                async with session.request(method, base + path) as resp:
                    assert resp.status == 405, (method, path)
    assert counts() == before


async def test_try_shows_what_the_service_decides(make_console: MakeConsole, service: QAService) -> None:
    for question in ("what is a pod", "pods keep dying", "my pod restarts all the time", "banana bread"):
        status, html = await get(make_console, "/try?q=" + question.replace(" ", "+"))
        assert status == 200
        reply = service.answer(question)
        band = reply.band.value if reply.band else "declined"
        assert re.search(rf'id="band">{band.replace("_", " ")}<', html), question
        decision = service.decide(question)
        shown = re.findall(r'<tr class="candidate">.*?<code>([a-z0-9-]+)</code>', html, re.S)
        assert sorted(shown) == sorted(e.entry_id for e in decision.evidence), question
        if reply.entry is not None:
            assert shown[0] == reply.entry.id, "the first candidate is the answer"
            assert f"confidence {reply.confidence:.2f}" in html


async def test_entries_search_finds_by_any_field(make_console: MakeConsole) -> None:
    status, html = await get(make_console, "/entries?q=systemd+Restart")  # words of an analogy
    assert status == 200
    assert "/entries/crashloopbackoff?" in html
    found = re.search(r'id="found">(\d+) of (\d+) entries', html)
    assert found and 1 <= int(found.group(1)) < int(found.group(2))
    status, html = await get(make_console, "/entries?tag=helm&sort=traffic")
    assert status == 200 and "/entries/helm-basics?" in html and "/entries/pod?" not in html


@pytest.mark.parametrize(
    ("query", "first", "last", "notice"),
    [
        ("days=7", -6, 0, ""),
        ("from=2030-01-01&to=2029-12-30", None, None, ""),
        ("from=yesterday", -13, 0, "Dates must look like"),
        ("days=9999", -13, 0, "Ignored days"),
    ],
)
async def test_the_period_selector(
    make_console: MakeConsole, query: str, first: int | None, last: int | None, notice: str
) -> None:
    from datetime import timedelta

    status, html = await get(make_console, "/?" + query)
    assert status == 200
    if first is not None and last is not None:
        assert f'name="from" value="{(today() + timedelta(days=first)).isoformat()}"' in html
        assert f'name="to" value="{(today() + timedelta(days=last)).isoformat()}"' in html
    else:  # swapped ends are put in order
        assert 'name="from" value="2029-12-30"' in html and 'name="to" value="2030-01-01"' in html
    assert (notice in html) if notice else ('class="notice"' not in html)
