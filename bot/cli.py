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
from bot.decision import CalibrationError
from bot.diagrams import RenderError, diagram_note, diagram_problems, render_all, shown_diagram
from bot.kb_lint import freshness_warnings
from bot.knowledge import KnowledgeBase, KnowledgeError, bundled_kb_dir, load_knowledge
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


def load_kb(kb_dir: Path) -> KnowledgeBase:
    try:
        return load_knowledge(kb_dir)
    except KnowledgeError as exc:
        first = exc.problems[0]
        more = (
            f" (and {len(exc.problems) - 1} more; run `kubebot kb lint {kb_dir}`)"
            if len(exc.problems) > 1
            else ""
        )
        raise CliError(f"cannot load knowledge base: {first}{more}") from None


def load_snapshot(kb_dir: Path) -> Snapshot:
    kb = load_kb(kb_dir)
    try:
        return Snapshot.build(kb)
    except CalibrationError as exc:
        raise CliError(f"{exc}") from None


def build_service(
    kb_dir: Path, *, recorder: Recorder | None = None, cluster: ClusterGateway | None = None
) -> QAService:
    return QAService(KnowledgeHolder(load_snapshot(kb_dir)), recorder=recorder, cluster=cluster)


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
                picture = diagram_note(reply)
                out.write(reply.text + (f"\n\n{picture}" if picture else "") + "\n")
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
    problems = diagram_problems(kb.root, kb.entries.values())
    if problems:
        for problem in problems:
            out.write(f"{problem}\n")
        out.write(f"{len(problems)} problem(s) in {kb_dir}\n")
        return 1
    from bot.adapters.fit import cut_warnings

    # warnings only: a stale file, or an entry a platform would show cut
    warnings = [*freshness_warnings(kb), *cut_warnings(kb)]
    for warning in warnings:
        out.write(f"{warning}\n")
    noted = f" ({len(warnings)} warning(s))" if warnings else ""
    counts = f"{len(kb.entries)} entries, {len(kb.paths)} paths, {len(kb.synonyms)} synonyms"
    out.write(f"{kb_dir}: {counts}: ok{noted}\n")
    return 0


def cmd_kb_render(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    kb = load_snapshot(_kb_dir(args.dir, settings)).kb
    try:
        results = render_all(kb.root, kb.entries.values(), force=args.force)
    except RenderError as exc:
        raise CliError(str(exc)) from None
    for r in results:
        out.write(f"{'rendered' if r.changed else 'up to date'}: {r.png} ({r.width}x{r.height} px)\n")
    out.write(f"{sum(r.changed for r in results)} of {len(results)} diagram(s) rendered\n")
    return 0


def cmd_kb_eval(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.evaluate import EvalError, evaluate, load_eval_file

    snapshot = load_snapshot(_kb_dir(args.kb, settings))
    try:
        items = load_eval_file(Path(args.file))
    except EvalError as exc:
        raise CliError(str(exc)) from None
    report = evaluate(snapshot.matcher, items)
    out.write(report.render(verbose=args.verbose, reliability=args.reliability) + "\n")
    failed = [
        f"{name} {value:.1%} {'<' if low else '>'} {limit:.1%}"
        for name, value, limit, low in (
            ("top-1", report.top1, args.min_top1, True),
            ("answered correctly", report.answered(), args.min_answered, True),
            ("off-topic declined", report.declined, args.min_declined, True),
            ("answered wrong", report.wrong(), args.max_wrong, False),
        )
        if (value < limit if low else value > limit)
    ]
    for failure in failed:
        out.write(f"FAILED: {failure}\n")
    return 1 if failed else 0


def cmd_kb_calibrate(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.decision import FILE_NAME, Calibration
    from bot.evaluate import EvalError, load_eval_file
    from bot.matching import Matcher

    kb_dir = _kb_dir(args.kb, settings)
    kb = load_kb(kb_dir)
    matcher = Matcher(kb.entries.values(), kb.synonyms, domain=kb.domain, calibration=Calibration.neutral())
    try:
        items = [item for file in args.files for item in load_eval_file(Path(file))]
    except EvalError as exc:
        raise CliError(str(exc)) from None
    unknown = sorted({i.expect for i in items if i.expect and not i.gap} - set(kb.entries))
    if unknown:
        raise CliError(f"expected entries not in {kb_dir}: {', '.join(unknown[:5])}")
    if sum(i.on_topic for i in items) < 20 or sum(not i.on_topic for i in items) < 10:
        raise CliError("calibration needs at least 20 on-topic and 10 off-topic (expect: null) questions")
    try:
        from bot.fitting import fit
    except ImportError:
        raise CliError("kb calibrate needs scikit-learn: pip install 'kubebot[calibrate]'") from None
    result = fit(matcher, items)
    target = Path(args.out) if args.out else kb_dir / FILE_NAME
    result.calibration.save(target)
    t = result.calibration.thresholds
    out.write(
        f"fitted on {len(items)} questions; thresholds: answer {t.answer}, with alternatives "
        f"{t.alternatives}, on topic {t.topic}\n"
        f"wrote {target} (used whenever this knowledge base is loaded)\n"
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    if args.platform == "console":
        from bot.console.server import serve_console

        return serve_console(args, settings)
    from bot.runtime import serve

    return serve(args.platform, args, settings)


def cmd_kb_suggest(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.console.suggest_cli import run_suggest

    return run_suggest(args, settings, build_service(_kb_dir(args.kb, settings)), out)


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
    p = kb.add_parser(
        "lint", help="validate a knowledge base; exit 1 with path:line problems (warnings keep exit 0)"
    )
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: the bundled one)")
    p.set_defaults(func=cmd_kb_lint)
    p = kb.add_parser(
        "render", help="draw the diagrams whose PNG is missing or stale (needs Graphviz's `dot`)"
    )
    p.add_argument("dir", nargs="?", help="knowledge base directory (default: the bundled one)")
    p.add_argument("--force", action="store_true", help="redraw every diagram, even the up-to-date ones")
    p.set_defaults(func=cmd_kb_render)
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
    p.add_argument(
        "--max-wrong", type=float, default=1.0, help="exit 1 when answered wrong is above this"
    )
    p.add_argument("--reliability", action="store_true", help="print the reliability table")
    p.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_kb_eval)

    p = kb.add_parser("calibrate", help="refit the answer/decline decision on your own labelled questions")
    kb_option(p)
    p.add_argument("files", nargs="+", help="eval files or directories ({q, expect} items, off-topic: null)")
    p.add_argument("--out", help="where to write it (default: calibration.json in the knowledge base)")
    p.set_defaults(func=cmd_kb_calibrate)

    p = kb.add_parser(
        "suggest", help="alternate questions from what people asked; --apply writes them into the KB files"
    )
    kb_option(p)
    p.add_argument("--since", default="30d", help="period, e.g. 7d, 4w (default 30d)")
    p.add_argument("--apply", action="store_true", help="write the 'new' suggestions (or those --only names)")
    p.add_argument("--only", action="append", metavar="ID", help="apply only this suggestion id (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_kb_suggest)

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
