"""Stand-ins shared by the test suites (only for our own ports; platforms are faked over HTTP)."""

from __future__ import annotations

from bot.ports import FeedbackRecord, QuestionRecord


class MemoryRecorder:
    """An in-memory `bot.ports.Recorder`."""

    def __init__(self) -> None:
        self.questions: list[QuestionRecord] = []
        self.feedback: list[FeedbackRecord] = []

    def record_question(self, record: QuestionRecord) -> None:
        self.questions.append(record)

    def record_feedback(self, record: FeedbackRecord) -> None:
        self.feedback.append(record)
