"""A team's own, smaller knowledge base: does the shipped decision still hold?

Removes every other entry of the bundled knowledge base (sorted by id) and asks the real
questions again. Questions whose entry is gone must not get a confident wrong answer; the others
should still be answered. Shown twice: with the shipped calibration (features do not depend on
the number of entries) and after `kubebot kb calibrate` refits it on the fit split relabelled for the
smaller knowledge base (what a team would do with its own questions).

Usage: python benchmarks/bench_half_kb.py [--sets benchmarks/real/test.yaml,tests/eval]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluate import EvalItem, EvalReport, evaluate, load_eval_file  # noqa: E402
from bot.fitting import fit  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.models import Band  # noqa: E402
from bot.service import Snapshot  # noqa: E402

FIT = (ROOT / "benchmarks" / "calib", ROOT / "benchmarks" / "real" / "fit.yaml")


def halve(source: Path, target: Path) -> set[str]:
    """Copy the knowledge base without every other entry; return the ids kept."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("calibration.json"))
    kb = load_knowledge(source)
    kept = set(sorted(kb.entries)[::2])
    paths = yaml.safe_load((target / "paths.yaml").read_text(encoding="utf-8"))
    for path in paths["paths"]:
        path["steps"] = [s for s in path["steps"] if s in kept] or [sorted(kept)[0]]
    (target / "paths.yaml").write_text(yaml.safe_dump(paths, sort_keys=False), encoding="utf-8")
    for file in target.rglob("*.yaml"):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "entries" in data:
            data["entries"] = [e for e in data["entries"] if e["id"] in kept]
            for e in data["entries"]:
                e["see_also"] = [s for s in e.get("see_also", []) if s in kept]
            file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return kept


def relabel(items: list[EvalItem], kept: set[str]) -> list[EvalItem]:
    """Items whose entry was removed become gaps (no right answer left)."""
    out = []
    for item in items:
        if item.on_topic and not item.gap and item.expect not in kept:
            also = tuple(a for a in item.also if a in kept)
            gone = replace(item, expect="gap:removed")
            item = replace(item, expect=also[0], also=also[1:]) if also else gone
        out.append(item)
    return out


def line(name: str, report: EvalReport) -> str:
    removed = [o for o in report.gaps if o.item.expect == "gap:removed"]
    n = max(len(removed), 1)
    confident = sum(o.band is Band.ANSWERED for o in removed) / n
    hedged = sum(o.band is Band.ANSWERED_WITH_ALTERNATIVES for o in removed) / n
    return (
        f"  {name:22} answered right {report.answered():6.1%}  wrong {report.wrong():6.1%}  "
        f"entry removed (n={len(removed)}): confident answer {confident:6.1%}, "
        f"answer with alternatives {hedged:6.1%}  off-topic declined {report.declined:6.1%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="benchmarks/real/test.yaml,tests/eval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kept = halve(ROOT / "knowledge", Path(tmp) / "kb")
        half = load_knowledge(Path(tmp) / "kb")
        shipped = Snapshot.build(half)
        fit_items = relabel([i for p in FIT if p.exists() for i in load_eval_file(p)], kept)
        # what `kubebot kb calibrate` does: refit, and leave calibration.json in the KB directory
        fit(shipped.matcher, fit_items).calibration.save(Path(tmp) / "kb" / "calibration.json")
        refitted = Snapshot.build(load_knowledge(Path(tmp) / "kb"))
        total = len(load_knowledge(ROOT / "knowledge").entries)
        print(f"knowledge base halved: {len(half.entries)} of {total} entries kept")
        for name in args.sets.split(","):
            items = relabel(load_eval_file(ROOT / name), kept)
            print(name)
            print(line("shipped calibration", evaluate(shipped.matcher, items)))
            print(line("after kb calibrate", evaluate(refitted.matcher, items)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
