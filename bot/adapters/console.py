"""The terminal adapter: `kubebot chat`. Reads lines, prints the same replies chat users get.

During a tour (after `learn` or `learn PATH`) the words `next`, `back` and `stop` move through it,
as the Next and Back buttons do on Slack and Discord; outside a tour they are ordinary questions.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.diagrams import diagram_note
from bot.models import ChannelType, Message, Platform, Reply, TourStep
from bot.service import QAService

PROMPT = "kubebot> "
WELCOME = 'kubebot: ask a Kubernetes question ("what is a pod"), "topics", "learn", "help"; Ctrl-D to quit.'
TOUR_WORDS = ("next", "back", "stop")


def tour_hint(step: TourStep) -> str:
    """The console's stand-in for the tour buttons: the words that work at this step."""
    words = [w for w, ok in (("next", step.has_next), ("back", step.has_previous)) if ok]
    return "Type " + ", ".join(f'"{w}"' for w in words) + (" or " if words else "") + '"stop".'


def tour_move(service: QAService, step: TourStep, word: str) -> tuple[str, TourStep | None]:
    """What `next`, `back` or `stop` prints during a tour, and the tour step it leaves us on."""
    if word == "stop":
        return f'Tour "{step.path_title}" stopped. Type "learn" to start a tour again.', None
    if word == "next" and not step.has_next:
        return f'That was the last step of "{step.path_title}". {tour_hint(step)}', step
    if word == "back" and not step.has_previous:
        return f'This is the first step of "{step.path_title}". {tour_hint(step)}', step
    reply = service.tour(step.path_id, step.index + (1 if word == "next" else -1))
    return _tour_text(reply), reply.tour or step


def _tour_text(reply: Reply) -> str:
    """The reply as printed: its text, the path of its diagram (a terminal shows no pictures;
    many open a path on click) and, during a tour, the words that move through it."""
    note = diagram_note(reply)
    text = f"{reply.text}\n\n{note}" if note else reply.text
    return f"{text}\n{tour_hint(reply.tour)}" if reply.tour is not None else text


async def _loop(service: QAService, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
    if interactive:
        print(WELCOME, file=stdout)
    tour: TourStep | None = None  # the step shown last, while a tour is under way
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        word = line.strip().lower()
        if word in ("quit", "exit") and interactive:
            break
        if tour is not None and word in TOUR_WORDS:
            text, tour = tour_move(service, tour, word)
        else:
            reply = await service.handle(
                Message(line, platform=Platform.CONSOLE, channel_type=ChannelType.CONSOLE)
            )
            tour = reply.tour or tour
            text = _tour_text(reply)
        print(text, file=stdout)
        print("", file=stdout, flush=True)


def run_chat(service: QAService, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    try:
        asyncio.run(_loop(service, stdin, stdout, interactive))
    except KeyboardInterrupt:
        print("", file=stdout)
    return 0
