"""Answer latency while the knowledge base is hot-reloaded (part of `make bench`).

A service holding a synthetic knowledge base (written to disk as YAML) answers a question every
few milliseconds on its event loop, as the Slack and Discord adapters do, while one file is edited
and SIGHUP-style reloads run. Latency counts from when a question was due, so a stalled loop
shows. Printed: reload time, and the answers' p50/p99/max during reloads and at rest, for the
reload built in a separate process (the default for a big knowledge base) and in a thread.

Usage: python benchmarks/bench_reload.py [--size 10000] [--reloads 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import question_mix, synthetic_entries, write_kb  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.reload import KnowledgeReloader  # noqa: E402
from bot.service import KnowledgeHolder, QAService, Snapshot  # noqa: E402

EVERY_S = 0.005  # a question every 5 ms


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


async def measure(kb_dir: Path, cache: Path, isolate: bool, reloads: int) -> dict[str, object]:
    service = QAService(KnowledgeHolder(Snapshot.load(kb_dir, cache=(cache,))))
    reloader = KnowledgeReloader(
        service.holder, kb_dir, interval=0, metrics=Metrics(), isolate=isolate, cache=(cache,)
    )
    await reloader.start(sighup=False)
    chat, posts = question_mix()
    questions = chat[:200] + posts[:50]
    during: list[float] = []
    quiet: list[float] = []
    took: list[float] = []
    reloading = False
    stop = False

    async def ask() -> None:
        due = time.perf_counter()
        i = 0
        while not stop:
            due += EVERY_S
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            service.answer(questions[i % len(questions)])
            (during if reloading else quiet).append((time.perf_counter() - due) * 1000)
            i += 1

    for q in questions:  # warm: every question once, as a running bot has seen such words
        service.answer(q)
    # reloads from a steady state: the start-up warm-up (`serve` does it once) is over
    await asyncio.to_thread(reloader.warmed.wait)
    asker = asyncio.create_task(ask())
    await asyncio.sleep(1.0)
    target = sorted(kb_dir.glob("part-*.yaml"))[0]
    original = target.read_text(encoding="utf-8")
    try:
        for n in range(reloads):
            edit = f"questions:\n  - reload {n} {'isolated' if isolate else 'threaded'}\n"
            # an author's editor writes the file, not the bot: off the loop, or its stall counts
            await asyncio.to_thread(target.write_text, original.replace("questions:\n", edit, 1))
            before = service.holder.reloads
            reloading = True
            started = time.perf_counter()
            reloader.request_reload()
            while service.holder.reloads == before:
                await asyncio.sleep(0.01)
            took.append(time.perf_counter() - started)
            reloading = False
            await asyncio.sleep(0.5)
    finally:
        stop = True
        await asker
        await reloader.stop()
        target.write_text(original, encoding="utf-8")
    return {
        "isolated": isolate,
        "reload_s": statistics.median(took),
        "during": percentiles(during),
        "quiet": percentiles(quiet),
    }


def run(size: int, reloads: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir, cache = Path(tmp) / "kb", Path(tmp) / "cache"
        shipped = load_knowledge(ROOT / "knowledge")
        write_kb(synthetic_entries(list(shipped.entries.values()), size, unique=True), kb_dir)
        return [
            asyncio.run(measure(kb_dir, cache / str(isolate), isolate, reloads)) for isolate in (True, False)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = run(args.size, args.reloads)
    if args.json:
        print(json.dumps(rows))
        return
    print(f"answers every {EVERY_S * 1000:.0f} ms during hot reloads of a {args.size}-entry knowledge base")
    for r in rows:
        d, q = r["during"], r["quiet"]
        assert isinstance(d, dict) and isinstance(q, dict)
        where = "a separate process" if r["isolated"] else "a thread"
        print(
            f"  built in {where:18}  reload {r['reload_s']:.1f} s"
            f"  during: p50 {d['p50']:.2f} p99 {d['p99']:.2f} max {d['max']:.1f} ms (n={d['n']})"
            f"  at rest: p99 {q['p99']:.2f} ms"
        )


if __name__ == "__main__":
    main()
