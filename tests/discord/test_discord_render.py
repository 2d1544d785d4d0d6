"""Pure rendering: Reply → parts within Discord's limits, custom ids, splitting, escaping."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord import ids
from bot.adapters.discord.delivery import make_view
from bot.adapters.discord.limits import CUT_NOTE, MAX_MESSAGES, Doc, pack, split_text, was_cut
from bot.adapters.discord.render import MAX_ENTRY_BUTTONS, Part, render_reply
from bot.models import Band, Candidate, ClusterReport, Entry, PickKind, Reply, ReplyKind, Tip
from tests.discord.discord_checks import assert_message_within_limits, text_of

WORDS = ["pod", "node", "kubelet", "`kubectl`", "*replica*", "_label_", "selector:", "\\", "mesh"]


def as_message(part: Part) -> dict[str, object]:
    view = make_view(part.buttons)
    return {
        "content": part.content,
        "embeds": [e.to_dict() for e in part.embeds],
        "components": view.to_components() if view else [],
    }


def tokens(text: str) -> list[str]:
    text = re.sub(r"```[a-z]*", " ", text).replace(">", " ")
    return text.split()


def in_order(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(h == n for h in it) for n in needle)


def huge_entry(words: int = 5000, tips: int = 30, sources: int = 40) -> Entry:
    answer_words = [f"{WORDS[i % len(WORDS)]}{i}" for i in range(words)]
    paragraphs = [" ".join(answer_words[i : i + 120]) for i in range(0, len(answer_words), 120)]
    code = "\n".join(f"kubectl get pods -n ns{i} -o wide  # line {i}" for i in range(200))
    answer = "\n\n".join([*paragraphs[:10], f"```yaml\n{code}\n```", *paragraphs[10:]])
    tip_list = tuple(
        Tip("Step " + "x" * 290 + str(i), " ".join(f"--flag{i}-{j}" for j in range(150))) for i in range(tips)
    )
    return Entry(
        id="huge",
        title="What is " + "very " * 80 + "big?",
        questions=("q1", "q2", "q3"),
        answer=answer,
        sources=tuple(f"https://kubernetes.io/docs/{i}/" + "p" * 60 for i in range(sources)),
        analogy="Like " + "a warehouse " * 200,
        tips=tip_list,
    )


def test_a_long_entry_is_split_within_every_limit_and_nothing_is_lost() -> None:
    entry = huge_entry(words=300, tips=3, sources=10)
    see_also = tuple((f"entry-{i}", "Related title " * 10) for i in range(30))
    reply = Reply(ReplyKind.ANSWER, "big?", "", Band.ANSWERED, entry, 0.91, see_also=see_also)
    parts = render_reply(reply, share=True)
    assert 3 <= len(parts) <= MAX_MESSAGES
    messages = [as_message(part) for part in parts]
    for message in messages:
        assert_message_within_limits(message)
    assert all(not part.buttons for part in parts[:-1]) and parts[-1].buttons
    first = parts[0].embeds[0]
    assert first.title is not None and len(first.title) == 256 and first.title.endswith("…")
    rendered = tokens("\n".join(text_of(m) for m in messages))
    assert in_order(tokens(entry.analogy or ""), rendered)
    assert in_order(tokens(entry.answer), rendered)
    for tip in entry.tips:
        assert in_order(tokens(tip.command or ""), rendered)
    assert in_order([s for s in entry.sources], rendered)
    ids_sent = [b.custom_id for b in parts[-1].buttons]
    controls = ["kb:fb:up:huge:big?", "kb:fb:down:huge:big?", "kb:share"]
    entries = [f"kb:entry:entry-{i}" for i in range(MAX_ENTRY_BUTTONS)]  # 30 see-also: rows 1-4 full
    assert ids_sent == controls + entries
    assert parts[-1].embeds[-1].footer.text == "huge · 91% match"


def test_a_huge_entry_is_cut_to_a_few_messages_within_every_limit() -> None:
    entry = huge_entry()
    big = replace(entry, answer=entry.answer + "\n\n" + "filler " * 1_500_000)  # a 10 MB answer
    for candidate in (entry, big):
        reply = Reply(ReplyKind.ANSWER, "big?", "", Band.ANSWERED, candidate, 0.91)
        parts = render_reply(reply, share=True)
        assert len(parts) == MAX_MESSAGES
        for message in [as_message(part) for part in parts]:
            assert_message_within_limits(message)
        assert all(not part.buttons for part in parts[:-1]) and parts[-1].buttons  # buttons kept
        assert parts[-1].embeds[-1].footer.text == f"huge · 91% match · {CUT_NOTE}"
        assert was_cut([list(part.embeds) for part in parts])
        rendered = tokens("\n".join(text_of(as_message(p)) for p in parts))
        assert in_order(tokens(entry.answer)[:500], rendered)  # the start is shown, in order


def test_code_fences_survive_a_split() -> None:
    entry = huge_entry()
    for piece in split_text(entry.answer, 4096):
        assert len(piece) <= 4096
        assert piece.count("```") % 2 == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(min_size=1, max_size=300), st.just("```sh"), st.just("```"), st.just("\n\n")),
        max_size=60,
    ),
    st.integers(min_value=64, max_value=1024),
)
def test_split_text_respects_the_limit_and_keeps_words(chunks: list[str], limit: int) -> None:
    text = " ".join(chunks)
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    kept = [t for t in tokens("\n".join(pieces)) if "`" not in t]
    original = [t for t in tokens(text) if "`" not in t]
    assert in_order(original, kept)


def test_pack_spreads_many_fields_over_embeds() -> None:
    doc = Doc("t", "d", tuple((f"name {i}", "v" * 200) for i in range(60)), "footer")
    messages = pack(doc)
    for embeds in messages:
        assert_message_within_limits({"embeds": [e.to_dict() for e in embeds]})
    assert sum(len(e.fields) for embeds in messages for e in embeds) == 60
    assert messages[-1][-1].footer.text == "footer"
    assert pack(Doc("only a title"))[0][0].title == "only a title"


def test_user_text_is_escaped_where_echoed() -> None:
    question = "@everyone **bold** <@123456789012345678> `code`"
    reply = Reply(
        ReplyKind.SUGGEST,
        question,
        f'I\'m not sure what you mean by "{question}". Did you mean:',
        Band.SUGGESTED,
        suggestions=(Candidate("pod", "What is a Pod?", 0.5),),
    )
    (part,) = render_reply(reply)
    description = part.embeds[0].description or ""
    assert "@\u200beveryone" in description and "\\*\\*bold\\*\\*" in description
    assert "<@\u200b123456789012345678>" in description and "\\`code\\`" in description
    assert [b.custom_id for b in part.buttons] == [f"kb:pick:d:pod:{question}"]  # an id, never shown


def test_cluster_error_is_escaped() -> None:
    report = ClusterReport("pods in @everyone", error="namespace **x** is not allowed")
    (part,) = render_reply(Reply(ReplyKind.CLUSTER, "pods", "", cluster=report))
    embed = part.embeds[0]
    assert (
        embed.title == "pods in @\u200beveryone"
        and embed.description == "namespace \\*\\*x\\*\\* is not allowed"
    )


def test_button_rows_respect_discord_limits() -> None:
    entry = Entry("pod", "What is a Pod?", ("a", "b", "c"), "answer", ("https://k8s.io",))
    see_also = tuple((f"e{i}", f"Title {i} " + "x" * 100) for i in range(40))
    (part,) = render_reply(
        Reply(ReplyKind.ANSWER, "q", "", entry=entry, confidence=1.0, see_also=see_also), share=True
    )
    rows: dict[int, int] = {}
    for b in part.buttons:
        rows[b.row] = rows.get(b.row, 0) + 1
        assert len(b.label) <= 80
    assert max(rows) <= 4 and all(n <= 5 for n in rows.values())
    assert [b.custom_id for b in part.buttons if b.row == 0] == [
        "kb:fb:up:pod:q",
        "kb:fb:down:pod:q",
        "kb:share",
    ]
    assert part.embeds[0].footer.text == "pod"


def test_custom_ids_round_trip() -> None:
    assert ids.parse(ids.entry("pod") or "") == ids.ShowEntry("pod")
    assert ids.parse(ids.tour("debugging-101", 3) or "") == ids.GoTour("debugging-101", 3)
    assert ids.parse(ids.feedback(False, None, "why: is it:broken")) == ids.Feedback(
        None, False, "why: is it:broken"
    )
    assert ids.parse(ids.SHARE) == ids.Share() and ids.parse(ids.TOPICS) == ids.ShowTopics()
    for junk in ("", "kb:", "kb:entry:", "kb:entry:Bad_Id", "kb:tour:onboarding:x", "kb:fb:meh:pod", "share"):
        assert ids.parse(junk) is None
    assert ids.entry("x" * 100) is None and ids.tour("p" * 100, 1) is None


@given(st.text(max_size=300), st.booleans(), st.sampled_from([None, "pod", "a" * 40]))
def test_feedback_ids_fit_and_parse(question: str, helpful: bool, entry_id: str | None) -> None:
    custom_id = ids.feedback(helpful, entry_id, question)
    assert custom_id is not None and len(custom_id) <= 100
    action = ids.parse(custom_id)
    assert isinstance(action, ids.Feedback)
    assert (action.entry_id, action.helpful) == (entry_id, helpful)
    assert " ".join(question.split()).startswith(action.question)


@given(st.text(max_size=300), st.sampled_from([PickKind.DID_YOU_MEAN, PickKind.NOT_THIS]))
def test_pick_ids_fit_parse_and_mark_a_cut_question(question: str, kind: PickKind) -> None:
    custom_id = ids.pick(kind, "pod", question)
    assert custom_id is not None and len(custom_id) <= 100
    action = ids.parse(custom_id)
    assert isinstance(action, ids.Pick) and (action.entry_id, action.kind) == ("pod", kind)
    words = " ".join(question.split())
    if action.question.endswith("…") and not words.endswith("…"):  # cut to fit: a prefix, marked
        assert words.startswith(action.question[:-1]) and len(words) > len(action.question) - 1
    else:
        assert action.question == words


def test_a_long_question_is_cut_at_a_word() -> None:
    custom_id = ids.pick(PickKind.NOT_THIS, "crashloopbackoff", "why does my pod " + "restart again " * 10)
    action = ids.parse(custom_id or "")
    assert isinstance(action, ids.Pick) and action.kind is PickKind.NOT_THIS
    assert action.question.endswith("again…") or action.question.endswith("restart…")
    assert ids.parse("kb:pick:x:pod:q") is None and ids.pick(PickKind.HELPFUL, "pod") is None


def test_not_this_alternatives_are_pick_buttons_under_an_answer() -> None:
    entry = Entry("pod", "What is a Pod?", ("what is a pod",) * 3, "answer", ("https://kubernetes.io/",))
    reply = Reply(
        ReplyKind.ANSWER,
        "pods keep dying",
        "x",
        Band.ANSWERED_WITH_ALTERNATIVES,
        entry=entry,
        suggestions=(Candidate("crashloopbackoff", "CrashLoopBackOff", 0.3),),
        see_also=(("node", "What is a Node?"),),
    )
    (part,) = render_reply(reply)
    by_id = {b.custom_id: b.label for b in part.buttons}
    assert by_id["kb:pick:n:crashloopbackoff:pods keep dying"] == "Not this? CrashLoopBackOff"
    assert "kb:entry:node" in by_id
