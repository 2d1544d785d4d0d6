"""`kubebot kb lint|render|index|eval|calibrate`: tools for knowledge-base authors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot.app import kb_dir, load_kb, load_snapshot
from bot.cli.errors import CliError
from bot.config import CoreSettings
from bot.diagrams import RenderError, diagram_problems, render_all
from bot.kb_lint import freshness_warnings
from bot.knowledge import KnowledgeError, load_knowledge


def cmd_lint(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    directory = kb_dir(args.dir, settings)
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        for problem in exc.problems:
            out.write(f"{problem}\n")
        out.write(f"{len(exc.problems)} problem(s) in {directory}\n")
        return 1
    problems = diagram_problems(kb.root, kb.entries.values())
    if problems:
        for problem in problems:
            out.write(f"{problem}\n")
        out.write(f"{len(problems)} problem(s) in {directory}\n")
        return 1
    from bot.adapters.fit import cut_warnings

    # warnings only: a stale file, or an entry a platform would show cut
    warnings = [*freshness_warnings(kb), *cut_warnings(kb)]
    for warning in warnings:
        out.write(f"{warning}\n")
    noted = f" ({len(warnings)} warning(s))" if warnings else ""
    counts = f"{len(kb.entries)} entries, {len(kb.paths)} paths, {len(kb.synonyms)} synonyms"
    out.write(f"{directory}: {counts}: ok{noted}\n")
    return 0


def cmd_render(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    kb = load_snapshot(kb_dir(args.dir, settings)).kb
    try:
        results = render_all(kb.root, kb.entries.values(), force=args.force)
    except RenderError as exc:
        raise CliError(str(exc)) from None
    for r in results:
        out.write(f"{'rendered' if r.changed else 'up to date'}: {r.png} ({r.width}x{r.height} px)\n")
    out.write(f"{sum(r.changed for r in results)} of {len(results)} diagram(s) rendered\n")
    return 0


def cmd_index(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    """Load, validate and index a knowledge base into the index cache (`bot.kbcache`): a warm start
    for `ask` and `serve`; the hot reload of a big knowledge base runs this in a separate process."""
    import dataclasses
    import json
    import os

    from bot.kbcache import default_dirs
    from bot.match_settings import MatchSettings
    from bot.service import Snapshot

    if args.nice and hasattr(os, "nice"):
        os.nice(10)  # a rebuild behind a serving bot: its answers come first
    directory = kb_dir(args.dir, settings)
    cache = tuple(Path(c) for c in args.cache) if args.cache else default_dirs()
    if not cache:
        raise CliError("the index cache is off (KUBEBOT_INDEX_CACHE=off): nothing to write")
    try:
        match = MatchSettings(**json.loads(args.settings)) if args.settings else MatchSettings()
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad --settings: {exc}") from None
    try:
        kb, _ = Snapshot.prepare(directory, match, cache)
    except KnowledgeError as exc:
        if args.json:
            out.write(json.dumps({"problems": [dataclasses.asdict(p) for p in exc.problems]}) + "\n")
        else:
            out.writelines(f"{problem}\n" for problem in exc.problems)
        return 1
    out.write(json.dumps({"entries": len(kb.entries)}) + "\n" if args.json else f"indexed {directory}\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.evaluate import EvalError, evaluate, load_eval_file

    snapshot = load_snapshot(kb_dir(args.kb, settings))
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


def cmd_calibrate(args: argparse.Namespace, settings: CoreSettings, out: TextIO) -> int:
    from bot.decision import FILE_NAME
    from bot.evaluate import EvalError, load_eval_file

    directory = kb_dir(args.kb, settings)
    kb = load_kb(directory)
    try:
        items = [item for file in args.files for item in load_eval_file(Path(file))]
    except EvalError as exc:
        raise CliError(str(exc)) from None
    unknown = sorted({i.expect for i in items if i.expect and not i.gap} - set(kb.entries))
    if unknown:
        raise CliError(f"expected entries not in {directory}: {', '.join(unknown[:5])}")
    if sum(i.on_topic for i in items) < 20 or sum(not i.on_topic for i in items) < 10:
        raise CliError("calibration needs at least 20 on-topic and 10 off-topic (expect: null) questions")
    try:
        from bot.fitting import fit, unfitted_matcher
    except ImportError:
        raise CliError("kb calibrate needs scikit-learn: pip install 'kubebot[calibrate]'") from None
    result = fit(unfitted_matcher(kb), items)
    target = Path(args.out) if args.out else directory / FILE_NAME
    result.calibration.save(target)
    t = result.calibration.thresholds
    out.write(
        f"fitted on {len(items)} questions; thresholds: answer {t.answer}, with alternatives "
        f"{t.alternatives}, on topic {t.topic}\n"
        f"wrote {target} (used whenever this knowledge base is loaded)\n"
    )
    return 0
