"""Whatever the knowledge base holds, a reply fits the platform: a 10 MB answer is one response_url
post within Slack's limits (Slack takes five posts per command), and `kubebot kb lint` warns about
entries that would be shown cut, without failing."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import yaml

from bot.app import build_service
from bot.cli import main

from .conftest import FIXTURE_KB, MakeBot
from .slack_fakes import action_ids, all_text


async def test_a_10_mb_answer_is_exactly_one_response_url_post(make_bot: MakeBot) -> None:
    service = build_service(FIXTURE_KB)
    entries = service.holder.current.kb.entries
    entries["pod"] = replace(entries["pod"], answer="A Pod <runs> containers & more. " * 330_000)
    bot = await make_bot(service=service)
    started = time.perf_counter()
    assert (await bot.command("what is a pod"))[0] == 200
    await bot.settle()
    [reply] = bot.fake.of("response_url")  # the fake also checks 50 blocks / 3,000 chars per section
    assert "too long for Slack" in all_text(reply.data)
    assert "A Pod &lt;runs&gt; containers &amp; more." in all_text(reply.data)
    assert action_ids(reply.data)[-1] == "kubebot_share"
    assert time.perf_counter() - started < 10  # rendering does not split 10 MB it cannot show


def write_kb(root: Path, answer: str) -> Path:
    root.mkdir()
    for name in ("paths.yaml", "synonyms.yaml"):
        (root / name).write_text((FIXTURE_KB / name).read_text())
    data = yaml.safe_load((FIXTURE_KB / "entries.yaml").read_text())
    data["entries"][0]["answer"] = answer
    data["kubernetes_version"] = "1.35"  # a fresh file: the only possible warning is the cut
    (root / "entries.yaml").write_text(yaml.safe_dump(data))
    return root


def lint(kb: Path) -> tuple[int, str]:
    out = io.StringIO()
    return main(["kb", "lint", str(kb)], out=out), out.getvalue()


def test_kb_lint_warns_about_entries_a_platform_would_cut(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb", "A long, long answer. " * 2_000)  # 42k characters
    first = yaml.safe_load((kb / "entries.yaml").read_text())["entries"][0]["id"]
    code, out = lint(kb)
    assert code == 0  # a warning, not a failure
    [warning] = [line for line in out.splitlines() if "warning:" in line]
    assert warning.startswith(f"{kb / 'entries.yaml'}:") and f"'{first}' is too long for" in warning
    assert "Slack" in warning and "Discord" in warning
    assert out.rstrip().endswith("ok (1 warning(s))")


def test_kb_lint_is_quiet_about_entries_that_fit(tmp_path: Path) -> None:
    code, out = lint(write_kb(tmp_path / "kb", "A short answer."))
    assert code == 0 and "warning" not in out
