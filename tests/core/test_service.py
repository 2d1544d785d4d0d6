from __future__ import annotations

import pytest

from bot.models import Band, ChannelType, Message, PickKind, Platform, ReplyKind
from bot.ports import FeedbackRecord, PickRecord, QuestionRecord
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.helpers import MemoryRecorder


class BrokenRecorder:
    def record_question(self, record: QuestionRecord) -> None:
        raise OSError("disk full")

    def record_feedback(self, record: FeedbackRecord) -> None:
        raise OSError("disk full")


def msg(text: str) -> Message:
    return Message(text, Platform.SLACK, ChannelType.DIRECT, "D1")


async def test_commands_route_before_questions(fixture_service: QAService) -> None:
    assert (await fixture_service.handle(msg("help"))).kind is ReplyKind.HELP
    assert (await fixture_service.handle(msg("topics"))).kind is ReplyKind.TOPICS
    tour = await fixture_service.handle(msg("learn"))
    assert tour.kind is ReplyKind.TOUR and tour.tour is not None
    assert tour.tour.path_id == "onboarding" and tour.entry is not None and tour.entry.id == "vms-old-way"
    assert (await fixture_service.handle(msg("what is a pod"))).kind is ReplyKind.ANSWER


async def test_cluster_words_are_questions_when_no_cluster_is_configured(fixture_service: QAService) -> None:
    reply = await fixture_service.handle(msg("pods"))
    assert reply.kind is ReplyKind.ANSWER and reply.entry is not None and reply.entry.id == "pod"


def test_tour_steps_and_clamps(fixture_service: QAService) -> None:
    last = fixture_service.tour("onboarding", 99)
    assert (
        last.tour is not None and last.tour.index == 6 and not last.tour.has_next and last.tour.has_previous
    )
    assert fixture_service.tour("debugging-101", 1).entry.id == "oomkilled"  # type: ignore[union-attr]
    missing = fixture_service.tour("nope", 0)
    assert missing.kind is ReplyKind.ERROR and "onboarding" in missing.text


def test_entry_by_id_and_unknown_id(fixture_service: QAService) -> None:
    reply = fixture_service.entry("service")
    assert reply.kind is ReplyKind.ANSWER and reply.see_also == (("pod", "What is a Pod?"),)
    assert fixture_service.entry("gone").kind is ReplyKind.ERROR


def test_answers_are_recorded_without_user_ids(fixture_service: QAService) -> None:
    recorder = MemoryRecorder()
    fixture_service.recorder = recorder
    fixture_service.answer("what is a pod", msg("what is a pod"))
    fixture_service.answer("banana bread", msg("banana bread"))
    fixture_service.feedback("pod", True, msg("what is a pod"))
    assert [(r.entry_id, r.band) for r in recorder.questions] == [
        ("pod", Band.ANSWERED),
        (None, Band.DECLINED),
    ]
    assert recorder.questions[0].platform is Platform.SLACK
    assert recorder.feedback == [
        FeedbackRecord("pod", True, Platform.SLACK, ChannelType.DIRECT, "what is a pod")
    ]


def test_a_failing_recorder_never_costs_an_answer(fixture_service: QAService) -> None:
    fixture_service.recorder = BrokenRecorder()
    assert fixture_service.answer("what is a pod", msg("what is a pod")).kind is ReplyKind.ANSWER


def test_answer_carries_other_candidates_as_suggestions(fixture_service: QAService) -> None:
    reply = fixture_service.answer("container vs vm")
    assert reply.entry is not None and reply.entry.id == "container"
    assert all(s.entry_id != "container" for s in reply.suggestions)


def test_picks_are_recorded_for_buttons_and_thumbs_up_only(fixture_kb) -> None:  # type: ignore[no-untyped-def]
    recorder = MemoryRecorder()
    service = QAService(KnowledgeHolder(Snapshot.build(fixture_kb)), recorder=recorder)
    service.pick("pod", PickKind.DID_YOU_MEAN, msg("  pods   keep dying "))
    service.feedback("pod", True, msg("what is a pod"))  # 👍 on an answer confirms the entry
    service.feedback("pod", False, msg("what is a pod"))  # 👎 is no pick
    service.feedback(None, True, msg("banana bread"))  # 👍 on a decline names no entry
    service.feedback("vms-old-way", True, msg("onboarding"))  # 👍 on a tour step: its path id
    service.pick("no-such-entry", PickKind.NOT_THIS, msg("x"))
    service.pick("pod", PickKind.NOT_THIS, msg("   "))
    assert recorder.picks == [
        PickRecord("pods keep dying", "pod", PickKind.DID_YOU_MEAN, Platform.SLACK, ChannelType.DIRECT),
        PickRecord("what is a pod", "pod", PickKind.HELPFUL, Platform.SLACK, ChannelType.DIRECT),
    ]


def test_a_broken_recorder_never_costs_a_click(fixture_kb) -> None:  # type: ignore[no-untyped-def]
    service = QAService(KnowledgeHolder(Snapshot.build(fixture_kb)), recorder=BrokenRecorder())
    service.pick("pod", PickKind.DID_YOU_MEAN, msg("pods keep dying"))  # BrokenRecorder has no record_pick


def test_decide_is_what_answer_replies(fixture_service: QAService) -> None:
    for text in ("what is a pod", "pods keep dying", "banana bread", "", "my pod restarts <script>"):
        decision = fixture_service.decide(text)
        reply = fixture_service.answer(text)
        assert fixture_service.reply_for(decision) == reply
        if decision.result is not None:
            assert decision.result == decision.snapshot.matcher.match(decision.question)
            assert reply.band is decision.result.band or reply.band is Band.DECLINED


# -- what adapters need, through the service -------------------------------------------------------
def channel(text: str) -> Message:
    return Message(text, Platform.DISCORD, ChannelType.CHANNEL, "C1")


def test_passive_answer_answers_confident_questions_and_records_them(fixture_kb: object) -> None:
    recorder = MemoryRecorder()
    service = QAService(KnowledgeHolder(Snapshot.build(fixture_kb)), recorder=recorder)  # type: ignore[arg-type]
    reply = service.passive_answer(channel("what is a pod"), 0.5)
    assert reply is not None and reply.kind is ReplyKind.ANSWER and reply.entry is not None
    assert reply.entry.id == "pod"
    assert [(q.text, q.entry_id) for q in recorder.questions] == [("what is a pod", "pod")]


def test_passive_answer_is_silent_and_records_nothing_below_the_minimum(fixture_kb: object) -> None:
    recorder = MemoryRecorder()
    service = QAService(KnowledgeHolder(Snapshot.build(fixture_kb)), recorder=recorder)  # type: ignore[arg-type]
    confidence = service.answer("what is a pod").confidence
    assert service.passive_answer(channel("what is a pod"), confidence + 0.001) is None
    assert service.passive_answer(channel("what is a pod"), confidence) is not None
    assert len(recorder.questions) == 1


def test_passive_answer_only_considers_what_reads_like_a_question(fixture_service: QAService) -> None:
    statement = "pod"  # one word: answered when asked, but not a question overheard in a channel
    assert fixture_service.answer(statement).kind is ReplyKind.ANSWER
    assert fixture_service.passive_answer(channel(statement), 0.0) is None
    assert fixture_service.passive_answer(channel("pods and nodes, all day long"), 0.0) is None
    assert fixture_service.passive_answer(channel("pods and nodes?"), 0.0) is not None


def test_a_passive_question_is_cleaned_once_and_matched_once(
    fixture_service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service as service_module

    cleaned: list[str] = []
    matched: list[str] = []
    real_clean = service_module.clean_input
    matcher = fixture_service.snapshot.matcher
    real_evidence = matcher.evidence
    monkeypatch.setattr(service_module, "clean_input", lambda t: cleaned.append(t) or real_clean(t))
    monkeypatch.setattr(matcher, "evidence", lambda t, *a: matched.append(t) or real_evidence(t, *a))
    assert fixture_service.passive_answer(channel("what is a pod"), 0.0) is not None
    assert (cleaned, matched) == (["what is a pod"], ["what is a pod"])


async def test_a_question_is_cleaned_once_on_its_way_through_handle(
    fixture_service: QAService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.service as service_module

    cleaned: list[str] = []
    real_clean = service_module.clean_input
    monkeypatch.setattr(service_module, "clean_input", lambda t: cleaned.append(t) or real_clean(t))
    reply = await fixture_service.handle(msg("  what is\x00 a pod  "))
    assert reply.kind is ReplyKind.ANSWER and reply.question == "what is  a pod"
    assert cleaned == ["  what is\x00 a pod  "]


def test_entry_lookup_paths_and_completion(fixture_service: QAService) -> None:
    entry = fixture_service.lookup("pod")
    assert entry is not None and entry.id == "pod" and fixture_service.lookup("no-such-entry") is None
    assert [p.id for p in fixture_service.paths()] == list(fixture_service.kb.paths)
    assert "onboarding" in [p.id for p in fixture_service.paths()]
    completions = fixture_service.complete("what is a po", 5)
    assert 0 < len(completions) <= 5 and completions[0].entry_id == "pod"
