"""`kubebot report`: declined questions clustered, lowest-rated and most-asked entries."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from bot.app import load_snapshot
from bot.cli import main
from bot.config import ConfigError
from bot.question_groups import group_questions, similarity
from bot.report import build_report, parse_since
from bot.service import Snapshot
from bot.store import open_store
from bot.store.base import FeedbackRow, QuestionRow, question_hash
from bot.text import normalize_basic

FIXTURE_KB = Path(__file__).resolve().parents[1] / "fixtures" / "kb"

ISTIO = [
    "how do i set up istio",
    "How do I set up Istio?",
    "how to set up istio",
    "how do i setup istio",
    "setting up istio",
    "istio set up",
    "how can i set up istio on my cluster",
    "how do you set up istio",
    "set up istio please",
    "how do i set up istoi",  # a typo
]
OTHERS = [
    "what is helm",
    "how do i use helm",
    "what is a helm chart",
    "how do i rotate certificates",
    "what is argo cd",
    "service mesh",
    "what is a service mesh",
    "pizza recipe",
    "set up prometheus",
    "how do i set up linkerd",
    "istio vs linkerd",
    "what is a statefulset",
    "kubectl logs",
    "set up",
    "how do i debug a pod stuck in pending",
    "configure a pod disruption budget",
]


def test_ten_spellings_of_one_missing_topic_are_one_row() -> None:
    snapshot = load_snapshot(FIXTURE_KB)
    mix = [q for pair in zip(ISTIO, OTHERS, strict=False) for q in pair] + OTHERS[len(ISTIO) :]
    clusters = group_questions(mix, snapshot.matcher.normalizer.tokens)
    top = clusters[0]
    assert top.count == 10
    assert top.representative == "how do i set up istio"  # the most frequent spelling leads
    assert set(top.examples) == {normalize_basic(q) for q in ISTIO}  # 9 distinct spellings
    rest = {e for c in clusters[1:] for e in c.examples}
    # different topics that share words with it stay apart
    for other in (
        "how do i set up linkerd",
        "istio vs linkerd",
        "set up",
        "set up prometheus",
        "service mesh",
    ):
        assert other in rest
    assert sum(c.count for c in clusters) == len(mix)


def test_similarity_weighs_topics_over_generic_verbs() -> None:
    assert similarity(("set", "up", "istio"), ("setup", "istio")) > 0.7
    assert similarity(("set", "up", "istio"), ("install", "istio")) >= 0.5
    assert similarity(("set", "up", "istio"), ("set", "up", "linkerd")) < 0.5
    assert similarity(("set", "up"), ("set", "up", "istio")) < 0.5
    assert similarity(("rotate", "certificate"), ("cert", "rotation")) > 0.5


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("24h", 86400), ("7d", 604800), ("2w", 1209600)]
)
def test_since_periods(text: str, seconds: int) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "d", "-1d", "0d", "7y", "seven days"])
def test_bad_since_is_a_clear_error(text: str) -> None:
    with pytest.raises(ConfigError, match="--since"):
        parse_since(text)


def fill(url: str) -> None:
    now = time.time()
    rows = [QuestionRow(now - 60, "slack", "channel", "declined", None, 0.1, q) for q in ISTIO + OTHERS]
    rows += [QuestionRow(now - 60, "slack", "channel", "answered", "pod", 0.9, "what is a pod")] * 5
    rows += [QuestionRow(now - 60, "discord", "command", "answered", "node", 0.9, "what is a node")] * 2
    rows += [QuestionRow(now - 60, "slack", "direct", "suggested", None, 0.5, "pod or node")]
    rows += [QuestionRow(now - 10 * 86400, "slack", "channel", "declined", None, 0.1, "an old question")]
    feedback = [FeedbackRow(now - 30, "pod", True, "slack", "channel")] * 4
    feedback += [FeedbackRow(now - 30, "node", False, "slack", "channel")] * 3
    feedback += [FeedbackRow(now - 30, "node", True, "slack", "channel")]
    feedback += [FeedbackRow(now - 30, None, False, "slack", "channel", "how do i set up istio")] * 2
    store = open_store(url)
    store.write(rows, feedback)
    store.close()


def run(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> str:
    monkeypatch.setenv("KUBEBOT_DB", url)
    monkeypatch.delenv("KUBEBOT_CONFIG", raising=False)
    out = io.StringIO()
    assert main(["report", "--kb", str(FIXTURE_KB), *args], out=out) == 0
    return out.getvalue()


def test_report_json_end_to_end(monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    fill(store_url)
    data = json.loads(run(monkeypatch, store_url, "--json"))
    totals = data["totals"]
    assert (totals["questions"], totals["answered"], totals["suggested"], totals["declined"]) == (
        34,
        7,
        1,
        26,
    )
    assert (totals["helpful"], totals["unhelpful"], totals["decline_unhelpful"]) == (5, 3, 2)
    top = data["declined"][0]
    assert (top["question"], top["count"]) == ("how do i set up istio", 10)
    assert "an old question" not in json.dumps(data["declined"])  # outside the 7 days
    by_question = {c["question"]: c for c in data["declined"]}
    pending = next(c for c in data["declined"] if "how do i debug a pod stuck in pending" in c["examples"])
    assert pending["closest"]["id"] == "pod"  # a candidate for a new alternate question
    assert by_question["pizza recipe"]["closest"] is None
    assert [(e["id"], e["helpful"], e["unhelpful"]) for e in data["lowest_rated"]] == [
        ("node", 1, 3),
        ("pod", 4, 0),
    ]
    assert [(e["id"], e["asked"]) for e in data["most_asked"]] == [("pod", 5), ("node", 2)]
    assert data["most_asked"][0]["title"] == "What is a Pod?"

    wider = json.loads(run(monkeypatch, store_url, "--json", "--since", "2w"))
    assert wider["totals"]["questions"] == 35
    assert any(c["question"] == "an old question" for c in wider["declined"])


def test_report_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = str(tmp_path / "k.db")
    fill(url)
    text = run(monkeypatch, url)
    assert "Questions: 34 (answered 7, did-you-mean 1, declined 26)" in text
    assert "  10×  how do i set up istio" in text
    assert "closest entry: pod (What is a Pod?)" in text
    lowest = text.split("Lowest-rated entries:")[1].split("Most-asked entries:")[0]
    assert lowest.index("node  What is a Node?") < lowest.index("pod  What is a Pod?")
    assert "👎   3  node" in lowest
    most = text.split("Most-asked entries:")[1]
    assert "      5  pod  What is a Pod?" in most


def test_hashed_questions_are_counted_by_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = str(tmp_path / "k.db")
    now = time.time()
    digest = question_hash("how do i set up istio")
    rows = [QuestionRow(now, "slack", "channel", "declined", None, 0.1, None, digest)] * 3
    rows += [QuestionRow(now, "slack", "channel", "declined", None, 0.1, None, None)] * 2  # stored with =off
    store = open_store(url)
    store.write(rows, [])
    store.close()
    data = json.loads(run(monkeypatch, url, "--json"))
    assert data["declined"] == [
        {"question": f"sha256:{digest[:16]}", "count": 3, "examples": [], "closest": None, "hashed": True}
    ]
    assert data["totals"]["declined_without_text"] == 2
    assert "2 declined question(s) without stored text" in run(monkeypatch, url)


def test_report_without_a_database_creates_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = str(tmp_path / "missing" / "k.db")
    text = run(monkeypatch, url)
    assert "Questions: 0" in text and "no database at" in text
    assert not (tmp_path / "missing").exists()


def test_an_unreachable_postgres_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBEBOT_DB", f"postgresql://kubebot:hunter2@127.0.0.1:{closed_port}/kubebot")
    assert main(["report", "--kb", str(FIXTURE_KB)], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "cannot read the store" in err and "hunter2" not in err


def test_answers_with_alternatives_count_as_answered_and_asked(shipped_snapshot: Snapshot) -> None:
    now = time.time()
    rows = [QuestionRow(now, "slack", "channel", "answered_with_alternatives", "pod", 0.6, "pods?")] * 3
    rows += [QuestionRow(now, "slack", "channel", "answered", "node", 0.9, "what is a node")]
    report = build_report(rows, [], shipped_snapshot, since="1d", start=now - 86400, end=now)
    assert report.totals.answered == 4
    assert [(s.entry_id, s.count) for s in report.most_asked] == [("pod", 3), ("node", 1)]
