"""The benchmark's parts: its raw Kafka baselines against the real broker, its percentiles, the
committed results re-rendered to exactly the docs' table, and its CLI errors. (A full `make
bench` takes half an hour: it is measured, not run in the suite.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench import ablation, baselines, flame, probes, report, runs
from streamlab import lessons
from streamlab.apps import demo

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "benchmark"


def test_percentiles_are_nearest_rank_values_of_the_samples():
    samples = list(range(1000, 0, -1))  # unordered on purpose
    assert runs.percentiles(samples) == {"p50_ms": 500, "p99_ms": 990, "p999_ms": 999, "max_ms": 1000}
    assert runs.percentiles([7.0]) == {"p50_ms": 7, "p99_ms": 7, "p999_ms": 7, "max_ms": 7}
    assert runs.percentiles([])["p50_ms"] is None


@pytest.mark.platform
def test_kafka_perf_tools_measure_the_real_broker(platform):
    produced = baselines.perf_produce(platform, 3000, 300)
    assert produced.records == 3000 and produced.per_s > 0
    assert set(produced.percentiles_ms) == {"p50", "p95", "p99", "p99.9"}
    consumed = baselines.perf_consume(platform, baselines.PERF_TOPIC, 3000)
    assert consumed.records == 3000 and consumed.per_s > 0


@pytest.mark.platform
def test_raw_consume_reads_every_record_of_the_topics(platform):
    produced = baselines.perf_produce(platform, 500, 100)  # the perf topic holds at least these
    consumed = baselines.consume(platform.bootstrap_servers, [baselines.PERF_TOPIC])
    assert consumed.records >= produced.records and consumed.seconds > 0


def test_a_drain_is_timed_between_commits_unless_the_first_commit_comes_late():
    # 10,000 records; deploy began at t=0; commits at t=12 (1,000 done) and t=16 (10,000 done)
    assert runs.drain_rate([(12.0, 1_000), (16.0, 10_000)], 10_000, 0.0, 17.0) == (2_250.0, 12.0)
    # the first commit already holds 9,000: 1,000 more in 0.1 s is no rate; from deploy instead
    assert runs.drain_rate([(12.0, 9_000), (12.1, 10_000)], 10_000, 0.0, 20.0) == (500.0, 12.0)
    assert runs.drain_rate([], 10_000, 0.0, 20.0) == (500.0, 20.0)


def test_cpu_is_counted_per_process_and_thread_kind_between_two_readings():
    assert probes._thread_kind(os.getpid(), threading.get_native_id()) == "work"  # a Python thread
    assert probes._thread_kind(os.getpid(), 0) == "work"  # gone (or never there): still counted
    before = {"kafka": {"work": 1.0, "jit": 0.5, "gc": 0.0}}
    after = {"kafka": {"work": 3.5, "jit": 0.5, "gc": 0.25}, "flink-taskmanager": {"work": 2.0, "jit": 1.5, "gc": 0.0}}
    assert probes.cpu_spent(before, after) == {  # a process started in between counts from zero
        "flink-taskmanager": {"work": 2.0, "jit": 1.5, "gc": 0.0}, "kafka": {"work": 2.5, "jit": 0.0, "gc": 0.2}}


def test_a_profile_sums_each_frames_own_samples_per_vertex():
    graph = {"name": "root", "value": 10, "children": [
        {"name": "RocksDB.get", "value": 6, "children": []},
        {"name": "Calc.processElement", "value": 4, "children": [{"name": "RocksDB.get", "value": 1}]},
    ]}
    profile = flame.Profile()
    profile.add("join", graph)
    profile.add("join", graph)
    assert profile.total["join"] == 20
    assert profile.self_samples[("join", "RocksDB.get")] == 14
    assert profile.self_samples[("join", "Calc.processElement")] == 6
    assert ("join", "root") not in profile.self_samples  # all its samples are its children's
    assert "| 14 | 70.0% | `RocksDB.get` |" in profile.markdown("t")


def test_the_docs_table_and_plots_are_the_committed_result_re_rendered(tmp_path):
    """What docs/benchmark shows is what its bench.json says: re-rendering gives the same table
    and a PNG per figure, so a hand-edited number cannot hide in the docs."""
    shutil.copy2(PUBLISHED / "bench.json", tmp_path / "bench.json")
    result = subprocess.run([sys.executable, "-m", "bench", "--report", str(tmp_path), "--no-publish"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "results.md").read_text() == (PUBLISHED / "results.md").read_text()
    for figure in report.FIGURES:
        png = tmp_path / f"{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
        assert (PUBLISHED / f"{figure}.png").is_file(), f"docs/benchmark/{figure}.png is not published"


def test_the_committed_result_covers_every_figure_the_issue_asks_for():
    result = json.loads((PUBLISHED / "bench.json").read_text())
    assert [scale["scale"] for scale in result["scales"]] == [1, 4, 16]
    for scale in result["scales"]:
        assert set(scale["baselines"]) == {"produce", "perf_produce", "consume", "perf_consume"}
        assert scale["all_jobs"]["input_records_per_s"] > 0
        assert any(name.startswith("flink-taskmanager") for name in scale["memory"])
        assert all(scale["all_jobs"]["checkpoints"].values())
    largest = result["scales"][-1]
    assert {row["job"] for row in largest["jobs"]} == set(largest["all_jobs"]["jobs"])
    together = largest["all_jobs"]  # when each job caught up, and where the CPU went meanwhile
    assert set(together["caught_up_s"]) == set(together["jobs"])
    assert max(together["caught_up_s"].values()) <= together["drain_s"] + 0.05  # rounded to 0.1 s
    assert {"flink-jobmanager", "flink-taskmanager", "kafka"} <= set(together["cpu_s"])
    # the probe tells the JVMs' compiler threads apart (a name it no longer matched would read 0)
    assert together["cpu_s"]["flink-taskmanager"]["jit"] > 0 and together["cpu_s"]["kafka"]["jit"] > 0
    spent = sum(seconds for kinds in together["cpu_s"].values() for seconds in kinds.values())
    assert 0 < spent <= together["drain_s"] * result["machine"]["cpus"] * 1.05  # no thread counted twice
    for row in largest["jobs"]:  # every job alone read enough to time, raw and through Flink
        # (topped up by offsets, which count the backlog transaction's commit markers too)
        assert row["records"] >= 0.99 * result["job_records"], row["job"]
        assert row["records"] / row["raw_consume_per_s"] >= report.MIN_TIMED_S, row["job"]
    assert [run["load"] for run in result["latency"]["runs"]] == [0.25, 0.5, 0.75]
    sweep = result["sweep"]["points"]  # exactly-once latency against the checkpoint interval
    assert [point["interval_ms"] for point in sweep] == list(runs.SWEEP_INTERVALS_MS)
    swept = result["sweep"]["job"]  # the key the run knew the job by
    lesson14_raw = next(row for row in largest["jobs"] if row["job"] == swept)["raw_consume_per_s"]
    for point in sweep:  # no job drains faster than a raw consumer of its topics (a stale job would)
        assert 0 < point["records_per_s"] < point.get("raw_consume_per_s", lesson14_raw), point
    committed = [point["latency"]["read_committed"]["p50_ms"] for point in sweep]
    assert committed == sorted(committed), committed  # a longer interval, a later commit
    assert all(point["latency"]["read_uncommitted"]["p50_ms"] < point["latency"]["read_committed"]["p50_ms"]
               for point in sweep)
    assert len(result["recovery"]["recovery_s"]) == 3 and all(s > 0 for s in result["recovery"]["recovery_s"])
    assert all(row["outputs"] > 0 for run in result["latency"]["runs"] for row in run["rows"])
    peered = {key for key in largest["all_jobs"]["jobs"] if lessons.get(key).peer}
    assert {row["job"] for row in largest["peers"]} == peered  # each peer drained its job's backlog alone
    for row in largest["peers"]:
        job = next(alone for alone in largest["jobs"] if alone["job"] == row["job"])
        # its own inputs: the job's or fewer (a global table's is not timed), and the nudges sent meanwhile
        assert 0 < row["records"] <= 1.01 * job["records"] and row["records_per_s"] > 0, row["peer"]
        assert any(name.startswith(row["peer"]) for name in row["memory"]), row["memory"]
    timed = {key for key in peered if lessons.get(key).latency}  # and took the job's live rate alone
    assert {run["job"] for run in result["peer_latency"]} == timed
    assert all(run["peer_latency"]["outputs"] > 0 and run["job_latency"]["outputs"] > 0
               for run in result["peer_latency"])
    assert result["demo"]["passed"] and result["demo"]["in_all_s"] > 0  # make demo, timed after setup
    assert result["demo"]["drill"].endswith("-> PASSED"), result["demo"]["drill"]


def test_a_failed_demo_reads_as_failed_in_the_report():
    result = json.loads((PUBLISHED / "bench.json").read_text())
    result["demo"] |= {"passed": False, "error": "no Flink cluster answers"}
    assert f"| {result['demo']['when']} | {result['demo']['in_all_s']:.1f} s | NO |" in report.markdown(result)


def test_the_ablation_table_is_the_ledger_re_rendered_from_kept_results():
    """Each lever's before and after are summaries of two results kept in docs/benchmark/runs,
    never typed: the ledger derives again from them, and the table from the ledger."""
    entries = json.loads(ablation.LEDGER.read_text())
    assert ablation.TABLE.read_text() == ablation.markdown(entries)
    assert ablation.STATE_TABLE.read_text() == ablation.markdown(ablation.about_state(entries))
    for entry in entries:
        for side in ("before", "after"):
            kept = json.loads((ablation.RUNS / f"{entry[side]['when']}.json").read_text())
            assert entry[side] == ablation.summary(kept), (entry["lever"], side)


def test_a_lever_is_recorded_from_two_results_and_replaces_its_old_row(tmp_path):
    result = json.loads((PUBLISHED / "bench.json").read_text())
    slower = json.loads(json.dumps(result))
    slower["when"] = "before"
    slower["scales"][-1]["all_jobs"]["input_records_per_s"] = 1
    (tmp_path / "before.json").write_text(json.dumps(slower))
    (tmp_path / "after.json").write_text(json.dumps(result))
    ledger, table = tmp_path / "ablation.json", tmp_path / "ablation.md"
    for _ in range(2):
        entries = ablation.add("a lever", tmp_path / "before.json", tmp_path / "after.json", ledger, table,
                               tmp_path / "runs", tmp_path / "ablation-state.md")
    assert [entry["lever"] for entry in entries] == ["a lever"]
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == sorted(
        ["before.json", f"{result['when']}.json"])
    assert f"| a lever | before (16×, 2,000 ms) → {result['when']} (16×, 2,000 ms) | 1 (0.0000×) → **" in table.read_text()
    assert "a lever" not in (tmp_path / "ablation-state.md").read_text()  # not a lever about state


@pytest.mark.parametrize("args, fragment", [
    (["add", "x", "/no/such.json", "/no/other.json"], "no /no/such.json"),
    (["remove"], "invalid choice: 'remove'"),
])
def test_bad_ablation_arguments_get_one_line(args, fragment):
    result = subprocess.run([sys.executable, "-m", "bench.ablation", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr


@pytest.mark.parametrize("args, fragment", [
    ([], "the following arguments are required: --into"),
    (["--into", "/no/such/dir"], "no /no/such/dir/bench.json"),
])
def test_bad_demo_timing_arguments_get_one_line(args, fragment):
    result = subprocess.run([sys.executable, "-m", "bench.demo", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--scales", "1,x"], "'1,x' is not a comma-separated list of whole numbers"),
    (["--events", "50"], "--events must be at least 100"),
    (["--brokers", "9"], "invalid choice: 9"),
    (["--report", "/no/such/dir"], "no /no/such/dir/bench.json"),
])
def test_bad_arguments_get_one_line(args, fragment):
    result = subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr


def test_the_demos_step_times_read_back_as_printed():
    steps = demo.Steps()
    assert steps.time("up", lambda: "done") == "done"
    steps.time("deploy", lambda: None)
    assert demo.Steps.parse(steps.line()) == steps.seconds and list(steps.seconds) == ["up", "deploy"]


def test_the_report_shows_the_demos_steps_and_the_slowest_submission():
    result = json.loads((PUBLISHED / "bench.json").read_text())
    result["demo"] |= {"steps_s": {"up": 12.5, "deploy": 30.0}}
    result["submission"] = {"slowest_s": 7.25, "jobs": 7}
    text = report.markdown(result)
    assert "Its steps: up 12.5 s, deploy 30.0 s" in text and "the slowest took 7.2 s" in text
