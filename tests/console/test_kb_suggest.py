"""`kubebot kb suggest [--apply]`: suggestions from the store, written into the KB files in place."""

from __future__ import annotations

import difflib
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.console import kbwrite
from bot.knowledge import load_knowledge
from tests.conftest import SHIPPED_KB


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(SHIPPED_KB, target)
    return target


def run(
    monkeypatch: pytest.MonkeyPatch, db: str, kb: Path, *args: str, mode: str = "full"
) -> tuple[int, str]:
    monkeypatch.setenv("KUBEBOT_DB", db)
    monkeypatch.setenv("KUBEBOT_STORE_QUESTIONS", mode)
    monkeypatch.delenv("KUBEBOT_CONFIG", raising=False)
    out = io.StringIO()
    code = main(["kb", "suggest", "--kb", str(kb), "--since", "30d", *args], out=out)
    return code, out.getvalue()


def listed(monkeypatch: pytest.MonkeyPatch, db: str, kb: Path) -> dict[str, dict[str, object]]:
    code, text = run(monkeypatch, db, kb, "--json")
    assert code == 0
    return {f"{s['question']} -> {s['entry']}": s for s in json.loads(text)}


def added_lines(before: dict[Path, str], kb: Path) -> list[str]:
    """Every changed line of every file: only insertions are allowed."""
    added = []
    for path in sorted(kb.rglob("*.yaml")):
        old, new = before[path].splitlines(), path.read_text(encoding="utf-8").splitlines()
        for line in difflib.unified_diff(old, new, lineterm="", n=0):
            if line.startswith(("---", "+++", "@@")):
                continue
            assert line.startswith("+"), f"{path}: a line was changed or removed: {line}"
            added.append(line[1:].strip())
    return added


def test_picks_are_listed_then_applied_in_place(monkeypatch: pytest.MonkeyPatch, db: str, kb: Path) -> None:
    items = listed(monkeypatch, db, kb)
    new = {k for k, s in items.items() if s["status"] == "new"}
    assert "pods keep dying -> crashloopbackoff" in new
    assert items["pods keep dying -> oomkilled"]["status"] == "ambiguous"  # 1 pick against 3
    assert items["what is a pod -> pod"]["status"] == "answered"  # nothing to add
    # a question the bot declined is never applied without --only; the knowledge base may answer
    # some of them by now ("answered": the shipped KB grows, the seeded store does not)
    declined = {k: s["status"] for k, s in items.items() if s["source"] == "declined"}
    assert set(declined.values()) <= {"review", "new-entry", "present", "conflict", "answered"}, declined
    assert "new-entry" in declined.values() and "review" in declined.values(), declined

    before = {p: p.read_text(encoding="utf-8") for p in kb.rglob("*.yaml")}
    code, text = run(monkeypatch, db, kb, "--apply")
    assert code == 0, text
    assert "git diff" in text
    added = added_lines(before, kb)
    assert sorted(a.strip("'\"- ") for a in added) == sorted(k.split(" -> ")[0] for k in new)
    reloaded = load_knowledge(kb)
    assert "pods keep dying" in reloaded.entries["crashloopbackoff"].questions
    assert "pods keep dying" not in reloaded.entries["oomkilled"].questions
    # applied once: the next run no longer offers them
    again = listed(monkeypatch, db, kb)
    assert not any(s["status"] == "new" for s in again.values())
    assert again["pods keep dying -> crashloopbackoff"]["status"] in ("present", "answered")


def test_only_applies_a_named_suggestion(monkeypatch: pytest.MonkeyPatch, db: str, kb: Path) -> None:
    items = listed(monkeypatch, db, kb)
    ambiguous = items["pods keep dying -> oomkilled"]
    before = {p: p.read_text(encoding="utf-8") for p in kb.rglob("*.yaml")}
    code, text = run(monkeypatch, db, kb, "--apply", "--only", str(ambiguous["id"]))
    assert code == 0, text
    assert added_lines(before, kb) == ["- pods keep dying"]
    assert "pods keep dying" in load_knowledge(kb).entries["oomkilled"].questions


def test_only_refuses_what_cannot_be_applied(
    monkeypatch: pytest.MonkeyPatch, db: str, kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answered = listed(monkeypatch, db, kb)["what is a pod -> pod"]
    before = {p: p.read_text(encoding="utf-8") for p in kb.rglob("*.yaml")}
    assert run(monkeypatch, db, kb, "--apply", "--only", str(answered["id"]))[0] == 2
    assert run(monkeypatch, db, kb, "--apply", "--only", "0000000000")[0] == 2
    err = capsys.readouterr().err
    assert "is answered" in err and "no suggestion with id 0000000000" in err
    assert added_lines(before, kb) == []


def test_hash_mode_suggests_nothing_to_write(monkeypatch: pytest.MonkeyPatch, db: str, kb: Path) -> None:
    code, text = run(monkeypatch, db, kb, "--apply", mode="hash")
    assert code == 0 and "Nothing to apply." in text
    assert "pods keep dying" not in text and "hashed" in text


EDGY = """\
# A hand-written file: comments, quotes, folded text and a flow list must all survive.
kubernetes_version: "1.35"
entries:
  # the first entry
  - id: alpha
    title: What is alpha?   # trailing comment
    questions:
      - what is alpha
      - 'alpha: the quoted one'
      - "alpha vs beta"
    tags: [greek, letters]
    answer: >-
      Alpha is the first letter, and this folded text spans
      two lines in the file.
    sources:
      - https://kubernetes.io/docs/home/

  - id: beta
    title: What is beta?
    questions:
      - what is beta
      - beta explained
      - second greek letter
    answer: Beta comes second.
    sources: [https://kubernetes.io/docs/home/]
"""


def test_comments_and_layout_survive_an_apply(tmp_path: Path) -> None:
    (tmp_path / "greek.yaml").write_text(EDGY, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    changes = kbwrite.apply(kb, [("alpha", "first letter: alpha?"), ("beta", "what comes after alpha")])
    after = (tmp_path / "greek.yaml").read_text(encoding="utf-8")
    diff = [line for line in difflib.ndiff(EDGY.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert diff == ["+       - 'first letter: alpha?'", "+       - what comes after alpha"]
    assert [c.added for c in changes] == [
        (("alpha", "first letter: alpha?"), ("beta", "what comes after alpha"))
    ]


def test_nothing_is_written_when_the_kb_would_not_load(tmp_path: Path) -> None:
    (tmp_path / "greek.yaml").write_text(EDGY, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    with pytest.raises(kbwrite.ApplyError, match=r"reads the same|also under entry"):
        kbwrite.apply(kb, [("alpha", "beta explained")])  # beta's own question
    assert (tmp_path / "greek.yaml").read_text(encoding="utf-8") == EDGY


def test_a_layout_that_does_not_round_trip_is_left_alone(tmp_path: Path) -> None:
    odd = EDGY.replace("    questions:\n      - what is alpha", "    questions:\n      -   what is alpha")
    (tmp_path / "greek.yaml").write_text(odd, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    with pytest.raises(kbwrite.ApplyError, match="by hand"):
        kbwrite.apply(kb, [("alpha", "alpha letter meaning")])
    assert (tmp_path / "greek.yaml").read_text(encoding="utf-8") == odd
