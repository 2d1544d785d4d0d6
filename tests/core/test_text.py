from __future__ import annotations

from bot.text import MAX_QUESTION_CHARS, Normalizer, clean_input, normalize_basic, stem


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


def test_clean_input_removes_control_characters_and_caps_length() -> None:
    assert clean_input("a\x00b\x1b[31mc\n") == "a b [31mc"
    assert len(clean_input("x" * 1_000_000)) == MAX_QUESTION_CHARS


def test_clean_input_drops_lone_surrogates() -> None:
    assert clean_input("what is a pod\ud800?") == "what is a pod?"
    assert clean_input("\udc80scale a deployment \udfff") == "scale a deployment"
    assert clean_input("rocket \ud83d\ude80 pod") == "rocket 🚀 pod"  # a pair is one character
    assert clean_input("ünïcode ✓ 🚀") == "ünïcode ✓ 🚀"
    for text in ("\ud800", "a\udbff\udbffb", "x\ud800" * 10_000):
        clean_input(text).encode("utf-8")  # never raises UnicodeEncodeError
