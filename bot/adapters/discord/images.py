"""An answer's diagram on Discord: the PNG is uploaded with the message that carries the answer
and shown inside its embed through `attachment://NAME.png`, with the alt text as the attachment's
description.

Channel messages need the bot's Attach Files permission (interaction responses do not). When
Discord refuses the message with its picture (403 Missing Permissions, 413 too large, any HTTP
error), the same message is sent once more without the picture and the refusal is logged once:
the answer always arrives.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import cast

import discord
from discord.utils import MISSING

from bot.adapters.discord.render import Part

log = logging.getLogger("kubebot.discord")


def attachment(part: Part) -> discord.File:
    """A fresh upload of the part's diagram (a File can only be sent once), or MISSING."""
    image = part.image
    if image is None:
        return cast(discord.File, MISSING)  # discord.py's "not given"
    return discord.File(io.BytesIO(image.read()), filename=image.filename, description=image.alt)


def text_only(part: Part) -> Part:
    """The part without its diagram: no attachment, no image in the embeds."""
    embeds = tuple(e.copy().set_image(url=None) if e.image.url else e for e in part.embeds)
    return replace(part, embeds=embeds, image=None)


Send = Callable[[Part, int], Awaitable[None]]  # sends the index-th part of a reply


async def sent_with_fallback(send: Send, part: Part, index: int, where: str) -> None:
    """`send(part, index)`; if Discord rejects it and it carries a diagram, send it again without."""
    if part.image is None:
        await send(part, index)
        return
    try:
        await send(part, index)
    except (discord.HTTPException, OSError) as exc:
        log.warning(
            "event=discord_diagram_refused where=%s entry=%s status=%s code=%s",
            where,
            part.image.entry_id,
            getattr(exc, "status", ""),
            getattr(exc, "code", ""),
        )
        await send(text_only(part), index)
