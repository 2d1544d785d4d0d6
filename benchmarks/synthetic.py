"""Synthetic inputs shared by `bench_matching.py` and the matcher's golden test.

- `synthetic_entries`: a knowledge base of any size, the shipped entries first, then perturbed
  copies (one word dropped, one fresh made-up word inserted per question) so that common words
  are shared by thousands of entries, as in a large merged knowledge base.
- `question_mix`: the realistic per-question mix: chat-length questions and real pasted posts.
- `big_paste`: a deterministic ~1 MB paste (a post, then a long log) for the worst-case input.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from bot.evaluate import EvalItem, load_eval_file
from bot.models import Entry, Tip

ROOT = Path(__file__).resolve().parent.parent
_DUMPER: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SYLLABLES = ["ka", "ro", "mi", "zu", "te", "la", "po", "ne", "vi", "sha", "dor", "qu", "ex", "bin", "tal"]


def synthetic_entries(base: Sequence[Entry], size: int, seed: int = 7, unique: bool = False) -> list[Entry]:
    """`size` entries: the shipped ones first, then perturbed copies with fresh words mixed in
    (``unique``: a different made-up word for every copy, so the result passes `kubebot kb lint`)."""
    rng = random.Random(seed)
    out = list(base)
    copy = 0
    while len(out) < size:
        copy += 1
        for entry in base:
            if len(out) >= size:
                break
            word = "".join(rng.choice(SYLLABLES) for _ in range(3))
            if unique:
                word += _spell(len(out))
            questions = []
            for q in entry.questions:
                words = q.split()
                if len(words) > 2 and rng.random() < 0.5 and not unique:  # two questions might meet
                    words.pop(rng.randrange(len(words)))
                words.insert(rng.randrange(len(words) + 1), word)
                questions.append(" ".join(words))
            out.append(
                replace(
                    entry,
                    id=f"{entry.id}-{copy}",
                    title=f"{entry.title} ({word})",
                    questions=tuple(questions),
                )
            )
    return out


def _spell(number: int) -> str:
    """A number as syllables: a made-up word no other number gives."""
    letters = []
    while True:
        number, digit = divmod(number, len(SYLLABLES))
        letters.append(SYLLABLES[digit])
        if not number:
            return "".join(letters) + "x"


def write_kb(entries: Sequence[Entry], root: Path, per_file: int = 500) -> None:
    """A knowledge-base directory holding ``entries``, with the shipped synonyms, domain words and
    tours (`kubebot ask --kb root` loads it)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("synonyms.yaml", "domain.yaml", "paths.yaml"):
        (root / name).write_bytes((ROOT / "knowledge" / name).read_bytes())
    for number, lo in enumerate(range(0, len(entries), per_file)):
        rows = [
            {
                "id": e.id,
                "title": e.title,
                "questions": list(e.questions),
                **({"tags": list(e.tags)} if e.tags else {}),
                **({"analogy": e.analogy} if e.analogy else {}),
                "answer": e.answer,
                **({"tips": [_tip(t) for t in e.tips]} if e.tips else {}),
                **({"see_also": list(e.see_also)} if e.see_also else {}),
                "sources": list(e.sources),
            }
            for e in entries[lo : lo + per_file]
        ]
        text = yaml.dump({"entries": rows}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
        (root / f"part-{number:04d}.yaml").write_text(text, encoding="utf-8")


def _tip(tip: Tip) -> dict[str, str]:
    return {"text": tip.text, **({"command": tip.command} if tip.command else {})}


def load_items(*paths: str) -> list[EvalItem]:
    return [item for p in paths for item in load_eval_file(ROOT / p)]


def question_mix() -> tuple[list[str], list[str]]:
    """(chat-length questions, pasted posts): the held-out chat questions and the calibration ones,
    plus the real threads of the fit split, split by their `form`."""
    chat = [i.question for i in load_items("tests/eval", "benchmarks/calib")]
    real = load_items("benchmarks/real/fit.yaml")
    chat += [i.question for i in real if i.form == "short"]
    posts = [i.question for i in real if i.form != "short"]
    return chat, posts


def big_pastes(size: int = 1_000_000, seed: int = 5) -> dict[str, str]:
    """~1 MB pastes of several shapes, every line different (so nothing is classified only once):
    a log, `kubectl describe` of many pods, a YAML manifest, prose, and one line without breaks."""
    rng = random.Random(seed)
    title = "pods keep restarting after the upgrade\nAll of them, logs and describe below.\n"

    def fill(make: Callable[[int], str]) -> str:
        parts, total, i = [title], len(title), 0
        while total < size:
            line = make(i)
            parts.append(line + "\n")
            total += len(line) + 1
            i += 1
        return "".join(parts)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))

    return {
        "log": big_paste(size, seed),
        "describe": fill(
            lambda i: rng.choice(
                [
                    f"Name:         {word()}-{rng.randrange(16**9):09x}-{word()[:5]}",
                    f"Node:         worker-{i % 97}/10.{i % 256}.{i % 13}.{i % 7}",
                    f"    Image:          registry.local/{word()}:{i % 9}.{i % 31}",
                    f"    Last State:     Terminated {word()}",
                    f"      Exit Code:    {i % 256}",
                    f"  Warning  BackOff  {i % 60}s (x{i % 9} over {i % 50}m)  kubelet  Back-off {word()}",
                    f"  Normal   Pulled   {i % 60}s   kubelet  Successfully pulled image {word()} in {i}ms",
                ]
            )
        ),
        "yaml": fill(lambda i: f"{'  ' * (i % 5)}{word()}{i}: {word()}-{i % 1000}"),
        "prose": fill(lambda i: " ".join(word() for _ in range(rng.randint(8, 16))) + "."),
        "oneline": "pod crashloop " + " ".join(word() for _ in range(size // 6)),
    }


def big_paste(size: int = 1_000_000, seed: int = 3) -> str:
    """A post about a crash-looping pod followed by ~``size`` characters of log and describe output."""
    rng = random.Random(seed)
    head = (
        "pod keeps restarting with CrashLoopBackOff after upgrade\n"
        "Since we upgraded the chart the api pod restarts every minute. Logs below.\n\n```\n"
    )
    templates = [
        "2024-05-0{d}T1{h}:2{m}:0{s}.123Z INFO  request served path=/api/v1/items/{n} status=200 took={n}ms",
        "E050{d} 1{h}:2{m}:0{s}.0042 {n} reflector.go:{n}] failed to list *v1.Pod: connection refused",
        "  Warning  BackOff  {n}s (x{d} over 5m)  kubelet  Back-off restarting failed container api",
        "api-7d9f8b6c5-x2k4z   0/1     CrashLoopBackOff   {n}          {d}m",
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1",
        '  Normal   Pulled   {n}s   kubelet  Container image "registry.local/api:1.{d}.{n}" already present',
        '{{"level":"debug","ts":"2024-05-0{d}","msg":"cache refreshed","items":{n}}}',
    ]
    parts = [head]
    total = len(head)
    while total < size:
        line = rng.choice(templates).format(
            d=rng.randrange(1, 9),
            h=rng.randrange(10),
            m=rng.randrange(10),
            s=rng.randrange(10),
            n=rng.randrange(10_000),
        )
        parts.append(line + "\n")
        total += len(line) + 1
    parts.append("```\nAny idea what is wrong? exit code 1 every time.\n")
    return "".join(parts)
