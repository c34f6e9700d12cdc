"""Count the API server's requests: by client from the audit log, for all clients from its metrics.

``apiserver_request_total`` counts every client's requests by verb but cannot say who
made them; the audit log (the local control plane writes one when started with
``audit=True``) names the user, so an operator's own requests are told apart from
the node agent's, kube-scheduler's and kube-controller-manager's.  Leader-election
Lease traffic is counted on its own line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

LINE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")
# The metric's HTTP verbs, under the names the audit log uses.
METRIC_VERBS = {"post": "create", "put": "update", "apply": "patch"}
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READS = frozenset({"get", "list"})


def parse_metrics(text: str) -> Counter[str]:
    """Verb -> requests of all clients so far, from a ``/metrics`` scrape."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
            verb = labels.get("verb", "").lower()
            counts[METRIC_VERBS.get(verb, verb)] += int(float(match["value"]))
    return counts


def writes(verbs: Counter[str]) -> int:
    """How many of ``verbs``' requests changed something."""
    return sum(n for verb, n in verbs.items() if verb in WRITES)


def reads(verbs: Counter[str]) -> int:
    """How many of ``verbs``' requests were GETs or LISTs (watches apart)."""
    return sum(n for verb, n in verbs.items() if verb in READS)


class AuditLog:
    """Read an audit log incrementally: each :meth:`since_last` counts what was logged since the last."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def skip(self) -> None:
        """Forget everything logged so far."""
        self.since_last(lambda _user: "")

    def since_last(self, classify: Callable[[str], str]) -> dict[str, Counter[str]]:
        """Who -> verb -> completed requests since the last call; ``classify`` names who a user is.

        A user classified as ``""`` is not counted; Lease requests are counted under
        ``"<who> lease"``.
        """
        out: dict[str, Counter[str]] = {}
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        # A record being written has no newline yet: leave it for the next call.
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for raw in complete.splitlines():
            record = json.loads(raw)
            if record.get("stage") != "ResponseComplete":
                continue
            who = classify(record.get("user", {}).get("username", ""))
            if not who:
                continue
            if (record.get("objectRef") or {}).get("resource") == "leases":
                who += " lease"
            out.setdefault(who, Counter())[record.get("verb", "")] += 1
        return out
