"""The CLI contract: other tools call it, so its output and exit codes are tested as a contract."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.text import MAX_QUESTION_CHARS
from tests.conftest import FIXTURE_KB, ROOT

KB = ["--kb", str(FIXTURE_KB)]


def run(
    argv: list[str], stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str]:
    out = io.StringIO()
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv, out=out)
    return code, out.getvalue()


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBEBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_ask_prints_the_answer_as_a_person_reads_it() -> None:
    code, out = run(["ask", *KB, "what", "is", "a", "pod"])
    assert code == 0
    assert out.startswith("What is a Pod?\n")
    assert "Analogy: A Pod is to containers what a VM was to processes." in out
    assert "$ kubectl get pod POD -o jsonpath='{.spec.containers[*].name}'" in out


def test_ask_json_fields() -> None:
    code, out = run(["ask", *KB, "--json", "what is a pod"])
    data = json.loads(out)
    assert code == 0
    keys = {"question", "band", "answered", "id", "title", "confidence", "text", "suggestions", "diagram"}
    assert set(data) == keys
    assert data["band"] == "answer" and data["answered"] is True
    assert data["id"] == "pod" and data["title"] == "What is a Pod?"
    assert isinstance(data["confidence"], float) and 0.9 < data["confidence"] <= 1.0
    assert "Pod is to containers" in data["text"]
    for s in data["suggestions"]:
        assert set(s) == {"id", "title", "confidence"}


def test_ask_json_decline_has_null_id_and_explains() -> None:
    data = json.loads(run(["ask", *KB, "--json", "banana bread recipe"])[1])
    assert data["answered"] is False and data["id"] is None and data["title"] is None
    assert "don't have an answer" in data["text"] and "topics" in data["text"]
    assert data["suggestions"] == []  # a decline offers no entries: it says what the bot knows instead


def test_batch_mode_answers_each_line_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    questions = ["what is a node", "banana", "what is a service", "", "what is a deployment"]
    code, out = run(["ask", *KB, "--json", "-"], stdin="\n".join(questions) + "\n", monkeypatch=monkeypatch)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["question"] for r in rows] == questions
    assert [r["id"] for r in rows] == ["node", None, "service", None, "deployment"]


@pytest.mark.parametrize(
    "question", ["", "   ", "x" * 1_000_000, "pod\x00\x07\x1b[2J", "🚀🔥 what is a pod 🤔", "\u202e\u200b"]
)
def test_bad_input_gets_a_helpful_reply_and_exit_0(question: str) -> None:
    code, out = run(["ask", *KB, "--json", "--", question])
    data = json.loads(out)
    assert code == 0
    assert data["text"]
    assert len(data["question"]) <= MAX_QUESTION_CHARS


def test_missing_kb_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    proc = cli("ask", "--kb", str(tmp_path / "missing"), "what is a pod")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("kubebot: error: cannot load knowledge base:")
    assert "Traceback" not in proc.stderr


def test_broken_kb_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("entries:\n  - id: x\n    title: [oops\n")
    proc = cli("ask", "--kb", str(tmp_path), "pod")
    assert proc.returncode == 2
    assert f"{tmp_path / 'a.yaml'}:" in proc.stderr and "Traceback" not in proc.stderr


def test_kb_lint_exit_codes(tmp_path: Path) -> None:
    code, out = run(["kb", "lint", str(FIXTURE_KB)])
    assert code == 0 and "9 entries" in out
    (tmp_path / "a.yaml").write_text("entries:\n  - id: Bad\n")
    code, out = run(["kb", "lint", str(tmp_path)])
    assert code == 1
    assert f"{tmp_path / 'a.yaml'}:2: bad id 'Bad'" in out


def test_kb_eval_gates(tmp_path: Path) -> None:
    eval_file = tmp_path / "eval.yaml"
    eval_file.write_text(
        "- {q: whats a po, expect: pod}\n- {q: banana bread recipe, expect: null}\n"
        "- {q: how do i bake a cake, expect: node}\n"
    )
    code, out = run(["kb", "eval", *KB, str(eval_file)])
    assert code == 0
    assert "top-1 accuracy:       50.0%" in out
    assert "off-topic declined:   100.0%" in out
    assert run(["kb", "eval", *KB, str(eval_file), "--min-top1", "0.9"])[0] == 1
    assert run(["kb", "eval", *KB, str(eval_file), "--min-declined", "1.0"])[0] == 0


def test_topics_lists_entries_by_tag() -> None:
    code, out = run(["topics", *KB])
    assert code == 0
    assert "debugging:" in out and "Why is my pod in CrashLoopBackOff? (crashloopbackoff)" in out


def test_help_documents_every_command() -> None:
    proc = cli("--help")
    for command in ("ask", "chat", "topics", "kb", "serve", "cluster", "report"):
        assert command in proc.stdout
    assert "lint" in cli("kb", "--help").stdout and "eval" in cli("kb", "--help").stdout


def test_chat_answers_each_piped_line() -> None:
    proc = cli("chat", *KB, stdin="what is a pod\nhelp\nwhat is a node\n")
    assert proc.returncode == 0
    assert (
        proc.stdout.index("What is a Pod?")
        < proc.stdout.index("learn [PATH]")
        < proc.stdout.index("What is a Node?")
    )


def test_ask_does_not_import_platform_or_cluster_code() -> None:
    code = (
        "import sys, io; from bot.cli import main; main(['ask', 'what is a pod'], out=io.StringIO()); "
        "bad = [m for m in ('slack_bolt', 'slack_sdk', 'discord', 'lightkube', 'aiohttp', 'psycopg') "
        "if m in sys.modules]; print(bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_ask_from_a_warm_index_cache_does_not_parse_yaml(tmp_path: Path) -> None:
    """A start from the index cache reads JSON and numpy only: PyYAML (~15 ms of imports) is for
    parsing a knowledge base, which the cache makes unnecessary; numpy.ma (~20 ms, imported by the
    first call of ``np.unique``) is needed by neither."""
    env = {**os.environ, "KUBEBOT_INDEX_CACHE": str(tmp_path / "cache")}
    env.pop("KUBEBOT_CONFIG", None)
    code = (
        "import sys, io; from bot.cli import main; main(['ask', 'what is a pod'], out=io.StringIO()); "
        "print('yaml' in sys.modules, 'numpy.ma' in sys.modules)"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert first.stdout.split()[0] == "True", first.stderr  # a cold cache: the knowledge base is parsed
    again = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert again.stdout.split() == ["False", "False"], again.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_no_string_crashes_ask(question: str) -> None:
    assume(question != "-")  # a lone "-" means: read questions from stdin
    out = io.StringIO()
    assert main(["ask", *KB, "--json", "--", question], out=out) == 0
    assert json.loads(out.getvalue())["text"]


def test_kb_index_fills_the_cache_and_reports_problems(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    code, out = run(["kb", "index", str(FIXTURE_KB), "--cache", str(cache), "--json"])
    assert code == 0 and json.loads(out)["entries"] >= 5
    assert len(list(cache.glob("index-*.npz"))) == 1
    broken = tmp_path / "kb"
    broken.mkdir()
    (broken / "entries.yaml").write_text("entries:\n  - id: x\n", encoding="utf-8")
    code, out = run(["kb", "index", str(broken), "--cache", str(cache), "--json"])
    problems = json.loads(out)["problems"]
    assert code == 1 and problems and problems[0]["path"] == str(broken / "entries.yaml")
    assert len(list(cache.glob("index-*.npz"))) == 1
