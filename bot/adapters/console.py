"""The terminal adapter: `kubebot chat`. Reads lines, prints the same replies chat users get."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.models import ChannelType, Message, Platform
from bot.service import QAService

PROMPT = "kubebot> "
WELCOME = 'kubebot: ask a Kubernetes question ("what is a pod"), "topics", "learn", "help"; Ctrl-D to quit.'


async def _loop(service: QAService, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
    if interactive:
        print(WELCOME, file=stdout)
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        if line.strip().lower() in ("quit", "exit") and interactive:
            break
        reply = await service.handle(
            Message(line, platform=Platform.CONSOLE, channel_type=ChannelType.CONSOLE)
        )
        print(reply.text, file=stdout)
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
