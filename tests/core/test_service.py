from __future__ import annotations

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
