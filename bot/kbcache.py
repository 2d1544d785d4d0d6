"""A cached, versioned index, so `kubebot ask` on a 10k-entry knowledge base answers in well under
a second instead of parsing the YAML and indexing it first.

One file holds what loading and indexing produce — the validated entries, synonyms, tours and
domain words, and the matcher's index (`bot.index.Index`): an uncompressed numpy ``.npz`` read with
``allow_pickle=False``, so it holds only numbers and UTF-8 JSON and loading it cannot run code. Its
name is a hash of every file the loader reads (path and bytes), of the engine (kubebot's version
and the source of the modules that shape the index) and of the settings the index depends on: any
change misses and rebuilds; an unreadable file is logged once, ignored and rewritten.

Where: ``KUBEBOT_INDEX_CACHE`` (a directory, or ``off``), else ``$XDG_CACHE_HOME/kubebot`` or
``~/.cache/kubebot``, else next to the SQLite database when the home directory is not writable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot import __version__
from bot.index import ARRAY_FIELDS, Index, IndexSettings
from bot.knowledge import KnowledgeBase, load_knowledge, source_files
from bot.memory import paused_gc
from bot.models import Entry, LearningPath, Tip
from bot.pacing import pace

log = logging.getLogger("kubebot.cache")

FORMAT = 5
KEEP = 4  # cache files kept per directory (the newest); older ones are stale
_ENGINE = (
    "analysis.py",
    "corpus.py",
    "index.py",
    "kbcache.py",
    "knowledge.py",
    "matching.py",
    "memory.py",
    "models.py",
    "semantic.py",
    "text.py",
    "data/semantic.npz",
)


def default_dirs(env: Mapping[str, str] | None = None, db_url: str | None = None) -> tuple[Path, ...]:
    """Where to keep the cache, most preferred first (empty: caching is off)."""
    env = os.environ if env is None else env
    chosen = env.get("KUBEBOT_INDEX_CACHE", "").strip()
    if chosen.lower() in ("off", "none", "0", "false", "no"):
        return ()
    if chosen:
        return (Path(chosen).expanduser(),)
    base = env.get("XDG_CACHE_HOME", "").strip()
    home = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".cache"
    dirs = [home / "kubebot"]
    db_url = db_url or env.get("KUBEBOT_DB", "").strip() or None
    if not db_url or db_url.startswith("sqlite:") or "://" not in db_url:
        from bot.store.base import sqlite_path

        dirs.append(sqlite_path(db_url, env).parent / "index-cache")
    return tuple(dirs)


def cache_key(kb_dir: Path, settings: IndexSettings) -> str:
    """A hash of the knowledge base's files (path and content), the engine and the settings."""
    h = hashlib.sha256()
    h.update(f"kubebot {__version__} format {FORMAT} {settings!r} {Path(kb_dir).absolute()}\n".encode())
    engine = Path(__file__).resolve().parent
    for name in _ENGINE:
        h.update(name.encode() + b"\0" + (engine / name).read_bytes() + b"\0")
    for file in source_files(Path(kb_dir)):
        data = file.read_bytes()
        where = file.relative_to(kb_dir) if file.is_relative_to(kb_dir) else file.resolve()
        h.update(f"{where}\0{len(data)}\0".encode() + data)
    return h.hexdigest()


def load_indexed(
    kb_dir: Path,
    settings: IndexSettings,
    build: Callable[[KnowledgeBase], Index],
    dirs: tuple[Path, ...],
) -> tuple[KnowledgeBase, Index]:
    """The knowledge base in ``kb_dir`` and its index: from the cache when it holds this exact
    content, else loaded (raising `KnowledgeError`), indexed by ``build(kb)`` and cached."""
    key = cache_key(kb_dir, settings) if dirs else ""
    for folder in dirs:
        path = folder / f"index-{key[:40]}.npz"
        if path.is_file():
            try:
                return read(path, key)
            except Exception as exc:  # anything wrong with the file: rebuild, say so once
                log.warning("event=index_cache_unreadable path=%s error=%r action=rebuild", path, exc)
            break
    kb = load_knowledge(kb_dir)
    index = build(kb)
    for folder in dirs:
        try:
            write(folder / f"index-{key[:40]}.npz", key, kb, index)
            break
        except (OSError, ValueError) as exc:
            log.info("event=index_cache_unwritable dir=%s error=%r", folder, exc)
    return kb, index


def write(path: Path, key: str, kb: KnowledgeBase, index: Index) -> None:
    """Write the cache file atomically (a temporary file renamed into place), then drop old ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    small, texts, numbers, pieces = _kb_to_json(kb)
    meta = {
        "format": FORMAT,
        "key": key,
        "kb": small,
        "pieces": pieces,
        "tokens": index.tokens,
        "words": index.words,
        "ascii": index.ascii,
    }
    arrays = {f"ix_{name}": value for name, value in index.arrays().items()}
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), np.uint8)
    arrays["entry_texts"] = np.frombuffer(texts, np.uint8)
    arrays["entry_numbers"] = numbers
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    for old in sorted(path.parent.glob("index-*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        old.unlink(missing_ok=True)


def read(path: Path, key: str, trim: bool = True) -> tuple[KnowledgeBase, Index]:
    """Read a cache file written by `write` for ``key``; raise on anything unexpected."""
    with paused_gc(trim), np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            raise ValueError("written for another knowledge base or engine")
        arrays = {name: data[f"ix_{name}"] for name in ARRAY_FIELDS}
        texts = data["entry_texts"]
        numbers = data["entry_numbers"]
        index = Index(tokens=meta["tokens"], words=meta["words"], ascii=bool(meta["ascii"]), **arrays)
        kb = _kb_from_json(meta["kb"], texts, numbers, meta["pieces"])
    if len(index.entry_alts) != len(kb.entries) + 1 or len(index.idf) != len(index.tokens):
        raise ValueError("the index does not fit the entries")
    return kb, index


_SEP = "\x00"  # between the strings of all entries (YAML text can hold no NUL in practice)
_CHUNK = 500  # entries per separately decoded piece: a reload reads in steps that yield the GIL
# how each field of `Entry` is stored: text, optional text, a number, texts, or tips
_KINDS = {"str": "S", "str | None": "O", "int": "N", "tuple[str, ...]": "L", "tuple[Tip, ...]": "T"}


def _entry_layout() -> tuple[tuple[str, str], ...]:
    """(field, kind) for every field of `Entry`; ValueError for a field this cache cannot store."""
    layout = []
    for f in dataclasses.fields(Entry):
        kind = _KINDS.get(str(f.type))
        if kind is None:
            raise ValueError(f"Entry.{f.name} ({f.type}) has no cache layout")
        layout.append((f.name, kind))
    return tuple(layout)


def _kb_to_json(kb: KnowledgeBase) -> tuple[dict[str, Any], bytes, npt.NDArray[np.int64], list[int]]:
    """The knowledge base as JSON for the small parts, and for the entries their texts as UTF-8,
    NUL-separated in a fixed order, in pieces of `_CHUNK` entries (with the pieces' byte offsets),
    plus their counts and flags: splitting strings is ten times faster than parsing JSON."""
    layout = _entry_layout()
    pieces: list[bytes] = []
    numbers: list[int] = []
    strings: list[str] = []
    for n, e in enumerate(kb.entries.values(), start=1):
        for name, kind in layout:
            value = getattr(e, name)
            if kind == "S":
                strings.append(value)
            elif kind == "O":
                strings.append(value or "")
                numbers.append(value is not None)
            elif kind == "N":
                numbers.append(value)
            elif kind == "L":
                numbers.append(len(value))
                strings += value
            else:  # tips
                numbers.append(len(value))
                numbers += [t.command is not None for t in value]
                strings += [part for t in value for part in (t.text, t.command or "")]
        if n % _CHUNK == 0 or n == len(kb.entries):
            if any(_SEP in text for text in strings):
                raise ValueError("an entry holds a NUL character")
            pieces.append(_SEP.join(strings).encode("utf-8"))
            strings = []
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece))
    small = {
        "root": str(kb.root),
        "synonyms": kb.synonyms,
        "paths": [[p.id, p.title, list(p.steps)] for p in kb.paths.values()],
        "domain": list(kb.domain),
        "specific": list(kb.specific),
        "platforms": [[name, list(words)] for name, words in kb.platforms],
        "versions": kb.versions,
        "entries": len(kb.entries),
    }
    return small, b"".join(pieces), np.asarray(numbers, np.int64), offsets


def _kb_from_json(
    small: dict[str, Any], texts: npt.NDArray[np.uint8], numbers: npt.NDArray[np.int64], pieces: list[int]
) -> KnowledgeBase:
    layout = _entry_layout()
    counts = numbers.tolist()
    entries: dict[str, Entry] = {}
    strings: list[str] = []
    s = c = 0
    for n in range(small["entries"]):
        pace()  # a hot reload reads this on a background thread: leave the event loop its turns
        if n % _CHUNK == 0:
            if s != len(strings):
                raise ValueError("the entries do not add up")
            piece = n // _CHUNK
            strings = texts[pieces[piece] : pieces[piece + 1]].tobytes().decode("utf-8").split(_SEP)
            s = 0
        values: dict[str, Any] = {}
        for name, kind in layout:
            if kind == "S":
                values[name] = strings[s]
                s += 1
            elif kind == "O":
                values[name] = strings[s] if counts[c] else None
                s += 1
                c += 1
            elif kind == "N":
                values[name] = counts[c]
                c += 1
            elif kind == "L":
                size = counts[c]
                values[name] = tuple(strings[s : s + size])
                s += size
                c += 1
            else:  # tips
                size = counts[c]
                commands = counts[c + 1 : c + 1 + size]
                c += 1 + size
                parts = strings[s : s + 2 * size]
                s += 2 * size
                values[name] = tuple(
                    Tip(parts[2 * i], parts[2 * i + 1] if commands[i] else None) for i in range(size)
                )
        entry = Entry(**values)
        entries[entry.id] = entry
    if s != len(strings) or c != len(counts):
        raise ValueError("the entries do not add up")
    return KnowledgeBase(
        root=Path(small["root"]),
        entries=entries,
        synonyms=dict(small["synonyms"]),
        paths={p[0]: LearningPath(p[0], p[1], tuple(p[2])) for p in small["paths"]},
        domain=tuple(small["domain"]),
        specific=tuple(small["specific"]),
        platforms=tuple((str(name), tuple(words)) for name, words in small.get("platforms", ())),
        versions=dict(small["versions"]),
    )
