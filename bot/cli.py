"""The composition root: parses the command line, builds the service, starts an adapter.

Only this module wires things together; platform and cluster code is imported lazily, inside
the sub-command that needs it, so `kubebot ask` never imports Slack, Discord or lightkube.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot import __version__
from bot.config import ConfigError, CoreSettings
from bot.knowledge import KnowledgeError, bundled_kb_dir, load_knowledge
from bot.models import ChannelType, Message, Platform, Reply
from bot.ports import ClusterGateway, Recorder
from bot.service import KnowledgeHolder, QAService, Snapshot

EXIT_USAGE = 2


class CliError(Exception):
    """A clear, one-line failure: printed as `kubebot: error: ...`, exit code 2."""


def _kb_dir(arg: str | None, settings: CoreSettings) -> Path:
    if arg:
        return Path(arg)
    return settings.kb_dir or bundled_kb_dir()


def load_snapshot(kb_dir: Path) -> Snapshot:
    try:
        kb = load_knowledge(kb_dir)
    except KnowledgeError as exc:
        first = exc.problems[0]
        more = (
            f" (and {len(exc.problems) - 1} more; run `kubebot kb lint {kb_dir}`)"
            if len(exc.problems) > 1
            else ""
        )
        raise CliError(f"cannot load knowledge base: {first}{more}") from None
    return Snapshot.build(kb)


def build_service(
    kb_dir: Path, *, recorder: Recorder | None = None, cluster: ClusterGateway | None = None
) -> QAService:
    return QAService(KnowledgeHolder(load_snapshot(kb_dir)), recorder=recorder, cluster=cluster)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "question": reply.question,
        "answered": reply.answered,
        "id": reply.entry.id if reply.entry else None,
        "title": reply.entry.title if reply.entry else None,
        "confidence": round(reply.confidence, 4),
        "text": reply.text,
        "suggestions": [
            {"id": c.entry_id, "title": c.title, "confidence": round(c.confidence, 4)}
            for c in reply.suggestions
        ],
    }


# -- sub-commands ------------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    service = build_service(_kb_dir(args.kb, settings))
    words: list[str] = args.question
    if words == ["-"]:
        questions: list[str] = [line.rstrip("\n") for line in sys.stdin]
    else:
        questions = [" ".join(words)]

    async def run() -> None:
        for question in questions:
            reply = await service.handle(Message(question, Platform.CONSOLE, ChannelType.CONSOLE))
            if args.json:
                out.write(json.dumps(reply_json(reply), ensure_ascii=False) + "\n")
            else:
                out.write(reply.text + "\n")
            out.flush()

    asyncio.run(run())
    return 0


def cmd_chat(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.adapters.console import run_chat

    return run_chat(build_service(_kb_dir(args.kb, settings)), stdout=out)


def cmd_topics(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    out.write(build_service(_kb_dir(args.kb, settings)).topics().text + "\n")
    return 0


def cmd_kb_lint(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    kb_dir = _kb_dir(args.dir, settings)
    try:
        kb = load_knowledge(kb_dir)
    except KnowledgeError as exc:
        for problem in exc.problems:
            out.write(f"{problem}\n")
        out.write(f"{len(exc.problems)} problem(s) in {kb_dir}\n")
        return 1
    from bot.adapters.fit import cut_warnings

    warnings = cut_warnings(kb)  # warnings only: a platform shows an over-long entry cut
    for warning in warnings:
        out.write(f"{warning}\n")
    note = f" ({len(warnings)} warning(s))" if warnings else ""
    out.write(
        f"{kb_dir}: {len(kb.entries)} entries, {len(kb.paths)} paths, {len(kb.synonyms)} synonyms: ok{note}\n"
    )
    return 0


def cmd_kb_eval(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.evaluate import EvalError, evaluate, load_eval_file

    snapshot = load_snapshot(_kb_dir(args.kb, settings))
    try:
        items = load_eval_file(Path(args.file))
    except EvalError as exc:
        raise CliError(str(exc)) from None
    report = evaluate(snapshot.matcher, items)
    out.write(report.render(verbose=args.verbose) + "\n")
    ok = report.top1 >= args.min_top1 and report.declined >= args.min_declined
    return 0 if ok else 1


def cmd_serve(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.runtime import serve

    return serve(args.platform, args, settings)


def cmd_cluster(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.cluster.cli import run_cluster_command

    return run_cluster_command(args, load_snapshot(_kb_dir(args.kb, settings)), out)


def cmd_report(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.store.report import run_report

    return run_report(args, settings, load_snapshot(_kb_dir(args.kb, settings)), out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubebot",
        description="Kubernetes and container questions answered by analogy, then the commands to run.",
    )
    parser.add_argument("--version", action="version", version=f"kubebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def kb_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--kb", metavar="DIR", help="knowledge base directory (default: $KUBEBOT_KB or the bundled one)"
        )

    p = sub.add_parser("ask", help="answer one question (or one per stdin line with `-`)")
    kb_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("question", nargs="+", help="the question, or - to read one question per line from stdin")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a local chat in the terminal (answers each stdin line when piped)")
    kb_option(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("topics", help="list the entries by tag")
    kb_option(p)
    p.set_defaults(func=cmd_topics)

    kb = sub.add_parser("kb", help="knowledge-base tools for authors").add_subparsers(
        dest="kb_command", metavar="KB_COMMAND", required=True
    )
    p = kb.add_parser("lint", help="validate a knowledge base; exit 1 with path:line problems")
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: the bundled one)")
    p.set_defaults(func=cmd_kb_lint)
    p = kb.add_parser("eval", help="measure top-1/top-3 accuracy and off-topic declines on an eval file")
    kb_option(p)
    p.add_argument("file", help="YAML list of {q: question, expect: entry id or null}")
    p.add_argument(
        "--min-top1", type=float, default=0.0, help="exit 1 when top-1 accuracy is below this (0..1)"
    )
    p.add_argument(
        "--min-declined", type=float, default=0.0, help="exit 1 when the off-topic decline rate is below"
    )
    p.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_kb_eval)

    p = sub.add_parser("serve", help="run the bot on a chat platform")
    kb_option(p)
    p.add_argument("platform", choices=["slack", "discord"])
    p.add_argument("--http", action="store_true", help="Slack: HTTP (Events API) mode instead of Socket Mode")
    p.add_argument("--port", type=int, default=None, help="Slack HTTP mode port (default 3000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("cluster", help="read-only look at the cluster: pods, deployments, ..., why NAME")
    kb_option(p)
    p.add_argument("verb", choices=["pods", "deployments", "services", "events", "nodes", "why"])
    p.add_argument("name", nargs="?", help="with `why`: the pod, deployment or service to diagnose")
    p.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    p.add_argument("--context", help="kubeconfig context")
    p.add_argument("--kubeconfig", help="kubeconfig path (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("report", help="what to write next: declined questions, low-rated entries")
    kb_option(p)
    p.add_argument("--since", default="7d", help="period, e.g. 24h, 7d, 4w (default 7d)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = CoreSettings.from_env()
        result: int = args.func(args, settings, out)
        return result
    except (CliError, ConfigError) as exc:
        print(f"kubebot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
