"""The `/kube` slash-command group: ask (with autocomplete), topics, learn, help, and the cluster
sub-commands, which go through `service.handle` like typed text. Slow work happens after `defer()`.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands

from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.delivery import log_failure, reply_to_interaction
from bot.adapters.discord.limits import CHOICE_TEXT, CHOICES, truncate
from bot.adapters.discord.mapping import from_interaction
from bot.adapters.discord.render import BAD_NAME, CLUSTER_OFF, FAILED, notice, render_reply
from bot.models import Reply
from bot.service import QAService

log = logging.getLogger("kubebot.discord")

Interaction = discord.Interaction[discord.Client]
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


class CommandHandler:
    """Turns command invocations into service calls and rendered replies."""

    def __init__(self, service: QAService, settings: DiscordSettings) -> None:
        self.service = service
        self.settings = settings

    async def send(self, interaction: Interaction, reply: Reply) -> None:
        private = self.settings.ephemeral
        await reply_to_interaction(interaction, render_reply(reply, share=private), ephemeral=private)

    async def defer(self, interaction: Interaction) -> bool:
        try:
            await interaction.response.defer(ephemeral=self.settings.ephemeral, thinking=True)
        except (discord.HTTPException, discord.RateLimited) as exc:
            log_failure("defer", exc)
            return False
        return True

    async def handle(self, interaction: Interaction, text: str) -> None:
        """Defer first (within Discord's 3 s), then let the service answer, then follow up."""
        if not await self.defer(interaction):
            return
        reply = await self.service.handle(from_interaction(interaction, text))
        log.info("event=command kind=%s confidence=%.2f", reply.kind.value, reply.confidence)
        await self.send(interaction, reply)

    async def cluster(self, interaction: Interaction, verb: str, *args: str | None) -> None:
        if not self.service.cluster_enabled:
            await reply_to_interaction(interaction, notice(CLUSTER_OFF.format(verb=verb)), ephemeral=True)
            return
        values = [a.strip().lower() for a in args if a and a.strip()]
        bad = next((v for v in values if not _K8S_NAME.fullmatch(v)), None)
        if bad is not None:
            await reply_to_interaction(interaction, notice(BAD_NAME.format(value=bad)), ephemeral=True)
            return
        await self.handle(interaction, " ".join([verb, *values]))

    def complete(self, current: str) -> list[app_commands.Choice[str]]:
        try:
            candidates = self.service.complete(current, CHOICES)
        except Exception:  # autocomplete is best effort
            log.exception("event=autocomplete_failed")
            return []
        choices: dict[str, app_commands.Choice[str]] = {}
        for candidate in candidates:
            value = truncate(candidate.title, CHOICE_TEXT)
            choices.setdefault(value, app_commands.Choice(name=value, value=value))
        return list(choices.values())[:CHOICES]

    def complete_path(self, current: str) -> list[app_commands.Choice[str]]:
        needle = current.lower().strip()
        paths = self.service.paths()
        return [
            app_commands.Choice(name=truncate(f"{p.title} ({p.id})", CHOICE_TEXT), value=p.id)
            for p in paths
            if needle in p.id or needle in p.title.lower()
        ][:CHOICES]


class KubeCommands(app_commands.Group):
    def __init__(self, handler: CommandHandler) -> None:
        super().__init__(
            name="kube",
            description="Kubernetes and container questions, answered by analogy",
            # a server bot: usable in servers and in DMs with the bot, installed to servers only
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=True, private_channel=False
            ),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        )
        self.h = handler

    @app_commands.command(name="ask", description="Ask a Kubernetes or container question")
    @app_commands.describe(question="Your question in your own words, or pick a topic as you type")
    async def ask(self, interaction: Interaction, question: app_commands.Range[str, 1, 300]) -> None:
        await self.h.handle(interaction, question)

    @ask.autocomplete("question")
    async def ask_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self.h.complete(current)

    @app_commands.command(name="topics", description="List what I can explain")
    async def topics(self, interaction: Interaction) -> None:
        await self.h.send(interaction, self.h.service.topics())

    @app_commands.command(name="learn", description="A guided tour, one step at a time")
    @app_commands.describe(path="Which tour (default: the onboarding tour)")
    async def learn(self, interaction: Interaction, path: str | None = None) -> None:
        await self.h.send(interaction, self.h.service.tour(path.strip().lower() if path else None, 0))

    @learn.autocomplete("path")
    async def learn_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self.h.complete_path(current)

    @app_commands.command(name="help", description="What I can do")
    async def help(self, interaction: Interaction) -> None:
        await self.h.send(interaction, self.h.service.help())

    @app_commands.command(name="pods", description="Pods and their status (cluster lookup)")
    @app_commands.describe(namespace="Namespace (default: the bot's)")
    async def pods(self, interaction: Interaction, namespace: str | None = None) -> None:
        await self.h.cluster(interaction, "pods", namespace)

    @app_commands.command(name="deployments", description="Deployments and their readiness (cluster lookup)")
    @app_commands.describe(namespace="Namespace (default: the bot's)")
    async def deployments(self, interaction: Interaction, namespace: str | None = None) -> None:
        await self.h.cluster(interaction, "deployments", namespace)

    @app_commands.command(name="services", description="Services and their endpoints (cluster lookup)")
    @app_commands.describe(namespace="Namespace (default: the bot's)")
    async def services(self, interaction: Interaction, namespace: str | None = None) -> None:
        await self.h.cluster(interaction, "services", namespace)

    @app_commands.command(name="events", description="Recent warning events (cluster lookup)")
    @app_commands.describe(namespace="Namespace (default: the bot's)")
    async def events(self, interaction: Interaction, namespace: str | None = None) -> None:
        await self.h.cluster(interaction, "events", namespace)

    @app_commands.command(name="nodes", description="Nodes and their conditions (cluster lookup)")
    async def nodes(self, interaction: Interaction) -> None:
        await self.h.cluster(interaction, "nodes")

    @app_commands.command(name="why", description="Diagnose a pod, deployment or service (cluster lookup)")
    @app_commands.describe(name="The pod, deployment or service", namespace="Namespace (default: the bot's)")
    async def why(
        self, interaction: Interaction, name: app_commands.Range[str, 1, 253], namespace: str | None = None
    ) -> None:
        await self.h.cluster(interaction, "why", name, namespace)


class KubeTree(app_commands.CommandTree[discord.Client]):
    """Logs command failures and tells the user instead of leaving "The application did not respond"."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError, /) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("event=command_failed command=%s error=%s", name, type(error).__name__, exc_info=error)
        await reply_to_interaction(interaction, notice(FAILED), ephemeral=True)
