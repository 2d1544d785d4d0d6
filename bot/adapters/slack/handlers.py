"""What happens after the ack for commands and events: ask the service, render, send.

The `on_*` methods run inside the bolt listener: they only decide (no I/O) and start the real
work in the background, so the ack never waits for the knowledge base, the cluster or Slack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from bot.adapters.slack import events as ev
from bot.adapters.slack.actions import ShareRef, TourRef
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.dedupe import SeenKeys
from bot.adapters.slack.home import home_view, welcome_message
from bot.adapters.slack.images import DiagramUploader
from bot.adapters.slack.mrkdwn import from_slack
from bot.adapters.slack.outbox import Outbox, PostAckTasks
from bot.adapters.slack.render import PUBLIC, Controls, render_reply
from bot.models import ChannelType, Message, Reply, ReplyKind
from bot.passive import looks_like_question
from bot.service import QAService

log = logging.getLogger("kubebot.slack")

Payload = Mapping[str, Any]


def share_ref(reply: Reply, text: str, thread_ts: str | None = None) -> ShareRef | None:
    """How to rebuild `reply` for the channel; None for errors (nothing worth sharing)."""
    if reply.kind is ReplyKind.ERROR:
        return None
    tour = TourRef(reply.tour.path_id, reply.tour.index) if reply.tour is not None else None
    entry_id = reply.entry.id if reply.entry is not None and reply.kind is ReplyKind.ANSWER else None
    return ShareRef(reply.kind, text, entry_id, tour, thread_ts)


def log_reply(source: str, reply: Reply, message: Message, started: float) -> None:
    log.info(
        "event=slack_reply source=%s channel_type=%s kind=%s entry=%s confidence=%.3f ms=%d",
        source,
        message.channel_type.value,
        reply.kind.value,
        reply.entry.id if reply.entry else "-",
        reply.confidence,
        (time.perf_counter() - started) * 1000,
    )


def _reply_key(event: Payload) -> str:
    """The outbox key of the answer to a message: one answer per message, on any replica."""
    return f"slack:reply:{ev.dedupe_key(event)}"


class MessageHandlers:
    """Slash commands, mentions, DMs, passive answers, onboarding and the App Home."""

    def __init__(
        self,
        service: QAService,
        settings: SlackSettings,
        outbox: Outbox,
        background: PostAckTasks,
        seen: SeenKeys,
    ) -> None:
        self.service = service
        self.settings = settings
        self.outbox = outbox
        self.background = background
        self.seen = seen
        self.images = DiagramUploader(outbox.client)  # an answer's diagram, after the answer

    # -- listener side: decide, then start the work -------------------------------------------
    def on_command(self, body: Payload) -> None:
        self.background.spawn(self._command(body), "command")

    def on_mention(self, event: Payload, bot_user_id: str | None) -> None:
        channel_type = ev.channel_type_of(str(event.get("channel") or ""), event.get("channel_type"))
        if channel_type is ChannelType.DIRECT:
            return  # every DM arrives as message.im too; that copy answers it (on any replica)
        if ev.is_from_bot(event):
            return
        work = self._conversation(event, bot_user_id, channel_type)
        self.background.spawn(self._once(event, work), "mention")

    def on_message(self, event: Payload, bot_user_id: str | None) -> None:
        if not ev.is_user_message(event):
            return
        if event.get("channel_type") == "im":
            work = self._conversation(event, bot_user_id, ChannelType.DIRECT)
            self.background.spawn(self._once(event, work), "direct")
            return
        if ev.mentions(event, bot_user_id):
            return  # the app_mention event answers it
        if str(event.get("channel") or "") not in self.settings.listen_channels or not ev.is_top_level(event):
            return
        if not looks_like_question(from_slack(str(event.get("text") or ""))):
            return  # the service applies the same rule; checked here too, so chatter costs no claim
        self.background.spawn(self._once(event, self._passive(event)), "passive")

    def on_member_joined(self, event: Payload, bot_user_id: str | None) -> None:
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        if not self.settings.onboarding_channel or channel != self.settings.onboarding_channel:
            return
        if not user or user == bot_user_id:
            return
        self.background.spawn(self._welcome(channel, user), "welcome")

    def on_home_opened(self, event: Payload) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        view = event.get("view") or {}
        position = TourRef.decode(str(view.get("private_metadata") or "")) or TourRef("", 0)
        self.background.spawn(self.publish_home(str(event["user"]), position), "home")

    # -- the work ---------------------------------------------------------------------------------
    async def _command(self, body: Payload) -> None:
        started = time.perf_counter()
        message = ev.command_message(body)
        await self.background.turn()  # acks first: see PostAckTasks.turn
        reply = await self.service.handle(message)
        response_url = str(body.get("response_url") or "")
        controls = Controls(share=share_ref(reply, message.text))
        trigger = str(body.get("trigger_id") or "")
        key = f"slack:command:{trigger}" if trigger else None
        if response_url:  # one post: Slack takes five per command, and retries may need the rest
            await self.outbox.respond(response_url, render_reply(reply, controls, max_messages=1), key=key)
        else:
            messages = render_reply(reply, controls)
            await self.outbox.post_ephemeral(message.channel_id, message.person.id, messages, key=key)
        log_reply("command", reply, message, started)

    async def _conversation(self, event: Payload, bot_user_id: str | None, channel_type: ChannelType) -> None:
        """A mention (answered in a thread under it) or a DM (answered in the DM)."""
        started = time.perf_counter()
        message = ev.event_message(event, bot_user_id, channel_type)
        await self.background.turn()
        reply = await self.service.handle(message)
        # DMs: answer in the DM (in its thread if asked in one); channels: always in a thread.
        thread_ts = event.get("thread_ts") if channel_type is ChannelType.DIRECT else ev.thread_of(event)
        if await self.outbox.post(
            message.channel_id, render_reply(reply, PUBLIC), thread_ts=thread_ts, key=_reply_key(event)
        ):
            await self.images.send(reply, message.channel_id, thread_ts)
        log_reply("direct" if channel_type is ChannelType.DIRECT else "mention", reply, message, started)

    async def _passive(self, event: Payload) -> None:
        """Answer an overheard question only when the knowledge base is confident; else stay silent."""
        started = time.perf_counter()
        message = ev.event_message(event, None, ChannelType.CHANNEL)
        await self.background.turn()
        reply = self.service.passive_answer(message, self.settings.passive_min)
        if reply is None:
            return
        thread_ts = ev.thread_of(event)
        if await self.outbox.post(
            message.channel_id, render_reply(reply, PUBLIC), thread_ts=thread_ts, key=_reply_key(event)
        ):
            await self.images.send(reply, message.channel_id, thread_ts)
        log_reply("passive", reply, message, started)

    async def _welcome(self, channel: str, user: str) -> None:
        tour = self.service.tour(None, 0)
        if await self.outbox.post_ephemeral(
            channel, user, welcome_message(self.settings.command, channel, tour)
        ):
            log.info("event=slack_welcome_sent")

    async def publish_home(self, user_id: str, position: TourRef) -> None:
        service = self.service
        tour = service.tour(position.path_id or None, position.index)
        view = home_view(service.help(), tour, service.topics(), service.paths(), self.settings.command)
        if await self.outbox.publish_home(user_id, view):
            log.info("event=slack_home_published tour=%s step=%d", position.path_id or "-", position.index)

    async def _once(self, event: Payload, work: Coroutine[Any, Any, None]) -> None:
        """Do ``work`` unless the message was already answered (the claim may wait on PostgreSQL,
        so it runs here, after the ack, not in the listener)."""
        if await self._first_time(event):
            await work
        else:
            work.close()

    async def _first_time(self, event: Payload) -> bool:
        if await self.seen.claim(ev.dedupe_key(event)):
            return True
        log.info("event=slack_duplicate_dropped key=channel_ts")
        return False
