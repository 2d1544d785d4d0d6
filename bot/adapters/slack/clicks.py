"""Button clicks (block_actions): see-also / did-you-mean, feedback, share, tour Next/Back, topics.

Where the reply goes depends on where the button was clicked:
- an ephemeral slash-command reply → a new ephemeral reply (tour steps replace the old one);
- a DM → a normal message in the DM (tour steps replace the old one);
- a public channel message → an ephemeral reply to the clicker only, with "Share in channel";
- the App Home tab → the Home view is published again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.adapters.slack import actions as act
from bot.adapters.slack import events as ev
from bot.adapters.slack.blocks import paginate, sections
from bot.adapters.slack.handlers import MessageHandlers, share_ref
from bot.adapters.slack.outbox import NOT_IN_CHANNEL, SendError
from bot.adapters.slack.render import PUBLIC, Controls, render_reply
from bot.diagrams import shown_diagram
from bot.models import ChannelType, Reply, ReplyKind

log = logging.getLogger("kubebot.slack")

Payload = Mapping[str, Any]


class Surface(enum.Enum):
    EPHEMERAL = "ephemeral"
    DIRECT = "direct"
    PUBLIC = "public"
    HOME = "home"


def surface_of(body: Payload) -> Surface:
    container = body.get("container") or {}
    if container.get("type") == "view":
        return Surface.HOME
    if container.get("is_ephemeral"):
        return Surface.EPHEMERAL
    if ev.action_channel_type(body) is ChannelType.DIRECT:
        return Surface.DIRECT
    return Surface.PUBLIC


def _channel_of(body: Payload) -> str:
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def thread_of_click(body: Payload) -> str | None:
    container = body.get("container") or {}
    message = body.get("message") or {}
    thread_ts = container.get("thread_ts") or message.get("thread_ts")
    return str(thread_ts) if thread_ts else None


class ClickHandlers:
    """Runs after the ack of a block action; `on_click` only starts the background work."""

    def __init__(self, messages: MessageHandlers) -> None:
        self.messages = messages
        self.service = messages.service
        self.outbox = messages.outbox

    def on_click(self, body: Payload, action: Payload) -> None:
        action_id, value = str(action.get("action_id") or ""), str(action.get("value") or "")
        if act.ENTRY_PATTERN.match(action_id):
            work = self._entry(body, value)
        elif act.PICK_PATTERN.match(action_id):
            work = self._pick(body, value)
        elif act.FEEDBACK_PATTERN.match(action_id):
            work = self._feedback(body, value, helpful=action_id == act.FEEDBACK_UP)
        elif action_id == act.SHARE:
            work = self._share(body, value)
        elif act.TOUR_PATTERN.match(action_id):
            work = self._tour(body, value)
        elif action_id == act.TOPICS:
            work = self._topics(body)
        else:
            log.info("event=slack_unknown_action action=%s", action_id[:40])
            return
        self.messages.background.spawn(work, "click")

    async def _entry(self, body: Payload, value: str) -> None:
        entry_id = act.decode_entry_id(value)
        if entry_id is None:
            log.info("event=slack_bad_action_value action=entry")
            return
        reply = self.service.entry(entry_id)
        await self._show(body, reply, reply.question)

    async def _pick(self, body: Payload, value: str) -> None:
        """A did-you-mean or "Not this?" button: record the choice, then show the entry."""
        ref = act.PickRef.decode(value)
        if ref is None:
            log.info("event=slack_bad_action_value action=pick")
            return
        self.service.pick(ref.entry_id, ref.kind, ev.action_message(body, ref.question))
        await self._entry(body, ref.entry_id)

    async def _topics(self, body: Payload) -> None:
        await self._show(body, self.service.topics(), "topics")

    async def _tour(self, body: Payload, value: str) -> None:
        ref = act.TourRef.decode(value)
        if ref is None:
            log.info("event=slack_bad_action_value action=tour")
            return
        if surface_of(body) is Surface.HOME:
            user_id = str((body.get("user") or {}).get("id") or "")
            if user_id:
                await self.messages.publish_home(user_id, ref)
            return
        reply = self.service.tour(ref.path_id or None, ref.index)
        await self._show(body, reply, "learn " + ref.path_id, replace_private=True)

    async def _feedback(self, body: Payload, value: str, *, helpful: bool) -> None:
        ref = act.FeedbackRef.decode(value)
        if ref is None:
            log.info("event=slack_bad_action_value action=feedback")
            return
        user = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        key = f"feedback:{user}:{container.get('message_ts') or container.get('view_id') or ''}"
        first = await self.messages.seen.claim(key)
        if first:
            message = ev.action_message(body, ref.question)
            try:
                self.service.feedback(ref.entry_id, helpful, message)
            except Exception:  # the recorder must not, but a vote is never worth a crash
                log.exception("event=slack_feedback_failed")
            log.info("event=slack_feedback helpful=%s entry=%s", helpful, ref.entry_id or "-")
        response_url = str(body.get("response_url") or "")
        if response_url:
            text = "Thanks for the feedback!" if first else "You already rated this answer; thanks!"
            await self.outbox.respond(response_url, paginate(text, sections(text), max_messages=1))

    async def _share(self, body: Payload, value: str) -> None:
        ref = act.ShareRef.decode(value)
        response_url = str(body.get("response_url") or "")
        channel = str(
            (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
        )
        user = str((body.get("user") or {}).get("id") or "")
        if ref is None or not channel:
            log.info("event=slack_bad_action_value action=share")
            return
        reply = await self._rebuild(ref, body)
        messages = render_reply(reply, Controls(shared_by=user))
        try:
            await self.outbox.post_or_raise(channel, messages, thread_ts=ref.thread_ts)
        except SendError as exc:
            if exc.code not in NOT_IN_CHANNEL or not response_url:
                return
            # Not a member of the channel: the response_url can still post there publicly (once).
            one = render_reply(reply, Controls(shared_by=user), max_messages=1)
            if not await self.outbox.respond(response_url, one, public=True):
                return
        else:
            await self.messages.images.send(reply, channel, ref.thread_ts)
        log.info("event=slack_shared kind=%s entry=%s", reply.kind.value, ref.entry_id or "-")
        if response_url and surface_of(body) is Surface.EPHEMERAL:
            await self.outbox.delete_original(response_url)

    async def _rebuild(self, ref: act.ShareRef, body: Payload) -> Reply:
        """The reply being shared, without recording the question a second time."""
        service = self.service
        if ref.kind is ReplyKind.ANSWER and ref.entry_id:
            return replace(service.entry(ref.entry_id), question=ref.text)
        if ref.kind is ReplyKind.TOUR and ref.tour is not None:
            return service.tour(ref.tour.path_id or None, ref.tour.index)
        if ref.kind is ReplyKind.HELP:
            return service.help()
        if ref.kind is ReplyKind.TOPICS:
            return service.topics()
        if ref.kind in (ReplyKind.SUGGEST, ReplyKind.DECLINE):
            return service.answer(ref.text)
        return await service.handle(ev.action_message(body, ref.text))  # cluster: a fresh, audited query

    async def _show(self, body: Payload, reply: Reply, text: str, *, replace_private: bool = False) -> None:
        response_url = str(body.get("response_url") or "")
        surface = surface_of(body)
        if not response_url or surface is Surface.HOME:
            log.info("event=slack_click_unanswerable surface=%s", surface.value)
            return
        if surface is Surface.DIRECT:
            messages = render_reply(reply, PUBLIC, max_messages=1)
            # A step with a diagram is posted anew, so that its picture lands right under it.
            in_place = replace_private and shown_diagram(reply) is None
            if await self.outbox.respond(response_url, messages, public=True, replace_original=in_place):
                await self.messages.images.send(reply, _channel_of(body), thread_of_click(body))
            return
        controls = Controls(share=share_ref(reply, text, thread_of_click(body)))
        replace_original = replace_private and surface is Surface.EPHEMERAL
        await self.outbox.respond(
            response_url, render_reply(reply, controls, max_messages=1), replace_original=replace_original
        )
