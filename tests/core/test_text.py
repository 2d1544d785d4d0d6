from __future__ import annotations

from bot.text import MAX_INPUT_HEAD, MAX_INPUT_TAIL, Normalizer, clean_input, gist, normalize_basic, stem


def test_normalize_basic_folds_case_accents_and_punctuation() -> None:
    assert normalize_basic("  Wh\u00e1t's   a Pod?!  ") == "whats a pod"
    assert normalize_basic("kube-proxy/iptables") == "kube proxy iptables"


def test_stem_is_consistent_for_word_families() -> None:
    assert stem("restarting") == stem("restarts") == stem("restarted") == "restart"
    assert stem("running") == "run"
    assert stem("pulling") == "pull"
    assert stem("pods") == "pod"
    assert stem("process") == "process"
    assert stem("137") == "137"


def test_tokens_expand_synonyms_and_drop_stop_words() -> None:
    n = Normalizer({"k8s": "kubernetes", "config map": "configmap", "svc": "service"})
    assert n.tokens("What is a k8s svc?") == ("kubernet", "servic")
    assert n.tokens("how do I mount a Config Map") == ("mount", "configmap")


def test_stop_words_only_gives_no_tokens() -> None:
    assert Normalizer().tokens("how do I do it?") == ()
    assert Normalizer().tokens("needs") == ()  # stemmed back into a stop word


def test_tokens_are_unique() -> None:
    assert Normalizer().tokens("pod pod pods") == ("pod",)


def test_clean_input_removes_control_characters_and_keeps_lines() -> None:
    assert clean_input("a\x00b\x1b[31mc\r\nnext line  \n\n\n\nlast") == "a b [31mc\nnext line\n\nlast"


def test_clean_input_drops_lone_surrogates() -> None:
    assert clean_input("what is a pod\ud800?") == "what is a pod?"
    assert clean_input("\udc80scale a deployment \udfff") == "scale a deployment"
    assert clean_input("rocket \ud83d\ude80 pod") == "rocket 🚀 pod"  # a pair is one character
    assert clean_input("ünïcode ✓ 🚀") == "ünïcode ✓ 🚀"
    for text in ("\ud800", "a\udbff\udbffb", "x\ud800" * 10_000):
        clean_input(text).encode("utf-8")  # never raises UnicodeEncodeError


def test_clean_input_keeps_the_head_and_the_tail_of_a_huge_paste() -> None:
    text = "START\n" + "x" * 1_000_000 + "\nEND"
    cleaned = clean_input(text)
    assert len(cleaned) <= MAX_INPUT_HEAD + MAX_INPUT_TAIL + 1
    assert cleaned.startswith("START") and cleaned.endswith("END")


def test_gist_is_the_first_line_shortened() -> None:
    assert gist("pod pending\nmore text") == "pod pending …"
    assert gist("short") == "short"
    assert gist("w" * 500, limit=20) == "w" * 19 + "…"
