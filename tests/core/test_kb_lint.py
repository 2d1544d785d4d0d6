"""Freshness: `kb lint` warns (exit 0) about files checked against an old Kubernetes version."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.kb_lint import freshness_warnings, newest_named_version, version_facts
from bot.knowledge import KnowledgeBase, load_knowledge


def entry_file(entry_id: str, answer: str = "A thing.", version: str | None = "1.35") -> str:
    head = f'kubernetes_version: "{version}"\n' if version else ""
    return head + textwrap.dedent(
        f"""\
        entries:
          - id: {entry_id}
            title: What is {entry_id}?
            questions:
              - what is {entry_id}
              - explain {entry_id} to me
              - {entry_id} meaning
            answer: {answer}
            tips:
              - text: Look at it
                command: kubectl run t --image=busybox:1.99 -- sh
            sources: [https://kubernetes.io/docs/home/]
        """
    )


def kb_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def lint(path: Path) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = main(["kb", "lint", str(path)], out=out)
    return code, out.getvalue().splitlines()


@pytest.mark.parametrize(
    ("text", "minors"),
    [
        ("PodSecurityPolicy was removed in 1.25.", [25]),
        ("Native sidecars: beta since Kubernetes 1.29, GA in 1.33.", [29, 33]),
        ("`kubectl create token` (1.24+) and k8s v1.30.2 clusters", [24, 30]),
        ("As of 1.27 the flag is gone", [27]),
        ("use busybox:1.36, Go 1.21, TLS 1.2, HTTP/1.1 and myapp:1.4+", []),
        ("wait 1.5 seconds, then nothing", []),
    ],
)
def test_what_counts_as_a_version_fact(text: str, minors: list[int]) -> None:
    assert version_facts(text) == minors


def test_a_file_more_than_three_minors_behind_the_newest_file_is_warned(tmp_path: Path) -> None:
    root = kb_dir(
        tmp_path,
        {
            "new.yaml": entry_file("alpha", version="1.35"),
            "ok.yaml": entry_file("beta", version="1.32"),  # exactly three behind: fine
            "old.yaml": entry_file("gamma", version="1.31"),  # four behind: warned
        },
    )
    code, lines = lint(root)
    assert code == 0
    warnings = [line for line in lines if ": warning: " in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{root / 'old.yaml'}:1: warning: kubernetes_version 1.31 is 4 minor")
    assert "1.35" in warnings[0] and f"{root / 'new.yaml'}:1" in warnings[0]
    assert lines[-1].endswith("ok (1 warning(s))")


def test_a_version_fact_in_entry_text_counts_as_named(tmp_path: Path) -> None:
    root = kb_dir(
        tmp_path,
        {
            "a.yaml": entry_file("alpha", answer="Beta since 1.34, GA in Kubernetes 1.36.", version="1.33"),
            "b.yaml": "# checked again\n" + entry_file("beta", version="1.32"),
        },
    )
    kb = load_knowledge(root)
    newest = newest_named_version(kb)
    assert newest is not None and newest.version == "1.36" and newest.path == str(root / "a.yaml")
    warnings = freshness_warnings(kb)
    assert [(Path(w.path).name, w.line) for w in warnings] == [("b.yaml", 2)]
    assert "4 minor versions behind 1.36" in warnings[0].message


def test_image_tags_in_commands_are_not_versions(tmp_path: Path) -> None:
    # the tip command pulls busybox:1.99; were it read as Kubernetes 1.99, 1.35 would be stale
    root = kb_dir(tmp_path, {"a.yaml": entry_file("alpha", version="1.35")})
    assert freshness_warnings(load_knowledge(root)) == []
    assert lint(root) == (0, [f"{root}: 1 entries, 0 paths, 0 synonyms: ok"])


def test_a_file_without_a_version_is_warned_but_lint_passes(tmp_path: Path) -> None:
    root = kb_dir(tmp_path, {"a.yaml": entry_file("alpha", version=None)})
    code, lines = lint(root)
    assert code == 0
    assert lines[0] == f"{root / 'a.yaml'}:1: warning: states no kubernetes_version " + (
        '(add e.g. kubernetes_version: "1.35")'
    )


def test_errors_still_fail_and_come_without_warnings(tmp_path: Path) -> None:
    root = kb_dir(tmp_path, {"a.yaml": entry_file("Bad", version="1.20"), "b.yaml": entry_file("ok")})
    code, lines = lint(root)
    assert code == 1
    assert not [line for line in lines if ": warning: " in line]


def test_the_shipped_kb_has_no_freshness_warnings(shipped_kb: KnowledgeBase) -> None:
    assert [str(w) for w in freshness_warnings(shipped_kb)] == []
