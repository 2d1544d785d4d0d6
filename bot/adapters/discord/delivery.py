"""Sending rendered parts: interaction responses and followups, channel messages and replies.

Every send carries `AllowedMentions.none()`, so whatever a user typed, nothing pings. Discord errors
(HTTP errors, rate limits discord.py gave up on, network failures) are logged and swallowed: a
failed reply never takes the bot down.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
from discord.utils import MISSING

from bot.adapters.discord.images import Send, attachment, sent_with_fallback
from bot.adapters.discord.render import ButtonSpec, Part

log = logging.getLogger("kubebot.discord")


def no_pings() -> discord.AllowedMentions:
    """A fresh "ping nobody" (discord.py may adjust the object it is given)."""
    return discord.AllowedMentions.none()


DELIVERY_ERRORS: tuple[type[BaseException], ...] = (
    discord.HTTPException,
    discord.RateLimited,
    aiohttp.ClientError,
    asyncio.TimeoutError,
)


class SentView(discord.ui.View):
    """The buttons of one sent message.

    timeout=None, and `is_finished()` is True so discord.py never tracks it: clicks are routed by
    the one `kb:` DynamicItem template registered on the client, which survives restarts. (A tracked
    view that times out would also unregister that template.)
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_finished(self) -> bool:
        return True


def make_view(buttons: tuple[ButtonSpec, ...]) -> SentView | None:
    if not buttons:
        return None
    view = SentView()
    for spec in buttons:
        view.add_item(
            discord.ui.Button(
                label=spec.label or None,
                custom_id=spec.custom_id,
                style=spec.style,
                emoji=spec.emoji,
                row=spec.row,
            )
        )
    return view


def log_failure(where: str, exc: BaseException) -> None:
    status = getattr(exc, "status", "")
    code = getattr(exc, "code", "")
    log.warning(
        "event=send_failed where=%s error=%s status=%s code=%s", where, type(exc).__name__, status, code
    )


def _is_deferred(interaction: discord.Interaction[discord.Client]) -> bool:
    return interaction.response.type is discord.InteractionResponseType.deferred_channel_message


async def _deliver(send: Send, parts: tuple[Part, ...], where: str) -> bool:
    """Send the parts in order (each with the text-only fallback); False, logged, when Discord refused."""
    try:
        for index, part in enumerate(parts):
            await sent_with_fallback(send, part, index, where)
    except DELIVERY_ERRORS as exc:
        log_failure(where, exc)
        return False
    return True


async def reply_to_interaction(
    interaction: discord.Interaction[discord.Client], parts: tuple[Part, ...], *, ephemeral: bool
) -> bool:
    """Answer an interaction: the first part as the response (or the edit of a deferred
    "thinking" response), the rest as followups. Returns False when Discord refused."""

    async def send(part: Part, index: int) -> None:
        view = make_view(part.buttons)
        embeds = list(part.embeds)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                part.content,
                embeds=embeds,
                file=attachment(part),
                view=view or MISSING,
                ephemeral=ephemeral,
                allowed_mentions=no_pings(),
            )
        elif index == 0 and _is_deferred(interaction):
            await interaction.edit_original_response(
                content=part.content,
                embeds=embeds,
                attachments=[attachment(part)] if part.image else MISSING,
                view=view,
                allowed_mentions=no_pings(),
            )
        else:
            await interaction.followup.send(
                part.content or MISSING,
                embeds=embeds,
                file=attachment(part),
                view=view or MISSING,
                ephemeral=ephemeral,
                allowed_mentions=no_pings(),
            )

    return await _deliver(send, parts, "interaction")


async def update_interaction_message(interaction: discord.Interaction[discord.Client], part: Part) -> bool:
    """Replace the clicked message in place (type 7): the tour's Next/Back on an ephemeral message."""

    async def send(part: Part, index: int) -> None:
        await interaction.response.edit_message(
            content=part.content,
            embeds=list(part.embeds),
            attachments=[attachment(part)] if part.image else [],  # [] drops the last step's picture
            view=make_view(part.buttons),
            allowed_mentions=no_pings(),
        )

    return await _deliver(send, (part,), "update")


async def send_parts(
    target: discord.abc.Messageable, parts: tuple[Part, ...], *, reference: discord.Message | None = None
) -> bool:
    """Post parts in a channel, DM or thread; the first one as a reply to `reference` when given."""

    async def send(part: Part, index: int) -> None:
        view = make_view(part.buttons) or MISSING
        embeds = list(part.embeds)
        if index == 0 and reference is not None:
            await target.send(
                part.content,
                embeds=embeds,
                file=attachment(part),
                view=view,
                allowed_mentions=no_pings(),
                reference=reference,
                mention_author=False,
            )
        else:
            await target.send(
                part.content, embeds=embeds, file=attachment(part), view=view, allowed_mentions=no_pings()
            )

    return await _deliver(send, parts, "channel")
