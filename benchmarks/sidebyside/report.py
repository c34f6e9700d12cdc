"""Turn the samples of a side-by-side run into the Markdown table of BENCHMARKS.md (pure).

Each figure is the median over rounds, with the range beside it; the ratio is
ours ÷ upstream; the floor column gives the same work done with no operator; the
goal column records the targets the operator work aims at, and whether this run
met them.  Nothing here is asserted by a test: a test only checks that every
figure was produced.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Samples = dict[str, dict[str, list[float]]]  # side -> figure -> one value per round

OURS, UPSTREAM, FLOOR = "ours", "upstream", "floor"
# Figures counted over a round (summed), shown as a total "k of n" over all rounds.
STUCK, CHECKED = "status_stuck", "status_checked"
COUNTED = frozenset({STUCK, CHECKED})
BEGIN = "<!-- operator-vs-upstream:begin (written by benchmarks/operator_vs_upstream.py) -->"
END = "<!-- operator-vs-upstream:end -->"


# A goal: how it reads in the table, and whether (ours, upstream's, the floor's figures) meet it.
Goal = tuple[str, Callable[[float, float | None, dict[str, float]], bool | None]]


@dataclass(frozen=True)
class Figure:
    """One row: a measured figure, how to show it, its floor and its goal."""

    key: str
    label: str
    unit: str
    floor: Callable[[dict[str, float], dict[str, Any]], str] | None = None
    goal: Goal | None = None
    once: bool = False  # measured in the last round only


def _api_floor(objects: Callable[[dict[str, Any]], int]) -> Callable[[dict[str, float], dict[str, Any]], str]:
    def show(floor: dict[str, float], meta: dict[str, Any]) -> str:
        latency = floor.get("create_concurrent_ms")
        if latency is None:
            return "—"
        n = objects(meta)
        return f"API: {latency * n / meta['concurrency'] / 1000:.2f} s ({n} creates)"

    return show


def _by_hand(
    key: str, extra: Callable[[dict[str, float], dict[str, Any]], str] | None = None
) -> Callable[[dict[str, float], dict[str, Any]], str]:
    def show(floor: dict[str, float], meta: dict[str, Any]) -> str:
        value = floor.get(key)
        text = "—" if value is None else f"{value:.1f} s by hand"
        return f"{text}; {extra(floor, meta)}" if extra else text

    return show


def _ratio_at_most(limit: float) -> Goal:
    """At most ``limit`` times upstream's figure."""
    return (
        f"≤ {limit:g}× upstream",
        lambda ours, theirs, _floor: None if not theirs else ours / theirs <= limit,
    )


def _floor_within(key: str, limit: float) -> Goal:
    """At most ``limit`` times the floor's ``key``."""
    return (
        f"≤ {limit:g}× floor",
        lambda ours, _theirs, floor: None if not floor.get(key) else ours / floor[key] <= limit,
    )


ZERO: Goal = ("0", lambda ours, _theirs, _floor: ours == 0)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "up_s",
        "`kubectl apply` → 3 workers connected",
        "s",
        _by_hand("startup_s", _api_floor(lambda _m: 5)),
        goal=_floor_within("startup_s", 1.2),
    ),
    Figure(
        "ready_s",
        "`kubectl apply` → 3 workers connected and the status says up",
        "s",
        _by_hand("startup_s"),
    ),
    Figure(STUCK, "clusters whose status never said up while their Pods ran", "clusters", goal=ZERO),
    Figure(
        "exist_s",
        "scale 0 → {workers}: all Pods exist",
        "s",
        _by_hand("hand_exist_s", _api_floor(lambda m: int(m["workers"]))),
    ),
    Figure(
        "running_s",
        "scale 0 → {workers}: all Pods Running",
        "s",
        _by_hand("hand_running_s"),
        goal=_ratio_at_most(0.3),
    ),
    Figure("connected_s", "scale 0 → {workers}: all workers connected", "s", _by_hand("hand_connected_s")),
    Figure("delete_s", "delete → all {workers} worker Pods gone", "s", _by_hand("hand_delete_s")),
    Figure("operator_requests", "lifecycle: the operator's own requests", "requests"),
    Figure("operator_writes", "lifecycle: the operator's own writes", "writes"),
    Figure("lease_requests", "lifecycle: the operator's Lease requests", "requests"),
    Figure("all_writes", "lifecycle: all clients' writes", "writes", goal=_ratio_at_most(0.5)),
    Figure("all_requests", "lifecycle: all clients' requests", "requests"),
    Figure("idle_operator_per_min", "idle, {clusters} Ready clusters: operator requests", "/min", goal=ZERO),
    Figure("idle_lease_per_min", "idle, {clusters} Ready clusters: Lease requests", "/min"),
    Figure("idle_all_per_min", "idle, {clusters} Ready clusters: all clients' requests", "/min"),
    Figure("rss_0_mb", "operator RSS, 0 clusters", "MB"),
    Figure("rss_idle_mb", "operator RSS, {clusters} clusters", "MB"),
    Figure(
        "rss_many_mb",
        "operator RSS, {many} clusters",
        "MB",
        goal=_ratio_at_most(0.7),
        once=True,
    ),
)
FLOOR_KEYS = (
    "startup_s",
    "hand_exist_s",
    "hand_running_s",
    "hand_connected_s",
    "hand_delete_s",
    "create_ms",
    "create_concurrent_ms",
)


def medians(samples: Samples) -> dict[str, dict[str, float]]:
    """The median of every figure of every side."""
    return {side: {k: statistics.median(v) for k, v in figs.items() if v} for side, figs in samples.items()}


def missing(samples: Samples, sides: list[str]) -> list[str]:
    """``side:figure`` for every figure a run should have produced and did not."""
    expected = {side: [f.key for f in FIGURES] + [CHECKED] for side in sides if side != FLOOR}
    if FLOOR in sides:
        expected[FLOOR] = list(FLOOR_KEYS)
    return [
        f"{side}:{key}"
        for side, keys in expected.items()
        for key in keys
        if not samples.get(side, {}).get(key)
    ]


def _cell(values: list[float] | None, unit: str, checked: list[float] | None = None) -> str:
    if not values:
        return "—"
    if checked is not None:
        return f"{sum(values):.0f} of {sum(checked):.0f}"
    digits = 1 if unit in {"s", "MB", "/min"} else 0
    median = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table(samples: Samples, meta: dict[str, Any]) -> str:
    """The Markdown table: one row per figure, ours and upstream side by side."""
    med = medians(samples)
    floor = med.get(FLOOR, {})
    head = "| measure | unit | ours | upstream | ours ÷ upstream | floor (no operator) | goal | met |"
    rows = [head, "|---|---|---:|---:|---:|---|---|---|"]
    labels = {k: meta.get(k, "?") for k in ("workers", "clusters", "many")}
    for fig in FIGURES:
        ours = med.get(OURS, {}).get(fig.key)
        theirs = med.get(UPSTREAM, {}).get(fig.key)
        if fig.key in COUNTED:  # a total over the rounds, not a median
            ours = sum(samples.get(OURS, {}).get(fig.key) or []) if ours is not None else None
        ratio = f"{ours / theirs:.2f}×" if ours is not None and theirs and fig.key != STUCK else "—"
        goal, met = "—", ""
        if fig.goal:
            goal = fig.goal[0]
            verdict = None if ours is None else fig.goal[1](ours, theirs, floor)
            met = {True: "yes", False: "no", None: "—"}[verdict]
        cells = [
            fig.label.format(**labels),
            fig.unit,
            *(
                _cell(
                    samples.get(side, {}).get(fig.key),
                    fig.unit,
                    samples.get(side, {}).get(CHECKED) if fig.key == STUCK else None,
                )
                for side in (OURS, UPSTREAM)
            ),
            ratio,
            fig.floor(floor, meta) if fig.floor else "—",
            goal,
            met,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def section(samples: Samples, meta: dict[str, Any]) -> str:
    """The whole generated section of BENCHMARKS.md: how it was run, then the table."""
    load = ", ".join(f"{x:.2f}" for x in meta["load"])
    lines = [
        BEGIN,
        f"Measured {meta['date']} on {meta['machine']}; load average at the start {load} (1, 5, 15 min).",
        "",
        f"Command: `{meta['command']}` ({meta['rounds']} round(s), sides interleaved and alternating "
        f"first; {meta['duration_min']:.0f} min in all).",
        "",
        f"Upstream: dask-kubernetes {meta['upstream_version']} from PyPI, its chart and RBAC, "
        f"{meta['upstream_replicas']} replica(s). Ours: this commit ({meta['commit']}), the chart's "
        f"defaults with the webhook off, {meta['ours_replicas']} replica(s) with leader election. "
        f"Floor: the same Pods created by hand, {meta['concurrency']} parallel clients; API create "
        f"latency {meta.get('create_ms', 0):.1f} ms alone, {meta.get('create_concurrent_ms', 0):.1f} ms "
        f"under {meta['concurrency']} clients.",
        "",
        "Medians over the rounds, (min–max) beside them.",
        "",
        table(samples, meta),
        "",
        *([f"Not produced: {', '.join(meta['missing'])}.", ""] if meta.get("missing") else []),
        *(
            ["Failed measurements (their figures are missing from the medians):", ""]
            if meta.get("errors")
            else []
        ),
        *(f"- {error}" for error in meta.get("errors") or []),
        *([""] if meta.get("errors") else []),
        END,
    ]
    return "\n".join(lines)


def _errors(errors: list[str]) -> list[str]:
    """Lines naming each failed measurement, whose figures are then missing from the medians."""
    if not errors:
        return []
    return [
        "Failed measurements (their figures are missing from the medians):",
        "",
        *(f"- {e}" for e in errors),
        "",
    ]


def splice(document: str, generated: str, heading: str) -> str:
    """Put ``generated`` between the markers of ``document``, or append it under ``heading``."""
    if BEGIN in document and END in document:
        before = document[: document.index(BEGIN)]
        after = document[document.index(END) + len(END) :]
        return before + generated + after
    return document.rstrip("\n") + f"\n\n{heading}\n\n{generated}\n"
