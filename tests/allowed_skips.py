"""The tests that may skip when CI=true, each with the reason. Any other skip fails a CI run
(tests/skips.py), so a missing PostgreSQL, kubectl, hadolint, chromium or Graphviz on CI's
machine is a red run, never a quietly shorter one.

Keys are test node ids, or a prefix of them (a file, a test without its parameters).
"""

from __future__ import annotations

ALLOWED_SKIPS: dict[str, str] = {
    # Nothing needs to skip in CI today: .ci/run installs every tool the tests use.
}
