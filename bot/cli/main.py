"""`kubebot COMMAND ...`: the parser, and `main`, which runs one command and turns its failures
into one line on stderr (exit 2).

Each command's code lives in a module of this package, imported only when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from bot import __version__
from bot.app import StartupError
from bot.cli.errors import EXIT_USAGE, CliError
from bot.config import ConfigError, CoreSettings

Command = Callable[[argparse.Namespace, CoreSettings, TextIO], int]


def _lazy(module: str, name: str) -> Command:
    """The command `name` of `module`, imported when the command runs (not when the parser is built)."""

    def run(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
        command: Command = getattr(importlib.import_module(module), name)
        return command(args, settings, out)

    return run


def cmd_serve(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    if args.platform == "console":
        from bot.console.server import serve_console

        return serve_console(args, settings)
    from bot.runtime import serve

    return serve(args.platform, args, settings)


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
    p.set_defaults(func=_lazy("bot.cli.answer", "cmd_ask"))

    p = sub.add_parser("chat", help="a local chat in the terminal (answers each stdin line when piped)")
    kb_option(p)
    p.set_defaults(func=_lazy("bot.cli.answer", "cmd_chat"))

    p = sub.add_parser("topics", help="list the entries by tag")
    kb_option(p)
    p.set_defaults(func=_lazy("bot.cli.answer", "cmd_topics"))

    kb = sub.add_parser("kb", help="knowledge-base tools for authors").add_subparsers(
        dest="kb_command", metavar="KB_COMMAND", required=True
    )
    p = kb.add_parser(
        "lint", help="validate a knowledge base; exit 1 with path:line problems (warnings keep exit 0)"
    )
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: the bundled one)")
    p.set_defaults(func=_lazy("bot.cli.kb", "cmd_lint"))
    p = kb.add_parser(
        "render", help="draw the diagrams whose PNG is missing or stale (needs Graphviz's `dot`)"
    )
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: the bundled one)")
    p.add_argument("--force", action="store_true", help="redraw every diagram, even the up-to-date ones")
    p.set_defaults(func=_lazy("bot.cli.kb", "cmd_render"))
    p = kb.add_parser("index", help="build the index cache now (a warm start for ask and serve)")
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: $KUBEBOT_KB or the bundled)")
    p.add_argument("--cache", action="append", help="cache directory (default: $KUBEBOT_INDEX_CACHE...)")
    p.add_argument("--json", action="store_true", help="print the result (or the problems) as JSON")
    p.add_argument("--nice", action="store_true", help=argparse.SUPPRESS)  # for the hot reload
    p.add_argument("--settings", help=argparse.SUPPRESS)  # the reloading matcher's MatchSettings, JSON
    p.set_defaults(func=_lazy("bot.cli.kb", "cmd_index"))
    p = kb.add_parser("eval", help="measure retrieval and decisions on a file of labelled questions")
    kb_option(p)
    p.add_argument("file", help="YAML list of {q, expect: entry id, gap:<slug> or null}, or a directory")
    p.add_argument(
        "--min-top1", type=float, default=0.0, help="exit 1 when top-1 accuracy is below this (0..1)"
    )
    p.add_argument(
        "--min-declined", type=float, default=0.0, help="exit 1 when the off-topic decline rate is below"
    )
    p.add_argument(
        "--min-answered", type=float, default=0.0, help="exit 1 when answered correctly is below this"
    )
    p.add_argument("--max-wrong", type=float, default=1.0, help="exit 1 when answered wrong is above this")
    p.add_argument("--reliability", action="store_true", help="print the reliability table")
    p.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    p.set_defaults(func=_lazy("bot.cli.kb", "cmd_eval"))

    p = kb.add_parser("calibrate", help="refit the answer/decline decision on your own labelled questions")
    kb_option(p)
    p.add_argument("files", nargs="+", help="eval files or directories ({q, expect} items, off-topic: null)")
    p.add_argument("--out", help="where to write it (default: calibration.json in the knowledge base)")
    p.set_defaults(func=_lazy("bot.cli.kb", "cmd_calibrate"))

    p = kb.add_parser(
        "suggest", help="alternate questions from what people asked; --apply writes them into the KB files"
    )
    kb_option(p)
    p.add_argument("--since", default="30d", help="period, e.g. 7d, 4w (default 30d)")
    p.add_argument("--apply", action="store_true", help="write the 'new' suggestions (or those --only names)")
    p.add_argument("--only", action="append", metavar="ID", help="apply only this suggestion id (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_lazy("bot.cli.suggest", "cmd_suggest"))

    p = sub.add_parser("serve", help="run the bot on a chat platform, or the maintainer console")
    kb_option(p)
    p.add_argument("platform", choices=["slack", "discord", "console"])
    p.add_argument("--http", action="store_true", help="Slack: HTTP (Events API) mode instead of Socket Mode")
    p.add_argument(
        "--port", type=int, default=None, help="Slack HTTP port (default 3000), console port (default 8090)"
    )
    p.add_argument(
        "--host", default=None, help="console: address to listen on (default 127.0.0.1; others need a token)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("cluster", help="read-only look at the cluster: pods, deployments, ..., why NAME")
    kb_option(p)
    p.add_argument("verb", choices=["pods", "deployments", "services", "events", "nodes", "why"])
    p.add_argument("name", nargs="?", help="with `why`: the pod, deployment or service to diagnose")
    p.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    p.add_argument("--context", help="kubeconfig context")
    p.add_argument("--kubeconfig", help="kubeconfig path (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_lazy("bot.cli.cluster", "cmd_cluster"))

    p = sub.add_parser("report", help="what to write next: declined questions, low-rated entries")
    kb_option(p)
    p.add_argument("--since", default="7d", help="period, e.g. 24h, 7d, 4w (default 7d)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_lazy("bot.cli.report", "cmd_report"))
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = CoreSettings.from_env()
        result: int = args.func(args, settings, out)
        return result
    except (CliError, ConfigError, StartupError) as exc:
        print(f"kubebot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
