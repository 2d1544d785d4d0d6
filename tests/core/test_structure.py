"""The package's seams: no import cycles, adapters go through the service, one composition root."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in BOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Which bot module imports which, counting every import: module level, inside functions and
    under TYPE_CHECKING alike (a lazy import is still a dependency)."""
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for name in names:
                target = owner(name) if name.split(".")[0] == "bot" else None
                if target and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_bot_has_no_import_cycles() -> None:
    graph = import_graph()
    assert "bot.runtime" in graph["bot.cli.main"] and "bot.app" in graph["bot.runtime"]  # the graph is read
    assert cycles(graph) == []


def test_the_command_line_runtime_and_console_share_one_composition_root() -> None:
    graph = import_graph()
    for user in ("bot.cli.answer", "bot.runtime", "bot.console.server"):
        assert "bot.app" in graph[user], user
    # nothing but `python -m bot` imports the command line: the runtime no longer reaches back into it
    importers = {m for m, deps in graph.items() if not m.startswith("bot.cli") and "bot.cli" in deps}
    assert importers == {"bot.__main__"}


def test_store_backends_depend_on_base_not_on_the_factory() -> None:
    graph = import_graph()
    for backend in ("bot.store.sqlite", "bot.store.postgres"):
        assert "bot.store" not in graph[backend]
        assert "bot.store.migrations" in graph[backend]
    assert {"bot.store.sqlite", "bot.store.postgres"} <= graph["bot.store"]
    assert not graph["bot.store.base"] & {"bot.store", "bot.store.sqlite", "bot.store.postgres"}


def test_the_store_and_the_cluster_reader_never_import_the_layers_above_them() -> None:
    """Command-line code lives in bot/cli/, not in store/ or cluster/ (which the service uses)."""
    above = {"bot.service", "bot.app", "bot.runtime", "bot.cli", "bot.report"}
    graph = import_graph()
    offenders = {
        m: sorted(d for d in deps if d in above or d.startswith("bot.cli."))
        for m, deps in graph.items()
        if m.startswith(("bot.store", "bot.cluster"))
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def _lines_with(package: str, *needles: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((BOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(needle in line for needle in needles)
    ]


def test_chat_adapters_never_reach_into_the_matcher_or_the_knowledge_base() -> None:
    """Slack and Discord ask the service (passive_answer, complete, paths, lookup, ...)."""
    assert _lines_with("adapters", ".holder", ".matcher", ".current.kb", "snapshot") == []


def test_the_console_reads_the_current_snapshot_through_the_service() -> None:
    assert _lines_with("console", "holder.current") == []


# how each entry point starts: the `kubebot` console script is `bot.cli:main`
ENTRY_POINTS = {
    "kubebot": "from bot.cli import main\nraise SystemExit(main())\n",
    "python -m bot": "import runpy\nsys.argv[0] = 'bot'\nrunpy.run_module('bot', run_name='__main__')\n",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_ask_imports_no_platform_cluster_or_driver_code(entry: str) -> None:
    probe = (
        "import atexit, sys\n"
        "def report():\n"
        "    heavy = ('slack_bolt', 'slack_sdk', 'discord', 'lightkube', 'aiohttp', 'psycopg', 'jinja2')\n"
        "    print('LOADED', [m for m in heavy if m in sys.modules], file=sys.stderr)\n"
        "atexit.register(report)\n"
    )
    args = [sys.executable, "-c", probe + ENTRY_POINTS[entry], "ask", "what is a pod"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "What is a Pod?" in proc.stdout
    assert "LOADED []" in proc.stderr
