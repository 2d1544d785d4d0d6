"""With CI=true a skip fails the run unless tests/allowed_skips.py lists it with a reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.allowed_skips import ALLOWED_SKIPS
from tests.conftest import ROOT
from tests.skips import allowed, in_ci

SKIPPING = """
import pytest

def test_runs():
    pass

def test_needs_a_tool():
    pytest.skip("the tool is not installed")
"""


MODULE_SKIP = 'import pytest\npytest.importorskip("no_such_module_here")\n'


def run_pytest(tmp_path: Path, source: str, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_it.py").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": "true"} if ci else {})
    env["PYTHONPATH"] = str(ROOT)
    plugins = ["-p", "tests.skips", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-q", "-rs", "test_it.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_skip_fails_in_ci_and_only_there(tmp_path: Path) -> None:
    local = run_pytest(tmp_path, SKIPPING, ci=False)
    assert local.returncode == 0 and "1 passed, 1 skipped" in local.stdout, local.stdout
    ci = run_pytest(tmp_path, SKIPPING, ci=True)
    assert ci.returncode == 1, ci.stdout
    assert "skipped in CI (Skipped: the tool is not installed)" in ci.stdout
    assert ci.stdout.splitlines()[-1].startswith("1 failed, 1 passed")


def test_a_module_level_skip_fails_in_ci_too(tmp_path: Path) -> None:
    local = run_pytest(tmp_path, MODULE_SKIP, ci=False)
    assert local.returncode == pytest.ExitCode.NO_TESTS_COLLECTED and "1 skipped" in local.stdout
    ci = run_pytest(tmp_path, MODULE_SKIP, ci=True)
    assert ci.returncode == pytest.ExitCode.INTERRUPTED, ci.stdout  # a collection error
    assert "skipped in CI (Skipped: could not import 'no_such_module_here'" in ci.stdout


def test_the_allowlist_needs_a_reason_and_matches_by_node_id() -> None:
    allowlist = {"tests/x.py::test_a": "needs a GPU", "tests/y.py": "macOS only", "tests/z.py::test_c": " "}
    assert allowed("tests/x.py::test_a", allowlist) and allowed("tests/x.py::test_a[1-2]", allowlist)
    assert allowed("tests/y.py::test_anything", allowlist)
    assert not allowed("tests/x.py::test_ab", allowlist)  # a prefix of a name is not the name
    assert not allowed("tests/z.py::test_c", allowlist)  # no reason, no pass
    assert in_ci({"CI": "true"}) and not in_ci({}) and not in_ci({"CI": "false"})


@pytest.mark.parametrize("key", sorted(ALLOWED_SKIPS) or ["(empty)"])
def test_each_allowed_skip_names_a_test_file_and_says_why(key: str) -> None:
    if key == "(empty)":
        assert ALLOWED_SKIPS == {}
        return
    assert ALLOWED_SKIPS[key].strip(), key
    assert (ROOT / key.split("::")[0]).is_file(), key
