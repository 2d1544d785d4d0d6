"""`kubebot ask`, `kubebot chat` and `kubebot topics`: the service in a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot.app import build_service, kb_dir
from bot.config import CoreSettings
from bot.diagrams import diagram_note, shown_diagram
from bot.models import ChannelType, Message, Platform, Reply
from bot.service import QAService


def reply_json(reply: Reply) -> dict[str, Any]:
    image = shown_diagram(reply)
    return {
        "question": reply.question,
        "band": reply.band.contract if reply.band else None,
        "answered": reply.answered,
        "id": reply.entry.id if reply.entry else None,
        "title": reply.entry.title if reply.entry else None,
        "confidence": round(reply.confidence, 4),
        "text": reply.text,
        "suggestions": [
            {"id": c.entry_id, "title": c.title, "confidence": round(c.confidence, 4)}
            for c in reply.suggestions
        ],
        "diagram": str(image.path.resolve()) if image else None,
    }


def cmd_ask(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    service = build_service(kb_dir(args.kb, settings))
    words: list[str] = args.question
    if words == ["-"]:
        questions: list[str] = [line.rstrip("\n") for line in sys.stdin]
    else:
        questions = [" ".join(words)]

    for question in questions:
        reply = _answer(service, Message(question, Platform.CONSOLE, ChannelType.CONSOLE))
        if args.json:
            out.write(json.dumps(reply_json(reply), ensure_ascii=False) + "\n")
        else:
            picture = diagram_note(reply)
            out.write(reply.text + (f"\n\n{picture}" if picture else "") + "\n")
        out.flush()
    return 0


def _answer(service: QAService, message: Message) -> Reply:
    """`QAService.handle` without an event loop when it never waits (no cluster gateway: it only
    computes), which spares `kubebot ask` importing asyncio (~15% of its start); else with one."""
    coroutine = service.handle(message)
    try:
        coroutine.send(None)
    except StopIteration as done:
        reply: Reply = done.value
        return reply
    coroutine.close()
    import asyncio

    return asyncio.run(service.handle(message))


def cmd_chat(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.adapters.console import run_chat

    return run_chat(build_service(kb_dir(args.kb, settings)), stdout=out)


def cmd_topics(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    out.write(build_service(kb_dir(args.kb, settings)).topics().text + "\n")
    return 0
