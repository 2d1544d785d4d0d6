"""Assertions on the JSON discord.py sent: Discord's documented limits, and no pings."""

from __future__ import annotations

from typing import Any


def embed_size(embed: dict[str, Any]) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    size += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return size


def assert_message_within_limits(data: dict[str, Any]) -> None:
    """Every limit Discord enforces on a message body (a 400 otherwise)."""
    embeds = data.get("embeds") or []
    assert len(embeds) <= 10
    assert len(data.get("content") or "") <= 2000
    total = 0
    for embed in embeds:
        assert len(embed.get("title", "")) <= 256
        assert len(embed.get("description", "")) <= 4096
        fields = embed.get("fields", [])
        assert len(fields) <= 25
        for f in fields:
            assert 0 < len(f["name"]) <= 256
            assert 0 < len(f["value"]) <= 1024
        assert len(embed.get("footer", {}).get("text", "")) <= 2048
        total += embed_size(embed)
    assert total <= 6000, total
    rows = data.get("components") or []
    assert len(rows) <= 5
    ids: list[str] = []
    for row in rows:
        assert row["type"] == 1
        assert 1 <= len(row["components"]) <= 5
        for button in row["components"]:
            assert len(button.get("label", "")) <= 80
            assert "label" in button or "emoji" in button
            assert 1 <= len(button["custom_id"]) <= 100
            ids.append(button["custom_id"])
    assert len(ids) == len(set(ids)), "custom ids must be unique within a message"


def assert_no_pings(data: dict[str, Any]) -> None:
    mentions = data.get("allowed_mentions")
    assert mentions is not None, "every send must carry allowed_mentions"
    assert mentions.get("parse") == []
    assert not mentions.get("users") and not mentions.get("roles")
    assert mentions.get("replied_user", False) is False


def custom_ids(data: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in data.get("components") or [] for b in row["components"]]


def button(data: dict[str, Any], custom_id_prefix: str) -> dict[str, Any]:
    for row in data.get("components") or []:
        for b in row["components"]:
            if b["custom_id"].startswith(custom_id_prefix):
                return dict(b)
    raise AssertionError(f"no button {custom_id_prefix!r} in {custom_ids(data)}")


def text_of(data: dict[str, Any]) -> str:
    parts = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)
