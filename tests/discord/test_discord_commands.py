"""/kube slash commands, driven through discord.py's INTERACTION_CREATE parser and command tree."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.adapters.discord.config import DiscordSettings
from bot.knowledge import KnowledgeBase
from bot.models import ChannelType, Entry, Platform
from bot.service import Snapshot
from tests.discord import discord_payloads as p
from tests.discord.conftest import start_bot
from tests.discord.discord_checks import (
    assert_message_within_limits,
    assert_no_pings,
    button,
    custom_ids,
    text_of,
)
from tests.discord.discord_fake import APP_ID

CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


async def invoke(bot: Any, fake: Any, payload: dict[str, Any]) -> None:
    bot.client._connection.parse_interaction_create(payload)
    await fake.wait_for("POST", CALLBACK)


async def answer_after_defer(bot: Any, fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Run a deferred command; check the defer, return the edited original response."""
    bot.client._connection.parse_interaction_create(payload)
    callback = (await fake.wait_for("POST", CALLBACK))[0]
    assert callback.body == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral, "thinking"
    edited = (await fake.wait_for("PATCH", ORIGINAL))[0]
    assert edited.path.startswith(f"/webhooks/{APP_ID}/{payload['token']}/")
    assert_message_within_limits(edited.body)
    assert_no_pings(edited.body)
    return dict(edited.body)


def immediate(fake: Any) -> dict[str, Any]:
    callback = fake.matching("POST", CALLBACK)[0]
    assert callback.body["type"] == 4
    data = dict(callback.body["data"])
    assert_message_within_limits(data)
    assert_no_pings(data)
    return data


# -- registration ------------------------------------------------------------------------------
async def test_guild_sync_registers_the_kube_group(fake, service, settings):
    bot = await start_bot(fake, service, replace(settings, guild_id=p.GUILD_ID))
    try:
        assert await bot.sync_commands()
    finally:
        await bot.client.close()
    put = fake.matching("PUT", rf"/applications/{APP_ID}/guilds/{p.GUILD_ID}/commands")
    assert len(put) == 1
    (kube,) = put[0].body
    assert kube["name"] == "kube" and kube["type"] == 1
    assert kube["contexts"] == [0, 1] and kube["integration_types"] == [0]  # servers + bot DMs
    subs = {o["name"]: o for o in kube["options"]}
    assert set(subs) == {
        "ask",
        "topics",
        "learn",
        "help",
        "pods",
        "deployments",
        "services",
        "events",
        "nodes",
        "why",
    }
    assert all(o["type"] == 1 for o in subs.values())
    (question,) = subs["ask"]["options"]
    assert question["name"] == "question" and question["required"] is True
    assert question["autocomplete"] is True and question["max_length"] == 300
    assert [o["name"] for o in subs["why"]["options"]] == ["name", "namespace"]
    assert subs["pods"]["options"][0]["required"] is False
    assert not fake.matching("PUT", rf"/applications/{APP_ID}/commands")


async def test_global_sync_without_a_guild(bot, fake):
    assert await bot.sync_commands()
    assert len(fake.matching("PUT", rf"/applications/{APP_ID}/commands")) == 1


async def test_sync_failure_is_logged_not_raised(bot, fake, caplog):
    fake.queue("PUT", rf"/applications/{APP_ID}/commands", 403, {"message": "Missing Access", "code": 50001})
    assert await bot.sync_commands() is False
    assert "event=sync_failed" in caplog.text and "applications.commands" in caplog.text


# -- ask -----------------------------------------------------------------------------------------
async def test_ask_defers_then_answers_with_an_embed(bot, fake, recorder):
    data = await answer_after_defer(bot, fake, p.command("ask", question="what is a pod"))
    (embed,) = data["embeds"]
    assert embed["title"] == "What is a Pod?"
    assert embed["description"].startswith("> A Pod is to containers what a VM was to processes.")
    assert "share a network namespace" in embed["description"]
    tip = embed["fields"][0]
    assert tip["name"] == "List the containers in a pod"
    assert tip["value"].startswith("```sh\nkubectl get pod POD") and tip["value"].endswith("\n```")
    assert embed["fields"][-1] == {
        "name": "Docs",
        "value": "https://kubernetes.io/docs/concepts/workloads/pods/",
        "inline": False,
    }
    ids = custom_ids(data)
    assert ids[:3] == ["kb:fb:up:pod:what is a pod", "kb:fb:down:pod:what is a pod", "kb:share"]
    assert {"kb:entry:node", "kb:entry:deployment"} <= set(ids)
    assert button(data, "kb:entry:node")["label"] == "What is a Node?"
    assert button(data, "kb:share")["label"] == "Share in channel"
    (record,) = recorder.questions
    assert (record.text, record.entry_id, record.platform, record.channel_type) == (
        "what is a pod",
        "pod",
        Platform.DISCORD,
        ChannelType.COMMAND,
    )


async def test_ask_vague_question_offers_did_you_mean_buttons(unsure_bot, fake, unsure_service):
    bot, service = unsure_bot, unsure_service
    question = "what runs my containers"
    expected = service.answer(question)
    assert expected.suggestions, "fixture question should produce did-you-mean candidates"
    data = await answer_after_defer(bot, fake, p.command("ask", question=question))
    entry_ids = [i for i in custom_ids(data) if i.startswith("kb:pick:d:")]
    offered = [f"kb:pick:d:{c.entry_id}:{question}" for c in expected.suggestions]
    assert entry_ids == offered[: len(entry_ids)]
    assert entry_ids


async def test_decline_says_what_it_knows_and_never_pings(bot, fake, service):
    question = f"@everyone @here <@&{p.ROLE_ID}> what's the *weather*"
    data = await answer_after_defer(bot, fake, p.command("ask", question=question))
    text = text_of(data)
    assert "I don't have an answer" in text
    assert "basics" in text  # the tags it knows about
    assert "@\u200beveryone" in text and "@\u200bhere" in text and "@everyone" not in text
    assert f"<@\u200b&{p.ROLE_ID}>" in text and "\\*weather\\*" in text
    assert data["allowed_mentions"] == {"parse": []}
    assert "kb:topics" in custom_ids(data) and "kb:fb:down:-:" + question[:40] in " ".join(custom_ids(data))


async def test_autocomplete_suggests_titles_at_most_25(bot, fake, service, fixture_kb=None):
    kb = service.holder.current.kb
    many = {
        f"thing-{i}": Entry(
            f"thing-{i}",
            f"What is thing {i} in a pod?",
            (f"what is thing {i}",) * 3,
            "An answer.",
            ("https://kubernetes.io/",),
        )
        for i in range(40)
    }
    service.holder.swap(Snapshot.build(KnowledgeBase(kb.root, {**kb.entries, **many}, kb.synonyms, kb.paths)))
    await invoke(bot, fake, p.autocomplete("ask", "question", "pod"))
    callback = fake.matching("POST", CALLBACK)[0]
    assert callback.body["type"] == 8
    choices = callback.body["data"]["choices"]
    assert len(choices) == 25 == len({c["value"] for c in choices})  # Discord's limit, filled
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert {"name": "What is a Pod?", "value": "What is a Pod?"} in choices


async def test_autocomplete_value_is_answered(bot, fake):
    data = await answer_after_defer(bot, fake, p.command("ask", question="What is a Node?"))
    assert data["embeds"][0]["title"] == "What is a Node?"


# -- topics / learn / help ---------------------------------------------------------------------------
async def test_topics_lists_entries_by_tag(bot, fake):
    await invoke(bot, fake, p.command("topics"))
    data = immediate(fake)
    assert data["flags"] == 64
    fields = {f["name"]: f["value"] for f in data["embeds"][0]["fields"]}
    assert "debugging" in fields and "• Why is my pod in CrashLoopBackOff?" in fields["debugging"]
    assert custom_ids(data) == ["kb:share"]


async def test_learn_starts_the_tour_with_next_only(bot, fake):
    await invoke(bot, fake, p.command("learn"))
    data = immediate(fake)
    embed = data["embeds"][0]
    assert embed["title"] == "How were services deployed before containers?"
    assert embed["footer"]["text"] == "Kubernetes by analogy · step 1 of 7"
    ids = custom_ids(data)
    assert "kb:tour:onboarding:1" in ids and not any(i == "kb:tour:onboarding:-1" for i in ids)
    assert button(data, "kb:tour:onboarding:1")["label"] == "Next"


async def test_learn_named_path_and_unknown_path(bot, fake):
    await invoke(bot, fake, p.command("learn", path="debugging-101"))
    assert immediate(fake)["embeds"][0]["footer"]["text"] == "Debugging 101 · step 1 of 2"
    fake.requests.clear()
    await invoke(bot, fake, p.command("learn", path="nope"))
    assert "There is no tour called" in text_of(immediate(fake))


async def test_learn_path_autocomplete(bot, fake):
    await invoke(bot, fake, p.autocomplete("learn", "path", "debug"))
    choices = fake.matching("POST", CALLBACK)[0].body["data"]["choices"]
    assert choices == [{"name": "Debugging 101 (debugging-101)", "value": "debugging-101"}]


async def test_help(bot, fake):
    await invoke(bot, fake, p.command("help"))
    data = immediate(fake)
    assert data["embeds"][0]["description"].startswith("```\nI answer Kubernetes")
    assert "kb:topics" in custom_ids(data)


async def test_public_replies_when_not_ephemeral(fake, service, settings):
    bot = await start_bot(fake, service, replace(settings, ephemeral=False))
    try:
        await invoke(bot, fake, p.command("topics"))
    finally:
        await bot.client.close()
    data = immediate(fake)
    assert "flags" not in data or not data["flags"] & 64
    assert "kb:share" not in custom_ids(data)


async def test_ask_in_a_dm(bot, fake, recorder):
    payload = p.command("ask", dm=True, question="what is a node")
    bot.client._connection.parse_interaction_create(payload)
    edited = (await fake.wait_for("PATCH", ORIGINAL))[0]
    assert edited.body["embeds"][0]["title"] == "What is a Node?"
    assert recorder.questions[0].channel_type is ChannelType.COMMAND


# -- cluster -----------------------------------------------------------------------------------------
async def test_cluster_command_without_gateway_says_so(bot, fake):
    await invoke(bot, fake, p.command("pods", namespace="prod"))
    data = immediate(fake)
    assert data["flags"] == 64 and "cluster lookup is not enabled" in data["content"]


async def test_cluster_pods_goes_through_the_service(cluster_bot, fake):
    bot, cluster = cluster_bot
    data = await answer_after_defer(bot, fake, p.command("pods", namespace="prod"))
    ((query, message),) = cluster.queries
    assert (query.verb, query.name, query.namespace) == ("pods", None, "prod")
    assert message.platform is Platform.DISCORD and message.channel_type is ChannelType.COMMAND
    assert message.channel_id == str(p.CHANNEL_ID)
    assert message.person.id == str(p.USER_ID) and message.person.roles == (str(p.ROLE_ID),)
    embed = data["embeds"][0]
    assert embed["title"] == "pods in prod"
    assert "web-1" in embed["description"] and embed["description"].startswith("```")
    assert embed["fields"][0]["name"] == "pod prod/web-1: keeps crashing"
    fix = button(data, "kb:entry:crashloopbackoff")
    assert fix["label"] == "Fix: Why is my pod in CrashLoopBackOff?"


async def test_why_passes_name_and_namespace(cluster_bot, fake):
    bot, cluster = cluster_bot
    await answer_after_defer(bot, fake, p.command("why", name="web-1", namespace="prod"))
    assert [(q.verb, q.name, q.namespace) for q, _ in cluster.queries] == [("why", "web-1", "prod")]


@pytest.mark.parametrize("name", ["Web 1!", "a b", "-bad"])
async def test_invalid_names_are_refused_before_the_cluster(cluster_bot, fake, name):
    bot, cluster = cluster_bot
    await invoke(bot, fake, p.command("why", name=name))
    assert "not a valid Kubernetes name" in immediate(fake)["content"]
    assert cluster.queries == []


async def test_a_failing_command_is_answered(bot, fake, service, monkeypatch, caplog):
    async def boom(message: Any) -> Any:
        raise RuntimeError("kaput")

    monkeypatch.setattr(service, "handle", boom)
    bot.client._connection.parse_interaction_create(p.command("ask", question="what is a pod"))
    edited = (await fake.wait_for("PATCH", ORIGINAL))[0]
    assert "something went wrong" in edited.body["content"]
    assert "event=command_failed command=kube ask" in caplog.text


def test_settings_fixture_is_not_sharded(settings: DiscordSettings) -> None:
    assert not settings.use_sharding
