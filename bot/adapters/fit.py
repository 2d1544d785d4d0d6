"""Which knowledge-base entries the chat platforms would cut: `kubebot kb lint` warns about them.

Every reply is capped to the platforms' limits whatever the knowledge base holds (Slack: one
response_url post for a slash command; Discord: a few messages of ≤ 6,000 characters), so an
over-long entry is not rejected, it is shown cut with a note. This renders each entry as its
answer and reports the ones that would be cut, so authors can shorten or split them. A platform
whose package is not installed is skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.knowledge import KnowledgeBase
from bot.models import Band, Entry, Reply, ReplyKind

Check = tuple[str, Callable[[Reply], bool]]


def _slack() -> Check | None:
    try:
        from bot.adapters.slack import actions as act
        from bot.adapters.slack.blocks import was_cut
        from bot.adapters.slack.render import Controls, render_reply
    except ModuleNotFoundError:
        return None

    def cut(reply: Reply) -> bool:
        assert reply.entry is not None
        share = act.ShareRef(ReplyKind.ANSWER, reply.question, reply.entry.id)
        return was_cut(render_reply(reply, Controls(share=share), max_messages=1))

    return "a Slack slash-command reply", cut


def _discord() -> Check | None:
    try:
        from bot.adapters.discord.limits import was_cut
        from bot.adapters.discord.render import render_reply
    except ModuleNotFoundError:
        return None

    def cut(reply: Reply) -> bool:
        return was_cut([list(part.embeds) for part in render_reply(reply, share=True)])

    return "a Discord reply", cut


def answer_reply(kb: KnowledgeBase, entry: Entry) -> Reply:
    """The reply that shows `entry` as an answer, with its see-also buttons."""
    see_also = tuple((i, kb.entries[i].title) for i in entry.see_also if i in kb.entries)
    return Reply(ReplyKind.ANSWER, entry.title, entry.answer, Band.ANSWERED, entry, 1.0, see_also=see_also)


def cut_warnings(kb: KnowledgeBase) -> list[str]:
    """`path:line: warning: ...` for every entry a platform would show cut."""
    checks = [check for check in (_slack(), _discord()) if check is not None]
    warnings = []
    for entry in kb.entries.values():
        reply = answer_reply(kb, entry)
        where = [name for name, cut in checks if cut(reply)]
        if where:
            warnings.append(
                f"{entry.path}:{entry.line}: warning: '{entry.id}' is too long for {' or '.join(where)}"
                " and is shown cut; shorten it or split it into several entries"
            )
    return warnings
