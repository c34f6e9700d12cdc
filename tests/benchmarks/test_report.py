"""The side-by-side benchmark's report and options: pure, no cluster."""

from __future__ import annotations

import pytest

from benchmarks.sidebyside import report
from benchmarks.sidebyside.run import parse

META = {
    "date": "2026-11-30",
    "machine": "x86_64, 2 CPUs",
    "load": [1.0, 2.0, 3.0],
    "command": "python benchmarks/operator_vs_upstream.py",
    "rounds": 2,
    "workers": 100,
    "clusters": 20,
    "many": 100,
    "concurrency": 8,
    "upstream_version": "2026.3.0",
    "upstream_replicas": 1,
    "ours_replicas": 2,
    "commit": "abc1234",
    "duration_min": 60.0,
    "create_ms": 10.0,
    "create_concurrent_ms": 40.0,
}


def full(value: float) -> report.Samples:
    samples: report.Samples = {
        side: {f.key: [value, value * 2] for f in report.FIGURES} for side in (report.OURS, report.UPSTREAM)
    }
    for side in (report.OURS, report.UPSTREAM):
        samples[side][report.STUCK] = [0.0, 0.0]
        samples[side][report.CHECKED] = [30.0, 30.0]
    samples[report.FLOOR] = {k: [1.0, 1.0] for k in report.FLOOR_KEYS}
    return samples


def test_a_complete_run_misses_nothing():
    sides = [report.FLOOR, report.OURS, report.UPSTREAM]
    assert report.missing(full(1.0), sides) == []


def test_a_zero_is_a_figure_but_an_absent_one_is_missing():
    samples = full(0.0)
    del samples[report.OURS]["ready_s"]
    samples[report.FLOOR]["startup_s"] = []
    assert report.missing(samples, [report.FLOOR, report.OURS]) == ["ours:ready_s", "floor:startup_s"]


def test_the_table_has_a_row_per_figure_with_the_ratio_and_the_range():
    samples = full(2.0)
    samples[report.UPSTREAM]["running_s"] = [10.0, 10.0]
    samples[report.OURS]["running_s"] = [2.0, 4.0]
    text = report.table(samples, META)
    rows = text.splitlines()[2:]
    assert len(rows) == len(report.FIGURES)
    running = next(r for r in rows if "all Pods Running" in r)
    assert "| 3.0 (2.0–4.0) | 10.0 | 0.30× |" in running
    assert "≤ 0.3× upstream | yes |" in running
    assert "scale 0 → 100" in running  # the label names the size measured


def test_a_goal_missed_reads_no_and_an_unknown_one_a_dash():
    samples = full(1.0)
    samples[report.OURS]["idle_operator_per_min"] = [3.0]
    del samples[report.UPSTREAM]
    rows = report.table(samples, META).splitlines()
    idle = next(r for r in rows if "operator requests" in r)
    writes = next(r for r in rows if "all clients' writes" in r)
    assert idle.endswith("| 0 | no |")
    assert writes.endswith("| ≤ 0.5× upstream | — |")  # no upstream figure to compare with


def test_stuck_statuses_are_a_total_over_the_rounds():
    samples = full(1.0)
    samples[report.UPSTREAM][report.STUCK] = [0.0, 3.0, 0.0]  # the median would hide it
    samples[report.UPSTREAM][report.CHECKED] = [30.0, 30.0, 30.0]
    row = next(r for r in report.table(samples, META).splitlines() if "never said up" in r)
    assert "| 0 of 60 | 3 of 90 | — |" in row
    assert row.endswith("| 0 | yes |")
    samples[report.OURS][report.STUCK] = [0.0, 1.0]
    row = next(r for r in report.table(samples, META).splitlines() if "never said up" in r)
    assert row.endswith("| 0 | no |")


def test_the_api_floor_is_latency_times_objects_over_concurrency():
    samples = full(1.0)
    samples[report.FLOOR]["create_concurrent_ms"] = [30.0, 50.0]
    rows = report.table(samples, META).splitlines()
    exist = next(r for r in rows if "all Pods exist" in r)
    assert "API: 0.50 s (100 creates)" in exist  # 40 ms × 100 ÷ 8


def test_splice_replaces_only_the_generated_section():
    first = report.section(full(1.0), META)
    document = report.splice("# Benchmarks\n\nintro\n", first, "## Side by side")
    assert document.startswith("# Benchmarks\n\nintro\n\n## Side by side\n\n" + report.BEGIN)
    second = report.section(full(5.0), META)
    again = report.splice(document + "\nafter\n", second, "## Side by side")
    assert again.count(report.BEGIN) == 1 and again.endswith("\nafter\n")
    assert first not in again and second in again


def test_quick_is_one_small_round_of_ours_that_leaves_benchmarks_md_alone():
    opts = parse(["--quick"])
    assert (opts.rounds, opts.workers, opts.ours_only, opts.write) == (1, 20, True, False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "--rounds must be at least 1"),
        (["--idle-window", "-1"], "--idle-window must be positive"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_failed_measurements_are_named_in_the_section():
    meta = {**META, "errors": ["floor, round 2: by hand: timed out after 1200 s waiting for workers"]}
    text = report.section(full(1.0), meta)
    assert "Failed measurements" in text
    assert "- floor, round 2: by hand: timed out" in text
    assert "Failed measurements" not in report.section(full(1.0), META)
