"""A benchmark result (``bench.json``) as Markdown tables and one PNG per figure.

Pure functions of the JSON, so a result can be re-rendered (``python -m bench --report DIR``)
and the rendering is tested without running a benchmark.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

MB = 1024 * 1024
MIN_TIMED_S = 0.05  # a raw read shorter than this gives no ratio worth printing
FIGURES = ("throughput", "latency", "memory", "checkpoints", "growth")


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
    alone = [[job["job"], *(_ratio_cell(row["records_per_s"], row["raw_consume_per_s"],
                                        row["records"] / row["raw_consume_per_s"])
                            for row in (_job(scale, job["job"]) for scale in scales))]
             for job in scales[0]["jobs"]]
    out.append(_table(["job", *labels], together + alone))

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

    names = sorted({name for scale in scales for name in scale["memory"]})
    out += ["", "**Peak memory** (MB resident, process and the processes it started, e.g. Python UDF "
            "workers, while all jobs drain)", ""]
    out.append(_table(["process", *labels], [
        [name, *(f"{scale['memory'].get(name, {}).get('group_mb', 0):,.0f}" for scale in scales)] for name in names
    ]))

    out += ["", "**Checkpoints while all jobs drain** (last completed: state size; slowest: end-to-end duration)", ""]
    keys = sorted({key for scale in scales for key in scale["all_jobs"]["checkpoints"]})
    out.append(_table(["job", *labels], [
        [key, *(_checkpoint_cell(scale["all_jobs"]["checkpoints"].get(key, [])) for scale in scales)] for key in keys
    ]))
    return "\n".join(out) + "\n"


def _ratio_cell(per_s: float, raw_per_s: float, raw_s: float) -> str:
    if raw_s < MIN_TIMED_S:  # one fetch: the raw rate is the timer's resolution, not Kafka's speed
        return f"{per_s:,} (raw read < {MIN_TIMED_S * 1000:.0f} ms)"
    return f"{per_s:,} ({per_s / raw_per_s:.4f}×)"


def _job(scale: dict, key: str) -> dict:
    return next(row for row in scale["jobs"] if row["job"] == key)


def _row(run: dict, key: str) -> dict:
    return next(row for row in run["rows"] if row["job"] == key)


def _latency_cell(row: dict) -> str:
    if not row["outputs"]:
        return "no outputs"
    return f"{row['p50_ms']:,} / {row['p99_ms']:,} / {row['p999_ms']:,} ({row['outputs']:,})"


def _checkpoint_cell(checkpoints: list[dict]) -> str:
    if not checkpoints:
        return "none completed"
    slowest = max(entry["duration_ms"] for entry in checkpoints)
    return f"{_last(checkpoints, 'state_bytes') / MB:.1f} MB; {slowest:,} ms ({len(checkpoints)})"


def plots(result: dict, out_dir: Path) -> list[Path]:
    """One PNG per figure (``FIGURES``), written to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("throughput", _throughput), ("latency", _latency), ("memory", _memory),
                       ("checkpoints", _checkpoints), ("growth", _growth)):
        if name == "latency" and not result.get("latency"):
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
    for job in scales[0]["jobs"]:
        ax.plot(events, [_job(scale, job["job"])["records_per_s"] for scale in scales], ".-", label=job["job"])
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
    for job in scales[0]["jobs"]:
        drain_ax.plot(events, [_job(scale, job["job"])["drain_s"] for scale in scales], ".-", label=job["job"])
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
