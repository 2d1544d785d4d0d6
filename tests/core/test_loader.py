"""Every kind of knowledge-base problem is reported as `path:line: message`."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, load_knowledge

GOOD = """\
entries:
  - id: pod
    title: What is a Pod?
    questions:
      - what is a pod
      - pod vs container
      - why pods not containers
    analogy: A Pod is to containers what a VM was to processes.
    answer: A group of containers.
    tips:
      - text: List pods
        command: kubectl get pods
    see_also: [node]
    sources: [https://kubernetes.io/docs/concepts/workloads/pods/]
  - id: node
    title: What is a Node?
    questions:
      - what is a node
      - node vs pod
      - what runs on a worker node
    answer: A machine.
    sources: [https://kubernetes.io/docs/concepts/architecture/nodes/]
"""


def write(tmp_path: Path, text: str, name: str = "a.yaml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(tmp_path)
    return [str(p) for p in info.value.problems]


def test_good_file_loads_with_lines(tmp_path: Path) -> None:
    kb = load_knowledge(write(tmp_path, GOOD))
    assert list(kb.entries) == ["pod", "node"]
    pod = kb.entries["pod"]
    assert pod.line == 2 and pod.path.endswith("a.yaml")
    assert pod.tips[0].command == "kubectl get pods"
    assert pod.analogy and kb.entries["node"].analogy is None


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("    answer: A machine.", "    answer: [unclosed")))
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'a.yaml'}:")
    assert "YAML syntax error" in found[0]


def test_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("    analogy:", "    anaolgy:")))
    assert found == [
        f"{tmp_path / 'a.yaml'}:8: unknown key 'anaolgy' in an entry (allowed: "
        + found[0].split("(allowed: ")[1]
    ]


def test_missing_required_key(tmp_path: Path) -> None:
    text = GOOD.replace("    answer: A machine.\n", "")
    found = problems(write(tmp_path, text))
    assert found == [f"{tmp_path / 'a.yaml'}:15: entry is missing required key 'answer'"]


def test_empty_field(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("title: What is a Node?", 'title: ""')))
    assert found == [f"{tmp_path / 'a.yaml'}:16: title is empty"]


def test_bad_id(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("id: node", "id: Node_1").replace("[node]", "[]")))
    assert found == [f"{tmp_path / 'a.yaml'}:15: bad id 'Node_1': use lower-case letters, digits and '-'"]


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    dup = (
        "entries:\n  - id: pod\n    title: T\n    questions: [x one, x two, x three]\n"
        "    answer: A\n    sources: [https://a.b/]\n"
    )
    (tmp_path / "b.yaml").write_text(dup)
    found = problems(tmp_path)
    assert found == [f"{tmp_path / 'b.yaml'}:2: duplicate id 'pod' (first at {tmp_path / 'a.yaml'}:2)"]


def test_dangling_see_also_points_at_its_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("see_also: [node]", "see_also: [node, nodes]")))
    assert found == [f"{tmp_path / 'a.yaml'}:13: see_also 'nodes' of 'pod' is not an entry id"]


def test_too_few_questions(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("      - what runs on a worker node\n", "")))
    assert found == [f"{tmp_path / 'a.yaml'}:18: needs at least 3 questions, has 2"]


def test_non_url_source(tmp_path: Path) -> None:
    text = GOOD.replace(
        "sources: [https://kubernetes.io/docs/concepts/architecture/nodes/]", "sources: [kubernetes.io]"
    )
    found = problems(write(tmp_path, text))
    assert found == [f"{tmp_path / 'a.yaml'}:22: source 'kubernetes.io' is not an http(s) URL"]


def test_same_question_under_two_entries(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("what runs on a worker node", "Pod vs. container?")))
    assert found == [
        f"{tmp_path / 'a.yaml'}:20: question 'Pod vs. container?' is also under entry 'pod' "
        f"({tmp_path / 'a.yaml'}:2)"
    ]


def test_repeated_question_within_entry(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("why pods not containers", "What is a pod?")))
    assert found == [
        f"{tmp_path / 'a.yaml'}:7: question 'What is a pod?' repeats an earlier question of this entry"
    ]


def test_non_text_value(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD.replace("      - pod vs container", "      - 42")))
    assert found == [
        f"{tmp_path / 'a.yaml'}:6: an item of questions must be text",
        f"{tmp_path / 'a.yaml'}:5: needs at least 3 questions, has 2",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("analogy:", "anaolgy:").replace("see_also: [node]", "see_also: [ghost]")
    found = problems(write(tmp_path, text))
    assert len(found) == 2


def test_paths_with_dangling_step(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "paths.yaml").write_text("paths:\n  - id: tour\n    title: Tour\n    steps: [pod, ghost]\n")
    assert problems(tmp_path) == [
        f"{tmp_path / 'paths.yaml'}:2: step 'ghost' of path 'tour' is not an entry id"
    ]


def test_synonyms_are_normalised(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "synonyms.yaml").write_text("synonyms:\n  K8s: Kubernetes\n  config map: configmap\n")
    kb = load_knowledge(tmp_path)
    assert kb.synonyms == {"k8s": "kubernetes", "config map": "configmap"}


def test_missing_directory(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}:0: knowledge base directory not found"]


def test_file_without_entries(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "things: []\n")) == [
        f"{tmp_path / 'a.yaml'}:1: unknown key 'things' in the file (allowed: entries, kubernetes_version)",
        f"{tmp_path / 'a.yaml'}:1: file has no 'entries:' list",
    ]


def test_fixture_kb_copy_loads(tmp_path: Path) -> None:
    from tests.conftest import FIXTURE_KB

    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    kb = load_knowledge(tmp_path / "kb")
    assert kb.paths["onboarding"].steps[0] == "vms-old-way"


def test_file_states_the_kubernetes_version_it_was_checked_against(tmp_path: Path) -> None:
    write(tmp_path, 'kubernetes_version: "1.35"\n' + GOOD)
    kb = load_knowledge(tmp_path)
    assert kb.versions == {str(tmp_path / "a.yaml"): "1.35"}


def test_malformed_kubernetes_version_has_line(tmp_path: Path) -> None:
    write(tmp_path, 'kubernetes_version: "v1.35.2"\n' + GOOD)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    assert "a.yaml:1: kubernetes_version 'v1.35.2' must look like 1.35" in str(err.value)


def test_domain_terms_and_specific_words(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "domain.yaml").write_text("terms: [Node, kubectl]\nspecific: [kubectl, CrashLoopBackOff]\n")
    kb = load_knowledge(tmp_path)
    assert kb.specific == ("kubectl", "crashloopbackoff")
    assert kb.domain == ("node", "kubectl", "crashloopbackoff")  # specific words are domain words too


def test_domain_specific_must_be_a_list_and_keys_known(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "domain.yaml").write_text("terms: [node]\nspecific: kubectl\nspecial: [pod]\n")
    assert problems(tmp_path) == [
        f"{tmp_path / 'domain.yaml'}:3: unknown key 'special' in domain.yaml"
        " (allowed: platforms, specific, terms)",
        f"{tmp_path / 'domain.yaml'}:2: specific must be a list",
    ]


def test_domain_platforms(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "domain.yaml").write_text(
        "terms: [node]\nplatforms:\n  docker: [Docker, compose]\n  kubernetes: [kubectl, Pod]\n"
    )
    kb = load_knowledge(tmp_path)
    assert kb.platforms == (("docker", ("docker", "compose")), ("kubernetes", ("kubectl", "pod")))


def test_domain_platforms_are_lists_of_words(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "domain.yaml").write_text("terms: [node]\nplatforms:\n  docker: docker\n")
    assert problems(tmp_path) == [f"{tmp_path / 'domain.yaml'}:3: platform 'docker' must be a list"]


def test_without_domain_words_of_its_own_a_kb_reads_the_bundled_ones(tmp_path: Path) -> None:
    from bot.knowledge import bundled_kb_dir, source_files

    write(tmp_path, GOOD)
    bundled = load_knowledge(bundled_kb_dir())
    kb = load_knowledge(tmp_path)
    assert kb.domain == bundled.domain and kb.specific == bundled.specific and "kubectl" in kb.specific
    assert source_files(tmp_path)[-1] == bundled_kb_dir() / "domain.yaml"  # so the index cache key covers it
    (tmp_path / "domain.yaml").write_text("terms: []\n")  # a KB that wants none says so
    kb = load_knowledge(tmp_path)
    assert (kb.domain, kb.specific) == ((), ())
    assert bundled_kb_dir() / "domain.yaml" not in source_files(tmp_path)
