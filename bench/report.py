"""A benchmark result (``bench.json``) as Markdown tables and one PNG per figure.

Pure functions of the JSON, so a result can be re-rendered (``python -m bench --report DIR``)
and the rendering is tested without running a benchmark.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

MB = 1024 * 1024
MIN_TIMED_S = 0.05  # a raw read shorter than this gives no ratio worth printing
FIGURES = ("throughput", "latency", "sweep", "memory", "checkpoints", "growth")


def _scales(result: dict) -> list[dict]:
    return result["scales"]


def _label(scale: dict) -> str:
    return f"{scale['scale']}× ({scale['events']:,} events)"


def _last(checkpoints: list[dict], field: str, default: float = 0.0) -> float:
    return checkpoints[-1][field] if checkpoints else default


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(result: dict) -> str:
    """The results tables, in the order the docs page explains them."""
    scales = _scales(result)
    labels = [_label(scale) for scale in scales]
    out = [f"Measured {result['when']} on {result['machine']['cpus']} CPUs, "
           f"{result['shape']['brokers']} broker(s), {result['shape']['taskmanagers']} TaskManager(s), "
           f"checkpoints every {result['checkpoint_interval_ms']} ms.", ""]

    out += ["**Raw Kafka baselines** (records/s, same broker, same run)", ""]
    out.append(_table(["baseline", *labels], [
        [f"{scales[0]['baselines'][name]['client']}: {scales[0]['baselines'][name]['what']}",
         *(f"{scale['baselines'][name]['per_s']:,}" for scale in scales)]
        for name in scales[0]["baselines"]
    ]))

    out += ["", "**Throughput** (input records/s while draining a backlog; × = ratio to a raw "
            "confluent-kafka consumer reading the same topics in the same run)", ""]
    together = [["**all jobs together**", *(
        _ratio_cell(scale["all_jobs"]["input_records_per_s"], scale["baselines"]["consume"]["per_s"],
                    scale["baselines"]["consume"]["seconds"])
        for scale in scales)]]
    out.append(_table(["job", *labels], together))
    alone = _alone(scales)
    if alone:
        topped = (f"its input topics topped up to at least {result['job_records']:,} records; records/s "
                  "between its first and last offset commit" if "job_records" in result
                  else "the backlog itself; records/s from deploy to the last commit")
        out += ["", f"**Each job alone** (at {_label(alone)}, {topped}; × = ratio to a raw consumer of "
                "the same topics; start-up: deploy until the first commit)", ""]
        out.append(_table(["job", "input records", "records/s", "start-up", "from deploy, records/s"], [
            [row["job"], f"{row['records']:,}",
             _ratio_cell(row["records_per_s"], row["raw_consume_per_s"], row["records"] / row["raw_consume_per_s"]),
             f"{row['startup_s']:.1f} s" if "startup_s" in row else "–",
             f"{row.get('from_deploy_records_per_s', row['records_per_s']):,}"]
            for row in alone["jobs"]
        ]))

    with_peers = alone and alone.get("peers")
    if with_peers:
        out += ["", "**Kafka Streams peers** (each drains the backlog its PyFlink job has just drained alone, "
                "in the same run; ÷ = the peer's rate over the job's; memory: peak resident MB of the "
                "peer's process, and of the TaskManager with its Python workers while the job drains)", ""]
        jobs = {row["job"]: row for row in alone["jobs"]}
        out.append(_table(["concept", "PyFlink, records/s", "Kafka Streams, records/s", "peer ÷ job",
                           "peer start-up", "memory: TaskManager / peer"], [
            [f"{peer['job']} / {peer['peer']}", f"{jobs[peer['job']]['records_per_s']:,}",
             f"{peer['records_per_s']:,}", f"{peer['records_per_s'] / jobs[peer['job']]['records_per_s']:.2f}×",
             f"{peer['startup_s']:.1f} s", _peer_memory_cell(jobs[peer["job"]], peer)]
            for peer in with_peers
        ]))
    peer_latency = result.get("peer_latency")
    if peer_latency:
        out += ["", "**Kafka Streams peers: latency** (ms, p50 / p99 / p999 (outputs), each alone at the same "
                "live rate: half the slower one's drain rate)", ""]
        out.append(_table(["output", "rate", "PyFlink", "Kafka Streams"], [
            [f"{run['job_latency']['output_topic']} / {run['peer_latency']['output_topic']}",
             f"{run['rate_per_s']:,}/s", _latency_cell(run["job_latency"]), _latency_cell(run["peer_latency"])]
            for run in peer_latency
        ]))

    latency = result.get("latency")
    if latency:
        out += ["", f"**End-to-end latency** (ms, event produced → committed output read; load as a share "
                f"of the all-jobs capacity of {latency['capacity_records_per_s']:,} records/s at "
                f"{latency['at_scale']}×; p50 / p99 / p999, outputs measured)", ""]
        runs = latency["runs"]
        out.append(_table(["output (job)", *(f"{run['load']:.0%} ({run['rate_per_s']:,}/s)" for run in runs)], [
            [f"{first['output_topic']} ({first['job']})", *(_latency_cell(_row(run, first["job"])) for run in runs)]
            for first in runs[0]["rows"]
        ]))

    sweep = result.get("sweep")
    if sweep:
        out += ["", f"**Checkpoint interval** ({sweep['job']} alone: its drain rate, and the p50 / p99 latency "
                f"(ms) of its output at {sweep['rate_per_s']:,} events/s, read committed (exactly-once) and "
                "uncommitted (what at-least-once shows))", ""]
        out.append(_table(["interval", "records/s", "read committed", "read uncommitted"], [
            [f"{point['interval_ms']:,} ms", f"{point['records_per_s']:,}",
             *(_percentile_cell(point["latency"].get(isolation)) for isolation in ("read_committed", "read_uncommitted"))]
            for point in sweep["points"]
        ]))

    recovery = result.get("recovery")
    if recovery:
        times = recovery["recovery_s"]
        # Results without the field struck ~2 s into the drill's 20 s of data, not halfway.
        after = f"{recovery['data_after_fault_s']:.0f} s" if "data_after_fault_s" in recovery else "up to 20 s"
        out += ["", f"**Recovery** (TaskManager `kill -9` at {recovery['at_scale']}×, every job running: "
                "seconds from the fault until every job has processed all input again; the drill's data "
                f"keeps arriving for {after} after the fault)", ""]
        out.append(_table(["drills", "each", "median"],
                          [[len(times), ", ".join(f"{t:.1f} s" for t in times), f"{statistics.median(times):.1f} s"]]))

    timed_demo = result.get("demo")
    if timed_demo:
        out += ["", "**`make demo`** (after setup, on a platform of its own: services up, 20,000 events, "
                "every job deployed and reconciled with the oracle, the TaskManager kill drill, the warehouse "
                "load and its validation)", ""]
        out.append(_table(["measured", "in all", "outputs equal the oracle"],
                          [[timed_demo["when"], f"{timed_demo['in_all_s']:.1f} s",
                            "yes" if timed_demo["passed"] else "NO"]]))
        if timed_demo.get("steps_s"):
            out += ["", "Its steps: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timed_demo["steps_s"].items())]

    submission = result.get("submission")
    if submission:
        out += ["", f"**Submission** (each of {submission['jobs']} deploys through the job client, until every "
                f"task of the job runs): the slowest took {submission['slowest_s']:.1f} s"]

    names = sorted({name for scale in scales for name in scale["memory"]})
    out += ["", "**Peak memory** (MB resident, process and the processes it started, e.g. Python "
            "workers, while all jobs drain)", ""]
    out.append(_table(["process", *labels], [
        [name, *(f"{scale['memory'].get(name, {}).get('group_mb', 0):,.0f}" for scale in scales)] for name in names
    ]))

    caught_up = ("; caught up: when the job's group had committed all its input, in seconds after the "
                 "backlog appeared" if any("caught_up_s" in scale["all_jobs"] for scale in scales) else "")
    out += ["", "**Checkpoints while all jobs drain** (last completed: state size; slowest: end-to-end "
            f"duration{caught_up})", ""]
    keys = sorted({key for scale in scales for key in scale["all_jobs"]["checkpoints"]})
    out.append(_table(["job", *labels], [
        [key, *(_checkpoint_cell(scale["all_jobs"]["checkpoints"].get(key, []),
                                 scale["all_jobs"].get("caught_up_s", {}).get(key)) for scale in scales)]
        for key in keys
    ]))

    with_cpu = [scale for scale in scales if "cpu_s" in scale["all_jobs"]]
    if with_cpu:
        out += ["", "**CPU while all jobs drain** (seconds of each process: work / JIT compilers / garbage "
                "collector threads; of the drain's seconds × the machine's cores)", ""]
        names = sorted({name for scale in with_cpu for name in scale["all_jobs"]["cpu_s"]})
        out.append(_table(["process", *(_label(scale) for scale in with_cpu)], [
            [name, *(_cpu_cell(scale["all_jobs"]["cpu_s"].get(name)) for scale in with_cpu)] for name in names
        ] + [["all of them", *(_cpu_total_cell(scale, result["machine"].get("cpus", 0)) for scale in with_cpu)]]))
    return "\n".join(out) + "\n"


def _cpu_cell(kinds: dict[str, float] | None) -> str:
    if not kinds:
        return "–"
    return f"{kinds['work']:.1f} / {kinds['jit']:.1f} / {kinds['gc']:.1f}"


def _cpu_total_cell(scale: dict, cpus: int) -> str:
    spent = sum(sum(kinds.values()) for kinds in scale["all_jobs"]["cpu_s"].values())
    jit = sum(kinds["jit"] for kinds in scale["all_jobs"]["cpu_s"].values())
    available = scale["all_jobs"]["drain_s"] * cpus
    share = f" of {available:,.0f} ({spent / available:.0%})" if available else ""
    return f"{spent:,.1f}{share}; JIT {jit:,.1f}"


def _ratio_cell(per_s: float, raw_per_s: float, raw_s: float) -> str:
    if raw_s < MIN_TIMED_S:  # one fetch: the raw rate is the timer's resolution, not Kafka's speed
        return f"{per_s:,} (raw read < {MIN_TIMED_S * 1000:.0f} ms)"
    return f"{per_s:,} ({per_s / raw_per_s:.4f}×)"


def _alone(scales: list[dict]) -> dict | None:
    """The scale whose jobs drained alone: the largest (older results ran them at every scale)."""
    return next((scale for scale in reversed(scales) if scale.get("jobs")), None)


def _peer_memory_cell(job: dict, peer: dict) -> str:
    taskmanager = job["memory"].get("flink-taskmanager", {}).get("group_mb")
    process = next((entry["process_mb"] for name, entry in peer["memory"].items() if name.startswith(peer["peer"])),
                   None)
    return " / ".join("–" if mb is None else f"{mb:,.0f}" for mb in (taskmanager, process))


def _row(run: dict, key: str) -> dict:
    return next(row for row in run["rows"] if row["job"] == key)


def _latency_cell(row: dict) -> str:
    if not row["outputs"]:
        return "no outputs"
    return f"{row['p50_ms']:,} / {row['p99_ms']:,} / {row['p999_ms']:,} ({row['outputs']:,})"


def _percentile_cell(latency: dict | None) -> str:
    if not latency or latency["p50_ms"] is None:
        return "no outputs"
    return f"{latency['p50_ms']:,} / {latency['p99_ms']:,}"


def _checkpoint_cell(checkpoints: list[dict], caught_up_s: float | None = None) -> str:
    caught_up = f"; caught up at {caught_up_s:.1f} s" if caught_up_s is not None else ""
    if not checkpoints:
        return "none completed" + caught_up
    slowest = max(entry["duration_ms"] for entry in checkpoints)
    return f"{_last(checkpoints, 'state_bytes') / MB:.1f} MB; {slowest:,} ms ({len(checkpoints)}){caught_up}"


def plots(result: dict, out_dir: Path) -> list[Path]:
    """One PNG per figure (``FIGURES``), written to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("throughput", _throughput), ("latency", _latency), ("sweep", _sweep), ("memory", _memory),
                       ("checkpoints", _checkpoints), ("growth", _growth)):
        if name in ("latency", "sweep") and not result.get(name):
            continue
        fig = draw(result)
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written


def _throughput(result: dict):
    scales = _scales(result)
    events = [scale["events"] for scale in scales]
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, style in (("consume", "k--"), ("perf_consume", "k:"), ("produce", "k-."), ("perf_produce", "k-")):
        ax.plot(events, [scale["baselines"][name]["per_s"] for scale in scales], style, linewidth=1,
                label=f"raw: {scales[0]['baselines'][name]['client']} {name.split('_')[-1]}")
    ax.plot(events, [scale["all_jobs"]["input_records_per_s"] for scale in scales], "o-", linewidth=3,
            label="all jobs together")
    alone = _alone(scales)
    for i, job in enumerate(alone["jobs"] if alone else []):
        ax.plot([alone["events"]], [job["records_per_s"]], "sv^<>pDh"[i % 9], label=f"{job['job']} alone")
    ax.set(xscale="log", yscale="log", xlabel="events in the backlog", ylabel="input records / s",
           title="Backlog drain throughput against raw Kafka")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def _latency(result: dict):
    runs = result["latency"]["runs"]
    loads = [run["load"] * 100 for run in runs]
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, row in enumerate(runs[0]["rows"]):
        color = f"C{i}"
        for field, style in (("p50_ms", "-"), ("p99_ms", "--"), ("p999_ms", ":")):
            ax.plot(loads, [_row(run, row["job"])[field] for run in runs], style, color=color, marker="o",
                    label=f"{row['output_topic']} {field.split('_')[0]}")
    ax.set(yscale="log", xlabel="load (% of all-jobs capacity)", ylabel="ms, produced → committed output",
           title=f"End-to-end latency (outputs commit with checkpoints every {result['checkpoint_interval_ms']} ms)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def _sweep(result: dict):
    sweep = result["sweep"]
    points = sweep["points"]
    intervals = [point["interval_ms"] for point in points]
    fig, latency_ax = plt.subplots(figsize=(8, 5))
    for isolation, color in (("read_committed", "C0"), ("read_uncommitted", "C1")):
        for field, style in (("p50_ms", "-"), ("p99_ms", "--")):
            latency_ax.plot(intervals, [(point["latency"].get(isolation) or {}).get(field) for point in points],
                            style, color=color, marker="o", label=f"{isolation} {field.split('_')[0]}")
    latency_ax.set(xscale="log", yscale="log", xlabel="checkpoint interval (ms)", ylabel="latency (ms)",
                   title=f"{sweep['job']}: exactly-once latency and throughput by checkpoint interval")
    latency_ax.set_xticks(intervals, [f"{ms:,}" for ms in intervals])
    latency_ax.minorticks_off()
    rate_ax = latency_ax.twinx()
    rate_ax.plot(intervals, [point["records_per_s"] for point in points], "k:", marker="s", label="drain records/s")
    rate_ax.set(ylabel="records / s (alone)")
    rate_ax.set_ylim(bottom=0)
    lines = latency_ax.get_legend_handles_labels()[0] + rate_ax.get_legend_handles_labels()[0]
    labels = latency_ax.get_legend_handles_labels()[1] + rate_ax.get_legend_handles_labels()[1]
    latency_ax.legend(lines, labels, fontsize=7, loc="upper left")
    return fig


def _memory(result: dict):
    scales = _scales(result)
    names = sorted({name for scale in scales for name in scale["memory"]})
    fig, ax = plt.subplots(figsize=(8, 5))
    width = 0.8 / len(scales)
    for i, scale in enumerate(scales):
        ax.bar([n + i * width for n in range(len(names))],
               [scale["memory"].get(name, {}).get("group_mb", 0) for name in names], width, label=_label(scale))
    ax.set_xticks([n + width * (len(scales) - 1) / 2 for n in range(len(names))], names, rotation=20)
    ax.set(ylabel="peak resident MB (process group)", title="Peak memory per process while all jobs drain")
    ax.legend(fontsize=8)
    return fig


def _checkpoints(result: dict):
    largest = _scales(result)[-1]
    fig, (size_ax, time_ax) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for key, entries in sorted(largest["all_jobs"]["checkpoints"].items()):
        at = [entry["at_s"] for entry in entries]
        size_ax.plot(at, [entry["state_bytes"] / MB for entry in entries], ".-", label=key)
        time_ax.plot(at, [entry["duration_ms"] for entry in entries], ".-", label=key)
    size_ax.set(ylabel="state size (MB)", title=f"Checkpoints as state grows ({_label(largest)}, all jobs draining)")
    time_ax.set(ylabel="duration (ms)", xlabel="seconds since the backlog appeared")
    size_ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def _growth(result: dict):
    scales = _scales(result)
    events = [scale["events"] for scale in scales]
    fig, (drain_ax, state_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    drain_ax.plot(events, [scale["all_jobs"]["drain_s"] for scale in scales], "o-", linewidth=3, label="all jobs")
    keys = sorted({key for scale in scales for key in scale["all_jobs"]["checkpoints"]})
    for key in keys:
        state_ax.plot(events, [_last(scale["all_jobs"]["checkpoints"].get(key, []), "state_bytes") / MB
                               for scale in scales], ".-", label=key)
    drain_ax.set(xscale="log", yscale="log", xlabel="events in the backlog", ylabel="drain time (s)",
                 title="Drain time by input size")
    state_ax.set(xscale="log", xlabel="events in the backlog", ylabel="last checkpoint (MB)",
                 title="State size by input size")
    drain_ax.legend(fontsize=7)
    state_ax.legend(fontsize=7)
    return fig
