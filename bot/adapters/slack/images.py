"""An answer's diagram on Slack: uploaded with files_upload_v2 into the answer's channel and thread,
right after the answer itself.

Why not an image block with `slack_file` inside the answer: a file uploaded without a channel is
visible to the bot only, and one uploaded a moment ago may not be ready yet; either way Slack
rejects the whole message (`invalid_blocks`) and the text answer would be lost with the picture.
Here the answer goes first, on its own, and the picture follows in the same thread.

Only messages everyone in the conversation sees get a picture (mentions, DMs, passive answers,
shared answers): Slack has no ephemeral files, so ephemeral replies stay text only.

Uploads need the `files:write` scope. A workspace that refuses them (missing scope, uploads
disabled, a revoked token) is logged once and not asked again until the bot restarts; any other
failure is logged once per answer. The text answer is never affected.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.diagrams import DiagramImage, shown_diagram
from bot.models import Reply

log = logging.getLogger("kubebot.slack")

# Slack errors that will not go away by retrying: stop uploading for this process.
REFUSED = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "access_denied",
        "restricted_action",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "ekm_access_denied",
        "file_uploads_disabled",
        "file_uploads_except_images_disabled",
    }
)


class DiagramUploader:
    """Sends the diagram of a reply, if it has one; never raises."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.refused: str | None = None  # Slack's error once the workspace refused uploads

    async def send(self, reply: Reply, channel: str, thread_ts: str | None = None) -> str | None:
        """Upload the reply's diagram into `channel` (and `thread_ts`); the file id, or None."""
        image = shown_diagram(reply)
        if image is None or self.refused is not None or not channel:
            return None
        return await self.upload(image, channel, thread_ts)

    async def upload(self, image: DiagramImage, channel: str, thread_ts: str | None) -> str | None:
        try:
            response = await self.client.files_upload_v2(
                file=image.read(),
                filename=image.filename,
                title=image.title,
                alt_txt=image.alt,
                channel=channel,
                thread_ts=thread_ts or None,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in REFUSED:
                if self.refused is None:  # answers in flight may all hear it: say it once
                    hint = (
                        "add the files:write scope and reinstall the app" if error == "missing_scope" else "-"
                    )
                    log.warning("event=slack_diagram_disabled error=%s hint=%s", error, hint)
                self.refused = error
            else:
                log.warning("event=slack_diagram_failed entry=%s error=%s", image.entry_id, error)
            return None
        except Exception as exc:  # network, the upload URL, a missing file: the answer is already out
            log.warning("event=slack_diagram_failed entry=%s error=%s", image.entry_id, type(exc).__name__)
            return None
        file_id = str((response.get("file") or {}).get("id") or "")
        log.info("event=slack_diagram_sent entry=%s file=%s", image.entry_id, file_id or "-")
        return file_id or None
