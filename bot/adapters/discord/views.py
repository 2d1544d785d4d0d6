"""Button clicks. One DynamicItem template (`kb:...`) is registered on the client, so any button this
bot ever sent keeps working after a restart; the custom id carries the action (see `ids`).
Ids that no longer parse are answered with a clear "this button expired".
"""

from __future__ import annotations

import logging
import re
from typing import Any, Self

import discord

from bot.adapters.discord import ids
from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.delivery import reply_to_interaction, update_interaction_message
from bot.adapters.discord.mapping import component_channel_type, from_interaction
from bot.adapters.discord.render import (
    EXPIRED,
    FAILED,
    NOTHING_TO_SHARE,
    SHARED_BY,
    THANKS,
    ButtonSpec,
    Part,
    notice,
    render_reply,
)
from bot.models import ReplyKind
from bot.service import QAService

log = logging.getLogger("kubebot.discord")

Interaction = discord.Interaction[discord.Client]


def buttons_from_message(message: discord.Message) -> tuple[ButtonSpec, ...]:
    """The kubebot buttons of a received message, row by row (to re-post it when sharing)."""
    specs: list[ButtonSpec] = []
    for row, component in enumerate(message.components):
        if not isinstance(component, discord.ActionRow):
            continue
        for child in component.children:
            if (
                isinstance(child, discord.Button)
                and child.custom_id
                and child.custom_id.startswith(ids.PREFIX)
            ):
                emoji = str(child.emoji) if child.emoji else None
                specs.append(ButtonSpec(child.label or "", child.custom_id, child.style, emoji, row))
    return tuple(specs)


class ComponentActions:
    """What each button does; the service answers, this only maps clicks and renders."""

    def __init__(self, service: QAService, settings: DiscordSettings) -> None:
        self.service = service
        self.settings = settings

    async def click(self, interaction: Interaction, custom_id: str) -> None:
        action = ids.parse(custom_id)
        log.info("event=click action=%s", type(action).__name__ if action else "expired")
        try:
            await self._run(interaction, action)
        except Exception:  # a broken click must not take the bot down; tell the user
            log.exception("event=click_failed")
            if not interaction.response.is_done():
                await reply_to_interaction(interaction, notice(FAILED), ephemeral=True)

    async def _run(self, interaction: Interaction, action: ids.Action | None) -> None:
        private = True  # what a click shows is for the clicker; "Share in channel" publishes it
        if action is None:
            await reply_to_interaction(interaction, notice(EXPIRED), ephemeral=True)
        elif isinstance(action, ids.ShowEntry):
            parts = render_reply(self.service.entry(action.entry_id), share=private)
            await reply_to_interaction(interaction, parts, ephemeral=private)
        elif isinstance(action, ids.Pick):  # did-you-mean / "Not this?": record the choice, show the entry
            message = from_interaction(interaction, action.question, component_channel_type(interaction))
            self.service.pick(action.entry_id, action.kind, message)
            parts = render_reply(self.service.entry(action.entry_id), share=private)
            await reply_to_interaction(interaction, parts, ephemeral=private)
        elif isinstance(action, ids.ShowTopics):
            await reply_to_interaction(
                interaction, render_reply(self.service.topics(), share=private), ephemeral=private
            )
        elif isinstance(action, ids.GoTour):
            await self._tour(interaction, action)
        elif isinstance(action, ids.Feedback):
            message = from_interaction(interaction, action.question, component_channel_type(interaction))
            self.service.feedback(action.entry_id, action.helpful, message)
            log.info("event=feedback helpful=%s entry=%s", action.helpful, action.entry_id or "-")
            await reply_to_interaction(interaction, notice(THANKS), ephemeral=True)
        else:
            await self._share(interaction)

    async def _tour(self, interaction: Interaction, action: ids.GoTour) -> None:
        reply = self.service.tour(action.path_id, action.index)
        parts = render_reply(reply, share=True)
        clicked = interaction.message
        in_place = clicked is not None and clicked.flags.ephemeral
        if reply.kind is ReplyKind.TOUR and len(parts) == 1 and in_place:
            await update_interaction_message(interaction, parts[0])
        else:
            await reply_to_interaction(interaction, parts, ephemeral=True)

    async def _share(self, interaction: Interaction) -> None:
        clicked = interaction.message
        if clicked is None or not clicked.embeds:
            await reply_to_interaction(interaction, notice(NOTHING_TO_SHARE), ephemeral=True)
            return
        buttons = tuple(b for b in buttons_from_message(clicked) if b.custom_id != ids.SHARE)
        content = SHARED_BY.format(user=interaction.user.mention)
        part = Part(tuple(clicked.embeds), content, buttons)
        await reply_to_interaction(interaction, (part,), ephemeral=False)


def button_item(
    actions: ComponentActions,
) -> type[discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]]]:
    """The DynamicItem class for every `kb:` custom id, bound to this bot's actions."""

    class KubeButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=ids.TEMPLATE):
        def __init__(self, custom_id: str) -> None:
            super().__init__(discord.ui.Button(custom_id=custom_id))

        @classmethod
        async def from_custom_id(
            cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
        ) -> Self:
            return cls(match.string)

        async def callback(self, interaction: Interaction) -> None:
            await actions.click(interaction, self.custom_id)

    return KubeButton


def is_ours(custom_id: str) -> bool:
    return re.fullmatch(ids.TEMPLATE, custom_id) is not None
