"""The digest keeps what identifies a problem in a pasted post and drops the boilerplate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.paste import _ERROR_WORDS, _SCRUB, digest, has_error_words, scrub
from bot.text import clean_input

DESCRIBE = """\
my pod keeps restarting, any idea?
Name:         web-7d9f8b6c5-x2k4z
Namespace:    shop
Priority:     0
Node:         worker-2/10.0.3.17
Start Time:   Tue, 02 Jan 2024 15:04:05 +0000
Labels:       app=web
              pod-template-hash=7d9f8b6c5
Status:       Running
IP:           10.244.1.9
Controlled By:  ReplicaSet/web-7d9f8b6c5
Containers:
  web:
    Container ID:   containerd://4f9a1c2b3d4e5f60718293a4b5c6d7e8f9012345678
    Image:          registry.example.com/web:1.4.2
    Image ID:       registry.example.com/web@sha256:5528e8b1b1719d34604c87e11dcd1c0a20bedf46e83b5632
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
    Ready:          False
    Restart Count:  7
QoS Class:       Burstable
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                 From     Message
  ----     ------     ----                ----     -------
  Normal   Scheduled  12m                 default-scheduler  Successfully assigned shop/web-7d9f8b6c5-x2k4z to worker-2
  Normal   Pulled     3m (x7 over 12m)    kubelet  Container image "registry.example.com/web:1.4.2" already present
  Warning  BackOff    1m (x30 over 11m)   kubelet  Back-off restarting failed container web in pod web-7d9f8b6c5-x2k4z
"""


def test_a_short_question_passes_through() -> None:
    d = digest("what is a pod?")
    assert (d.text, d.lines, d.output_lines, d.pasted) == ("what is a pod?", 1, 0, False)


def test_describe_output_keeps_reasons_exit_codes_and_warnings() -> None:
    d = digest(clean_input(DESCRIBE))
    kept = d.text.splitlines()
    assert kept[0] == "my pod keeps restarting, any idea?"
    assert {"Reason: CrashLoopBackOff", "Reason: OOMKilled", "Exit Code: 137"} <= set(kept)
    assert any("Back-off restarting failed container web in pod web" in line for line in kept)
    assert d.pasted and d.output_lines > 20


def test_describe_boilerplate_does_not_reach_the_matcher() -> None:
    text = digest(clean_input(DESCRIBE)).text
    noise = ("Namespace", "Tolerations", "QoS", "Node-Selectors", "Restart Count", "Scheduled", "sha256")
    noise += ("10.244.1.9", "x2k4z", "Image ID", "Labels", "already present")
    for word in noise:
        assert word not in text, word


def test_manifest_keys_every_yaml_has_are_dropped_but_errors_kept() -> None:
    paste = """\
why does apply fail?
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: api
        image: api:1
```
error: error validating "api.yaml": error validating data: ValidationError(Deployment.spec): missing required field "selector"
"""
    text = digest(clean_input(paste)).text
    assert text.startswith("why does apply fail?")
    assert 'missing required field "selector"' in text
    for key in ("apiVersion", "metadata", "replicas", "containers", "image: api"):
        assert key not in text, key


def test_log_lines_keep_errors_and_lose_timestamps() -> None:
    paste = """\
api won't start
2024-01-02T15:04:05.123Z INFO starting server on :8080
2024-01-02T15:04:05.456Z INFO loading config from /etc/app/config.yaml
2024-01-02T15:04:06.001Z ERROR dial tcp 10.96.0.12:5432: connect: connection refused
"""
    kept = digest(clean_input(paste)).text.splitlines()
    assert kept == ["api won't start", "ERROR dial tcp 10.96.0.12:5432: connect: connection refused"]


def test_scrub_removes_volatile_parts() -> None:
    assert scrub("pod web-7d9f8b6c5-x2k4z on 2024-01-02T15:04:05Z") == "pod web on"
    assert scrub("job-29061234-bcdfg failed") == "job failed"
    assert "4f9a1c2b3d4e" not in scrub("container 4f9a1c2b3d4e5f60718293a4b5c6 died")


def test_a_megabyte_paste_is_digested_to_a_bounded_text() -> None:
    noise = "2024-01-02T15:04:05Z INFO all good\n" * 40_000
    paste = "pods evicted\n" + noise + "Warning Evicted The node was low on resource: memory\n"
    d = digest(clean_input(paste))
    assert d.text.startswith("pods evicted")
    assert "low on resource: memory" in d.text
    assert len(d.text) < 4_000


# -- the fast paths give what the plain regexes give ------------------------------------------------
_PIECES = [
    "error",
    "Err",
    "ERR:",
    "failed",
    "timed  out",
    "timed\tout",
    "couldn't",
    "could not",
    "not found",
    "no such",
    "BackOff",
    "back-off",
    "backoff",
    "OOMKilled",
    "oom",
    "boom",
    "eof",
    "EOF.",
    "exit code",
    "Unauthorised",
    "unauthorized",
    "x509",
    "noSpace",
    "no space",
    "Reset by peer",
    "ſ",
    "K",
    "İ",
    "é",
    "2024-01-02T15:04:05Z",
    "E0102 15:04:05.123 1 main.go:12]",
    "15:04:05",
    "sha256:0123456789abcdef",
    "123e4567-e89b-12d3-a456-426614174000",
    "web-7d9f8b6c5-x2k4z",
    "job-29061234-abcde",
    "api-x2k4z",
    "5m",
    "12s (x3 over 5m)",
    "(x4 over 1h)",
    "  ",
    "\t",
    "\x1f",
    "deadbeefcafe",
    "1.5ms",
    "-",
    ":",
    "]",
    "(x",
    "pod",
    "ok",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=5)), max_size=10))
def test_fast_error_words_and_scrub_match_the_regexes(parts: list[str]) -> None:
    line = " ".join(parts)
    assert has_error_words(line) == bool(_ERROR_WORDS.search(line))
    plain = line
    for pattern, replacement in _SCRUB:
        plain = pattern.sub(replacement, plain)
    assert scrub(line) == plain.strip()
