"""The onboarding welcome and the App Home tab, rendered from service replies (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.views import View

from bot.adapters.slack.actions import TourRef
from bot.adapters.slack.blocks import (
    HOME_BLOCKS,
    Block,
    SlackMessage,
    actions,
    context,
    divider,
    header,
    paginate,
    sections,
)
from bot.adapters.slack.mrkdwn import code_block, escape
from bot.adapters.slack.render import (
    entry_blocks,
    topics_blocks,
    topics_button,
    tour_buttons,
    tour_heading,
    tour_start_button,
)
from bot.models import LearningPath, Reply

HOME_TITLE = "kubebot: Kubernetes by analogy"


def welcome_message(command: str, channel_id: str, tour: Reply) -> tuple[SlackMessage, ...]:
    """A short ephemeral hello for someone joining the onboarding channel, with a tour button."""
    where = f" to <#{channel_id}>" if channel_id.isalnum() else ""
    text = (
        f":wave: Welcome{where}! I answer Kubernetes and container questions: an analogy first, then the "
        f"commands. Try `{escape(command)} what is a pod`, mention me in a channel, or send me a DM."
    )
    label = f"Start the tour: {tour.tour.path_title}" if tour.tour is not None else "Start the guided tour"
    buttons = [tour_start_button(tour.tour.path_id if tour.tour else "", label), topics_button()]
    return paginate(f"Welcome{where}! Start the guided tour.", sections(text), actions(buttons))


def home_view(
    help_reply: Reply, tour: Reply, topics: Reply, paths: Sequence[LearningPath], command: str
) -> View:
    """The Home tab: how to ask, the current tour step with Back/Next, the other tours, the topics."""
    blocks: list[Block] = [header(HOME_TITLE), *sections(code_block(escape(help_reply.text)))]
    blocks.append(context(f"Ask with `{escape(command)} your question`, by mentioning me, or in a DM."))
    blocks.append(divider())
    position = TourRef("", 0)
    if tour.tour is not None:
        step = tour.tour
        position = TourRef(step.path_id, step.index)
        blocks += [header(tour_heading(step)), *entry_blocks(step.entry, with_header=False)]
        blocks += actions(tour_buttons(step))
    else:
        blocks += sections(escape(tour.text))
    others = [p for p in paths if tour.tour is None or p.id != tour.tour.path_id]
    if others:
        blocks += actions([tour_start_button(p.id, f"Tour: {p.title}", i + 1) for i, p in enumerate(others)])
    blocks.append(divider())
    topic_blocks = topics_blocks(topics)
    room = HOME_BLOCKS - len(blocks)
    if len(topic_blocks) > room:
        topic_blocks = topic_blocks[: max(0, room - 1)]
        topic_blocks.append(context(f"More topics: `{escape(command)} topics`"))
    blocks += topic_blocks
    return View(type="home", blocks=blocks[:HOME_BLOCKS], private_metadata=position.encode())
