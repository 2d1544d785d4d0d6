"""The documentation: a short README, docs/ pages whose links resolve, and every setting the code
reads written down somewhere a user will find it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, ROOT / "knowledge" / "README.md"]
# files `make test` writes (git-ignored) that the docs may show: the console's screenshots
GENERATED = re.compile(r"build/screenshots/[a-z-]+\.png")

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SETTING = re.compile(r"\b(?:KUBEBOT|SLACK|DISCORD)_[A-Z0-9_]*[A-Z0-9]\b")


def documented_text() -> str:
    """Everything a user reads: the README and every page under docs/."""
    return "\n".join(p.read_text(encoding="utf-8") for p in (README, *DOCS))


def _prose(path: Path) -> list[str]:
    """The page's lines outside code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in _prose(path) if line.startswith("#")}


def test_anchor_follows_github() -> None:
    assert anchor(" 2. Create the Secret with the tokens") == "2-create-the-secret-with-the-tokens"
    assert anchor(" `kubebot report`") == "kubebot-report"
    assert anchor(" Cluster lookups (optional, read-only)") == "cluster-lookups-optional-read-only"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for line in _prose(page):
        for target in _LINK.findall(line):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file, _, fragment = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            if not path.exists() and not GENERATED.fullmatch(shown):
                broken.append(f"{target}: no {shown}")
            elif fragment and path.suffix == ".md" and fragment not in anchors(path):
                broken.append(f"{target}: no heading #{fragment} in {shown}")
    assert broken == []


def test_the_readme_is_short_and_leads_to_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for command in ("make run", "make test"):
        assert f"`{command}`" in text or command in text
    assert "build/screenshots/overview.png" in text  # where to see the console
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in _LINK.findall(text)}
    assert [p.name for p in DOCS if p.resolve() not in linked] == []


def _read_by_code() -> set[str]:
    """The settings the bot reads: every quoted KUBEBOT_*/SLACK_*/DISCORD_* name in bot/."""
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        names |= set(re.findall(r"[\"'](" + _SETTING.pattern + r")[\"']", path.read_text(encoding="utf-8")))
    return names


def test_every_setting_the_code_reads_is_documented() -> None:
    read = _read_by_code()
    assert {"KUBEBOT_KB", "KUBEBOT_DB", "SLACK_BOT_TOKEN", "DISCORD_TOKEN"} <= read  # the scan works
    documented = set(_SETTING.findall(documented_text()))
    assert sorted(read - documented) == []


def test_every_documented_kubebot_setting_exists() -> None:
    """A renamed or removed setting must leave the docs too (test and CI settings included)."""
    used = _read_by_code()
    for path in (ROOT / "tests").rglob("*.py"):
        used |= set(_SETTING.findall(path.read_text(encoding="utf-8")))
    documented = {s for s in _SETTING.findall(documented_text()) if s.startswith("KUBEBOT_")}
    assert sorted(documented - used) == []
