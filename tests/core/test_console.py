"""`kubebot chat` with piped input: next / back / stop move through a tour as the buttons do."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from bot.adapters.console import run_chat
from bot.service import QAService
from tests.conftest import FIXTURE_KB, ROOT


def headings(service: QAService, lines: list[str]) -> list[str]:
    out = io.StringIO()
    run_chat(service, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return [
        line
        for line in out.getvalue().splitlines()
        if ": step " in line or line.startswith(("Tour ", "That was", "This is the first"))
    ]


def test_next_and_back_walk_the_default_tour(fixture_service: QAService) -> None:
    assert headings(fixture_service, ["learn", "next", "next", "back"]) == [
        "Kubernetes by analogy: step 1 of 7",
        "Kubernetes by analogy: step 2 of 7",
        "Kubernetes by analogy: step 3 of 7",
        "Kubernetes by analogy: step 2 of 7",
    ]


def test_a_named_tour_stops_at_its_ends_and_on_stop(fixture_service: QAService) -> None:
    lines = headings(fixture_service, ["learn debugging-101", "back", "next", "next", "stop"])
    assert lines[0] == "Debugging 101: step 1 of 2"
    assert lines[1].startswith('This is the first step of "Debugging 101"')
    assert lines[2] == "Debugging 101: step 2 of 2"
    assert lines[3].startswith('That was the last step of "Debugging 101"')
    assert lines[4].startswith('Tour "Debugging 101" stopped.')


def test_the_tour_step_shows_which_words_work(fixture_service: QAService) -> None:
    out = io.StringIO()
    run_chat(fixture_service, stdin=io.StringIO("learn debugging-101\nnext\n"), stdout=out)
    text = out.getvalue()
    assert 'Type "next" or "stop".' in text and 'Type "back" or "stop".' in text


def test_a_question_during_a_tour_keeps_the_tour(fixture_service: QAService) -> None:
    out = io.StringIO()
    run_chat(fixture_service, stdin=io.StringIO("learn\nwhat is a node\nnext\n"), stdout=out)
    text = out.getvalue()
    assert text.index("step 1 of 7") < text.index("What is a Node?") < text.index("step 2 of 7")


def test_outside_a_tour_the_words_are_questions(fixture_service: QAService) -> None:
    asked = [fixture_service.answer(w).text for w in ("next", "back", "stop")]
    out = io.StringIO()
    run_chat(fixture_service, stdin=io.StringIO("next\nback\nstop\n"), stdout=out)
    assert out.getvalue() == "".join(f"{text}\n\n" for text in asked)
    assert "step " not in out.getvalue()


def test_after_stop_the_words_are_questions_again(fixture_service: QAService) -> None:
    out = io.StringIO()
    run_chat(fixture_service, stdin=io.StringIO("learn\nstop\nnext\n"), stdout=out)
    text = out.getvalue()
    assert text.count("step 1 of 7") == 1 and "step 2 of 7" not in text
    assert text.endswith(fixture_service.answer("next").text + "\n\n")


def test_kubebot_chat_tour_through_a_pipe() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBEBOT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--kb", str(FIXTURE_KB)],
        input="learn\nnext\nNext\nback\nstop\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    steps = [line for line in proc.stdout.splitlines() if ": step " in line]
    assert steps == [f"Kubernetes by analogy: step {n} of 7" for n in (1, 2, 3, 2)]
    assert 'Tour "Kubernetes by analogy" stopped.' in proc.stdout
