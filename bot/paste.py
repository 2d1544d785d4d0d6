"""What a pasted post is about: its title, its prose, and the output lines that name the problem.

People paste whole posts into chat: a title, a few sentences, then `kubectl describe` output,
logs, YAML or a stack trace. Most of that text is boilerplate that every such paste shares
(field names, timestamps, hashes, IPs, pod-name suffixes, the keys every manifest has) and it
would decide the match if it were read like a question. The digest keeps what identifies the
problem: the title and prose, plus the output lines that carry a reason word (CrashLoopBackOff,
FailedScheduling), an exit code, or an error phrase, scrubbed of the volatile parts.

A short one-line question passes through untouched.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_PROSE_LINES = 8
MAX_PROSE_CHARS = 900
MAX_SIGNAL_LINES = 10
MAX_LINE_CHARS = 240

# -- what a line of pasted output looks like -------------------------------------------------------
_FENCE = re.compile(r"^\s*(```|~~~)")
_LOG_START = re.compile(
    r"""^\s*(?:
        \[?\d{4}[-/]\d{2}[-/]\d{2}[T\s_]\d{1,2}:\d{2}     # 2024-01-02T15:04 / 2024/01/02 15:04
      | [IWEF]\d{4}\s+\d{2}:\d{2}:\d{2}                 # klog: E0102 15:04:05.123
      | [A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}       # syslog: Jan  2 15:04:05
      | \d{2}:\d{2}:\d{2}                               # 15:04:05
      | (?:time|level|ts|msg)=                          # logfmt
      | \{\s*"                                          # a JSON log line
      | at\s+[\w$.<>]+\s*\(                             # JS/Java stack frame
      | File\s+"[^"]+",\s+line\s+\d+                   # Python stack frame
      | goroutine\s+\d+                                 # Go panic
      | Traceback\s                                     # Python traceback
      | [$#>]\s                                         # a shell prompt
      | (?:Normal|Warning)\s{2,}                        # an event row of kubectl describe
      | --- | =+\s*$ | -+\s*$                            # rulers
    )""",
    re.VERBOSE,
)
_KEY_VALUE = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z][\w .-]{0,40}?):(?:\s+(.*)|\s*)$")
_TABLE = re.compile(r"\S\s{2,}\S.*\S\s{2,}\S")  # columns separated by runs of spaces
_HEADER = re.compile(r"^\s*(?:[A-Z][A-Z-]+(?:\s{2,}|\s*$)){2,}")  # NAME  READY  STATUS ...
_PROMPT = re.compile(r"^\s*(?:[$#>]|PS [^>]*>)\s+")

# -- what in an output line says what is wrong ------------------------------------------------------
_ERROR_WORDS = re.compile(
    r"""error|\berr\b|fail|refused|denied|forbidden|unauthori[sz]ed|timeout|timed\s+out|deadline
      |unable|cannot|can't|could\s+not|couldn't|invalid|not\s+found|no\s+such|exceeded|killed|\boom
      |panic|exception|fatal|x509|certificate|warning|back-?off|crash|evict|insufficient|unschedulable
      |taint|mismatch|exec\s+format|no\s+space|too\s+many|conflict|already|rejected|unreachable
      |reset\s+by\s+peer|broken\s+pipe|\beof\b|handshake|expired|deprecated|no\s+matches|not\s+ready
      |exit\s+code|exited|terminated|pending|unhealthy|not\s+allowed|missing|unknown""",
    re.VERBOSE | re.IGNORECASE,
)
_CAMEL = re.compile(
    r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+\b|\b[A-Z]{2,}[a-z]+[A-Za-z]*\b"
)  # CrashLoopBackOff, OOMKilled
_BORING_CAMEL = frozenset(
    "Running Completed Succeeded Scheduled Pulled Pulling Created Started SuccessfulCreate "
    "ScalingReplicaSet SuccessfulDelete Killing NodeReady RegisteredNode Starting ContainerStarted "
    "PodScheduled ContainersReady Initialized BestEffort Burstable Guaranteed ClusterIP".split()
)
# describe/manifest fields whose NAME says nothing about the problem (their value may)
_BORING_KEYS = frozenset(
    k.strip()
    for k in """
    name, namespace, priority, priority class name, service account, node, start time, labels, annotations,
    status, ip, ips, controlled by, containers, container id, image, image id, port, ports, host port,
    host ports, command, args, ready, restart count, environment, mounts, conditions, type, volumes,
    claimname, qos class, node-selectors, tolerations, events, apiversion, kind, metadata, spec, selector,
    matchlabels, template, replicas, app, uid, resourceversion, creationtimestamp, generation,
    containerport, protocol, targetport, nodeport, clusterip, clusterips, ipfamilies, ipfamilypolicy,
    sessionaffinity, revisionhistorylimit, strategy, rollingupdate, maxsurge, maxunavailable,
    imagepullpolicy, terminationmessagepath, terminationmessagepolicy, dnspolicy, restartpolicy,
    schedulername, securitycontext, terminationgraceperiodseconds, managedfields, manager, operation,
    time, fieldstype, fieldsv1, ownerreferences, blockownerdeletion, controller, podip, podips, hostip,
    hostips, qosclass, starttime, phase, lasttransitiontime, lastprobetime, started, finished, signal,
    optional, secretname, defaultmode, items, key, path, tokenexpirationseconds, configmapname,
    downwardapi, fieldref, fieldpath, projected, sources, serviceaccountname, serviceaccount, nodename,
    volumemounts, mountpath, readonly, created, creation timestamp, selector, hostname, value, env,
    resources, limits, requests, cpu, memory, args, workingdir, role, age, version, kernel version,
    os image, container runtime version, kubelet version, kube-proxy version, addresses, capacity,
    allocatable, system info, machine id, system uuid, boot id, architecture, operating system, pod cidr,
    pod cidrs, providerid, non-terminated pods, allocated resources, endpoints, session affinity,
    external traffic policy, target port, port, load balancer ingress, replicas, strategytype,
    minreadyseconds, rollingupdatestrategy, pod template, oldreplicasets, newreplicaset, mode, size,
    medium, sizelimit, secret, configmap, emptydir, hostpath, type, storageclass, capacity, access modes,
    volumemode, finalizers, used by, requests, limits, liveness, readiness, startup
    """.replace("\n", " ").split(",")
)
# keys whose value is the signal: keep "Reason: OOMKilled" and "Exit Code: 137" whole
_SIGNAL_KEYS = frozenset({"reason", "exit code", "state", "last state", "message", "status", "error"})

# -- what to scrub from a kept line -------------------------------------------------------------------
_SCRUB = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"), " "),
    (re.compile(r"\b[IWEF]\d{4}\s+\d{2}:\d{2}:\d{2}\.\d+\s+\d+\s+[\w.-]+:\d+\]"), " "),  # klog prefix
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), " "),
    (re.compile(r"\b(?:sha256:)?[0-9a-f]{12,}\b"), " "),  # digests, container ids
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), " "),  # uids
    # pod names: web-7d9f8b6c5-x2k4z -> web; job-29061234-abcde -> job
    (
        re.compile(
            r"\b([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-(?:[a-z0-9]{8,10}|\d{8})-[bcdfghjklmnpqrstvwxz2456789]{5}\b"
        ),
        r"\1",
    ),
    (re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-[bcdfghjklmnpqrstvwxz2456789]{5}\b"), r"\1"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|m|h|d)\b(?:\s*\(x\d+\s+over\s+\d+\w+\))?"), " "),  # ages
    (re.compile(r"\(x\d+ over [^)]*\)"), " "),
    (re.compile(r"\s{2,}"), " "),
]


@dataclass(frozen=True, slots=True)
class Digest:
    """What the matcher reads of an input, and the shape of that input (calibration features)."""

    text: str
    lines: int  # non-empty lines of the input
    output_lines: int  # of which looked like pasted output
    chars: int  # length of the input
    title: str = ""  # the first line, when it is prose: a post's title says most about it

    @property
    def pasted(self) -> bool:
        return self.output_lines > 0 or self.lines > 2


def _may_have_space_run(line: str) -> bool:
    """Whether ``line`` could hold two white-space characters in a row (``\\s{2,}``): in printable
    ASCII text only two spaces are."""
    return "  " in line or not (line.isascii() and line.isprintable())


# what each scrub pattern cannot match without, checked first (a pattern's scan costs 1-3 us a
# line, these a fraction of that): a hex run shows as a run of x once every other character is a
# space; a pod-name suffix ends both pod patterns; an age has a digit right before its unit; in
# printable ASCII text the only white space is the space
_HEX = str.maketrans({chr(c): "x" if chr(c) in "0123456789abcdef" else " " for c in range(128)})
_POD_SUFFIX = re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{5}\b")
_AGE_UNIT = re.compile(r"\d[dhms]")
_SCRUB_NEEDS: tuple[Callable[[str], object], ...] = (
    lambda line: "-" in line and ":" in line,
    lambda line: "]" in line,
    lambda line: ":" in line,
    lambda line: "x" * 12 in line.translate(_HEX),
    lambda line: line.count("-") >= 4,
    _POD_SUFFIX.search,
    _POD_SUFFIX.search,
    _AGE_UNIT.search,
    lambda line: "(x" in line,
    _may_have_space_run,
)


def scrub(line: str) -> str:
    for (pattern, replacement), needs in zip(_SCRUB, _SCRUB_NEEDS, strict=True):
        if needs(line):
            line = pattern.sub(replacement, line)
    return line.strip()


def _split_alternative(alternative: str) -> tuple[bool, str, str]:
    """An alternative of `_ERROR_WORDS` as (starts at a word boundary, its leading letters, the
    regex that follows them)."""
    body = alternative.removeprefix(r"\b")
    size = 0
    while size < len(body) and (body[size].isalnum() or body[size] == "'"):
        size += 1
    if size < len(body) and body[size] in "?*+{":
        size -= 1  # the last letter is optional or repeated: it belongs to the rest
    return body != alternative, body[:size].lower(), body[size:]


def _trie_pattern(alternatives: list[tuple[str, str]]) -> str:
    """One regex for (leading letters, rest) pairs, branching letter by letter: Python's regex
    engine tries a long alternation branch by branch at every position, a trie only where the
    text's letter leads somewhere."""
    trie: dict[str, Any] = {}
    for letters, rest in alternatives:
        node = trie
        for ch in letters:
            node = node.setdefault(ch, {})
        node.setdefault("", []).append(rest)

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        branches += [f"(?:{rest})" if rest else "" for rest in node.get("", [])]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie) if trie else "(?!)"


_ERROR_PARTS = [_split_alternative(a.strip()) for a in _ERROR_WORDS.pattern.split("|")]
# the letters every match starts with: a line (or part of one) without any cannot match
_ERROR_LETTERS = (
    re.compile(_trie_pattern([(letters, "") for _bounded, letters, _rest in _ERROR_PARTS]))
    if all(letters for _bounded, letters, _rest in _ERROR_PARTS)
    else None
)
_ERROR_WORDS_ASCII = re.compile(  # for lower-cased ASCII text; the same matches as _ERROR_WORDS
    _trie_pattern([(letters, rest) for bounded, letters, rest in _ERROR_PARTS if not bounded])
    + r"|(?<!\w)"
    + _trie_pattern([(letters, rest) for bounded, letters, rest in _ERROR_PARTS if bounded]),
    re.VERBOSE,
)


def has_error_words(text: str) -> bool:
    """Whether ``_ERROR_WORDS`` matches ``text``; for ASCII text (nearly all of it) through the
    same alternatives arranged as a trie, several times faster."""
    if not text.isascii():  # case folding beyond ASCII is the original regex's business
        return _ERROR_WORDS.search(text) is not None
    return _ERROR_WORDS_ASCII.search(text.lower()) is not None


def _is_output(line: str, in_fence: bool) -> bool:
    if in_fence or line.startswith(("    ", "\t")):
        return True
    if _LOG_START.match(line) or _HEADER.match(line) or (_may_have_space_run(line) and _TABLE.search(line)):
        return True
    kv = _KEY_VALUE.match(line)
    return bool(
        kv and (kv.group(1) or kv.group(2).lower() in _BORING_KEYS or kv.group(2).lower() in _SIGNAL_KEYS)
    )


def _signal(line: str, errors_possible: bool = True) -> str | None:
    """The part of an output line that identifies the problem, or None when it has none
    (``errors_possible`` false: the line is known to hold no error word)."""
    line = _PROMPT.sub("", line).strip()
    if not line or _HEADER.match(line):
        return None
    if line.startswith("Normal ") or line.lstrip().startswith("Normal\t"):
        return None  # events that report things going fine
    kv = _KEY_VALUE.match(line)
    if kv:
        key, value = kv.group(2).lower().strip(), (kv.group(3) or "").strip()
        if key in _SIGNAL_KEYS:
            if not value or value in _BORING_CAMEL or value.lower() in ("running", "true", "false", "<none>"):
                return None
            return scrub(f"{kv.group(2)}: {value}")[:MAX_LINE_CHARS]
        if key in _BORING_KEYS and not (errors_possible and has_error_words(value)):
            return None
    if line.lstrip().startswith(("kubectl ", "docker ", "helm ", "minikube ", "kind ", "crictl ")):
        return scrub(line)[:MAX_LINE_CHARS]  # the command that was run says what was attempted
    camels = [] if line.islower() else [w for w in _CAMEL.findall(line) if w not in _BORING_CAMEL]
    if camels or (errors_possible and has_error_words(line)):
        return scrub(line)[:MAX_LINE_CHARS] or None
    return None


_ASKED_ONE_BY_ONE = 32  # lines looked at one by one before the whole paste is read in one pass


class _ErrorLetters:
    """Which lines of a text could hold an error word (the letters one starts with; a match never
    spans lines): for the first few lines asked about, a search of that line alone; then, for a long
    paste that asks about many, one pass over the whole text for all of them."""

    def __init__(self, text: str, lines: list[str], starts: list[int]) -> None:
        """``lines``: the text's non-empty lines, starting at ``starts`` in it."""
        self._lowered = text.lower() if _ERROR_LETTERS is not None and text.isascii() else None
        self._lines, self._starts = lines, starts
        self._asked = 0
        self._found: set[int] | None = None

    def could(self, number: int) -> bool:
        """Whether line ``number`` could hold an error word (always, when that cannot be told:
        non-ASCII text)."""
        lowered, letters = self._lowered, _ERROR_LETTERS
        if lowered is None or letters is None:
            return True
        if self._found is None:
            self._asked += 1
            if self._asked <= _ASKED_ONE_BY_ONE:
                start = self._starts[number]
                return letters.search(lowered, start, start + len(self._lines[number])) is not None
            self._found = {bisect_right(self._starts, m.start()) - 1 for m in letters.finditer(lowered)}
        return number in self._found


def digest(text: str) -> Digest:
    """The matcher's view of ``text`` (already passed through `clean_input`)."""
    lines: list[str] = []
    starts: list[int] = []
    at = 0
    for line in text.split("\n"):
        if line.strip():
            lines.append(line)
            starts.append(at)
        at += len(line) + 1
    if len(lines) <= 1 and len(text) <= MAX_LINE_CHARS:
        return Digest(text.strip(), len(lines), 0, len(text), text.strip())
    prose: list[str] = []
    prose_chars = 0
    signals: list[str] = []
    seen: set[str] = set()
    output = 0
    in_fence = False
    looks: dict[str, bool] = {}  # logs repeat lines: each distinct one is classified once
    says: dict[str, str | None] = {}
    scrubbed: dict[str, str] = {}
    erring = _ErrorLetters(text, lines, starts)

    def signal(number: int, line: str) -> str | None:
        if line not in says:
            says[line] = _signal(line, erring.could(number))
        return says[line]

    for number, line in enumerate(lines):
        room = MAX_SIGNAL_LINES - len(signals)
        if _FENCE.match(line):
            in_fence = not in_fence
            rest = _FENCE.sub("", line).strip()
            if not rest or rest.isalpha():  # ```yaml
                continue
            line = rest
        if in_fence:
            is_output = True
        elif (is_output := looks.get(line)) is None:  # type: ignore[assignment]
            is_output = looks[line] = _is_output(line, False)
        if is_output:
            output += 1
            if room > 0 and (kept := signal(number, line)) and kept.lower() not in seen:
                seen.add(kept.lower())
                signals.append(kept)
        elif len(prose) < MAX_PROSE_LINES and prose_chars < MAX_PROSE_CHARS:
            kept = scrubbed[line] = scrub(line)
            kept = kept[: MAX_PROSE_CHARS - prose_chars]
            if kept:
                prose.append(kept)
                prose_chars += len(kept)
        elif room > 0 and (kept := signal(number, line)) and kept.lower() not in seen:
            seen.add(kept.lower())  # prose beyond the cap still contributes its error lines
            signals.append(kept)
    title = prose[0] if prose and (scrubbed.get(lines[0]) or scrub(lines[0])) == prose[0] else ""
    return Digest("\n".join(prose + signals), len(lines), output, len(text), title)
