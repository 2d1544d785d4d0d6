"""An installed wheel carries the knowledge base and finds it without a checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, capture_output=True, timeout=300)


def test_wheel_ships_the_knowledge_base_and_finds_it(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    pip("wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT))
    (wheel,) = wheels.glob("kubebot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/knowledge_data/paths.yaml" in names
    assert sum(n.startswith("bot/knowledge_data/") and n.endswith(".yaml") for n in names) >= 20
    # the console's templates and stylesheet are package data, served from the installed copy
    assert {"bot/console/templates/base.html", "bot/console/static/console.css"} <= set(names)
    # diagrams: every source with its PNG (the installed `kb lint` below checks they match)
    assert "bot/knowledge_data/diagrams/pod.png" in names and "bot/knowledge_data/diagrams/style.dot" in names
    target = tmp_path / "site"
    pip("install", "-q", "--no-deps", "--target", str(target), str(wheel))
    # run from an unrelated directory, with only the installed copy of `bot` importable first
    code = "import bot.knowledge as k, bot.cli as c; print(k.__file__); c.main(['kb', 'lint'])"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(target))
    assert lines[1].startswith(f"{target / 'bot' / 'knowledge_data'}: ") and lines[1].endswith(": ok")
