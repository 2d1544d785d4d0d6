"""With CI=true a skipped test fails, unless tests/allowed_skips.py lists it with a reason.

Locally a test whose tool is missing (PostgreSQL, kubectl, hadolint, chromium, Graphviz) skips
and says why; in CI that would pass a run that never ran it, so the skip becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping

import pytest

from tests.allowed_skips import ALLOWED_SKIPS


def in_ci(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get("CI", "").strip().lower() in ("true", "1", "yes")


def allowed(nodeid: str, allowlist: Mapping[str, str] = ALLOWED_SKIPS) -> bool:
    """Whether the allowlist names this test (or its file, or the test without parameters) with a reason."""
    return any(
        why.strip() and (nodeid == key or nodeid.startswith((f"{key}::", f"{key}[")))
        for key, why in allowlist.items()
    )


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail") or not in_ci() or allowed(report.nodeid):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped in CI ({_reason(report)}): CI=true must run every test; install what it needs in "
        ".ci/run, or list it in tests/allowed_skips.py with the reason it may skip"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_in_ci(report)
    return report
