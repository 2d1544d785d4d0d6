"""Acks first: while requests keep reaching the app, no answer takes the CPU; an answer that has
waited long enough goes anyway (a flood never starves the answers). Ordering only, no timings."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack.app import build_app, build_client
from bot.adapters.slack.auth import StartupAuthorization
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.tasks import PostAckTasks
from bot.app import build_service
from bot.models import Message, Reply

from .conftest import FIXTURE_KB, slack_env
from .slack_fakes import FakeSlack
from .slack_requests import command_body


async def test_replies_wait_for_a_pass_without_new_requests() -> None:
    background, order = PostAckTasks(max_defer=60), []

    async def reply(i: int) -> None:
        await background.turn()
        order.append(f"reply{i}")

    for i in range(3):
        background.spawn(reply(i), "reply")
    for i in range(20):  # a request reaches the app in every pass of the loop
        background.ack_started()
        order.append(f"ack{i}")
        await asyncio.sleep(0)
    assert await background.drain(timeout=5)
    assert order[:20] == [f"ack{i}" for i in range(20)], order
    assert sorted(order[20:]) == ["reply0", "reply1", "reply2"]


async def test_a_flood_of_requests_never_starves_the_replies() -> None:
    background, order = PostAckTasks(max_defer=0.05), []

    async def reply() -> None:
        await background.turn()
        order.append("reply")

    background.spawn(reply(), "reply")
    loop = asyncio.get_running_loop()
    flood_ends = loop.time() + 5
    while loop.time() < flood_ends and "reply" not in order:
        background.ack_started()
        await asyncio.sleep(0)
    assert order == ["reply"], "the reply never got a turn while requests kept arriving"
    assert loop.time() < flood_ends


async def test_the_app_lets_every_arriving_request_in_before_any_answer(fake_slack: FakeSlack) -> None:
    """Through the real bolt app: 20 slash commands reach it, one per pass of the event loop; the
    answers (the service's work) start only after the last one is in."""
    settings = SlackSettings.from_env(slack_env(fake_slack), http=True)
    service = build_service(FIXTURE_KB)
    order: list[str] = []
    handle = service.handle

    async def recorded(message: Message) -> Reply:
        order.append("answer")
        return await handle(message)

    service.handle = recorded  # type: ignore[method-assign]
    client = build_client(settings)
    authorization = StartupAuthorization(client)
    await authorization.check()
    background = PostAckTasks(max_defer=60)
    app = build_app(service, settings, client, background=background, authorization=authorization)

    async def command(i: int) -> Any:
        body, content_type = command_body("what is a pod", response_url=fake_slack.response_url())
        order.append("request")
        request = AsyncBoltRequest(body=body, headers={"content-type": [content_type]})
        response = await app.async_dispatch(request)
        assert response.status == 200
        return response

    sent = []
    for i in range(20):
        sent.append(asyncio.ensure_future(command(i)))
        await asyncio.sleep(0)
    await asyncio.gather(*sent)
    assert await background.drain(timeout=10)
    await fake_slack.wait_for("response_url", 20, timeout=10)
    await authorization.aclose()
    assert order.count("answer") == 20
    assert order.index("answer") > len(order) - 1 - order[::-1].index("request"), order
