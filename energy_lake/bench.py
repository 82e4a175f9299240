"""`energy-lake bench`: the pipeline against a single-machine DuckDB reference, in one run.

The runner generates N transactions with the project's generator (dirt included) over D load
days plus one, lands the first D days in a raw zone and then, `--runs` times, on a fresh copy of
that raw zone: runs `energy-lake run` job by job and the DuckDB reference step by step, each as
its own child process (wall time includes Python and Spark start-up; peak RSS is the largest sum
of RSS over the child and its descendants, polled every 50 ms; the memory target is judged on
the same sum without children forked but not yet exec'd, whose pages are the parent's). Spark
start-up alone is measured the same way. On the last full-run lake it then counts output files
per zone, times the four analyses for the full range and one month (files and bytes read from
DuckDB's profiler) and times a one-day incremental run (the extra day landed on a copy of the
lake), then the same day without its corrections (`without_corrections`), to show what the
rewrite of the old days the corrections touch costs.

Medians of the runs are reported; ratios are taken within a run and then the median, so the
noise of a shared machine hits both sides of a ratio alike. The pure half (`summarize`,
`evaluate_targets`, `render`, `zone_stats`) turns the measurements into the table and the JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from energy_lake import contract
from energy_lake.generate import MANIFEST

MB = 1_000_000
MIB = 1 << 20
GIB = 1 << 30
SMALL_FILE = MIB  # a file under this, in a partition holding more, counts as small
POLL_SECONDS = 0.05
START = date(2025, 1, 1)  # the generator's default first load day
SEED = 42
FACT = contract.FACTS[0]
JOBS = ("raw_to_processed", "processed_to_curated")
REFERENCE_STEPS = ("processed", "curated")
ZONES = ("processed", "curated", "rejected")
# The one-day incremental run, and the same day without its corrections (a diagnostic: the
# cost of a run that rewrites no old day, see `without_corrections`).
INCREMENTAL_STEPS = ("incremental", "incremental_no_corrections")

# (name, what the measured value is, limit): the targets
TARGETS = (
    ("pipeline_vs_duckdb", "full pipeline / DuckDB reference (x)", 4.0),
    ("peak_memory_gib", "peak RSS of a pipeline process tree, forks before exec out (GiB)", 4.0),
    ("incremental_share", "one-day incremental / full run", 0.10),
    ("max_files_per_partition", "data files per partition per run, any zone", 1),
    ("small_files", "files < 1 MB in partitions holding > 1 MB", 0),
    ("month_bytes_share", "one-month query bytes / full-range bytes (worst analysis)", 1 / 15),
)


class BenchError(RuntimeError):
    """A measured step failed; the message points at its log."""


# -- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss: int  # bytes: the largest sum of RSS over the process tree
    peak_by_process: dict[str, int]  # at that moment: RSS per process name (java, python...)
    peak_memory: int = 0  # bytes: the same sum without children forked but not yet exec'd


def _forked_not_execed(process: Any, tree: dict[int, Any]) -> bool:
    """A child still running its parent's program image: same executable, same command line.

    A JVM that forks a shell (Hadoop's local file system does, for each file it writes, when the
    native Hadoop library is missing) shows, until the exec, a child whose RSS is the JVM's
    whole RSS: the pages are shared, not used twice. Python workers forked from one daemon (not
    used by these jobs: no Python UDFs) would be left out the same way.
    """
    parent = tree.get(process.ppid())
    return (
        parent is not None
        and process.exe() == parent.exe()
        and process.cmdline() == parent.cmdline()
    )


def _tree_rss(root: Any) -> tuple[dict[str, int], int]:
    """RSS of a process and its descendants right now, summed per process name, and the RSS of
    those among them that are forks not yet exec'd."""
    import psutil

    by_name: dict[str, int] = defaultdict(int)
    forks = 0
    try:
        tree = {p.pid: p for p in (root, *root.children(recursive=True))}
    except psutil.NoSuchProcess:
        return {}, 0
    for process in tree.values():
        try:
            # Whether it is a fork first, its RSS after: a child that execs in between is
            # counted as a fork with its new, small RSS, never as a JVM-sized program.
            fork = _forked_not_execed(process, tree)
            name, rss = process.name(), process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        by_name[name] += rss
        forks += rss if fork else 0
    return dict(by_name), forks


def measure(command: Sequence[str], log: Path, *, env: dict[str, str] | None = None) -> Measured:
    """Run a child process to completion: wall time and peak memory of its whole process tree,
    polled every 50 ms."""
    import psutil

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=env)
        root = psutil.Process(child.pid)
        peak: dict[str, int] = {}
        peak_memory = 0
        while True:
            now, forks = _tree_rss(root)
            if sum(now.values()) > sum(peak.values()):
                peak = now
            peak_memory = max(peak_memory, sum(now.values()) - forks)
            try:
                child.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
        seconds = time.perf_counter() - start
    if child.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise BenchError(
            f"`{' '.join(command)}` exited with {child.returncode}; log: {log}\n" + "\n".join(tail)
        )
    return Measured(round(seconds, 3), sum(peak.values()), peak, peak_memory)


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def job_command(lake: Path, job: str) -> list[str]:
    return python_command("-m", "energy_lake.cli", "run", "--lake", str(lake), "--job", job)


def reference_command(step: str, raw: Path, out: Path) -> list[str]:
    extra = ["--raw", str(raw)] if step == "processed" else []
    return python_command("-m", "energy_lake.bench_duckdb", step, *extra, "--out", str(out))


SPARK_STARTUP = python_command(
    "-c", "from glue_jobs.shell import spark_session; spark_session('bench-startup').stop()"
)


# -- files per zone ----------------------------------------------------------------------------
def _data_files(root: Path) -> dict[Path, list[int]]:
    """Parquet sizes per folder under a zone, following table links (curated versions) and
    skipping bookkeeping folders (`_versions`, `_state`, `_loads`, `_files`, hidden ones)."""
    by_folder: dict[Path, list[int]] = defaultdict(list)
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(("_", ".")))
        for name in files:
            if name.endswith(".parquet") and not name.startswith(("_", ".")):
                by_folder[Path(folder)].append((Path(folder) / name).stat().st_size)
    return by_folder


def zone_stats(root: Path) -> dict[str, Any]:
    """Parquet data files of a zone: count, sizes, files per partition folder, small files.

    A partition is a folder holding data files; a small file is one under 1 MiB in a partition
    holding more than 1 MiB (it could have been merged into a bigger one).
    """
    by_folder = _data_files(root)
    sizes = [s for files in by_folder.values() for s in files]
    small = sum(
        1
        for files in by_folder.values()
        if sum(files) > SMALL_FILE
        for size in files
        if size < SMALL_FILE
    )
    return {
        "files": len(sizes),
        "bytes": sum(sizes),
        "avg_file_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
        "partitions": len(by_folder),
        "max_files_per_partition": max((len(f) for f in by_folder.values()), default=0),
        "small_files": small,
    }


def lake_zone_stats(lake: Path, zones: Sequence[str] = ZONES) -> dict[str, dict[str, Any]]:
    return {zone: zone_stats(lake / zone) for zone in zones}


# -- the pure half: measurements -> result -> table --------------------------------------------
def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3) if values else 0.0


def _step(runs: Sequence[dict], rows: int, csv_bytes: int) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    median = _median(seconds)
    peak = max(runs, key=lambda r: r["peak_rss"], default={})
    return {
        "seconds": median,
        "runs": seconds,
        "peak_rss": peak.get("peak_rss", 0),
        "peak_by_process": peak.get("peak_by_process", {}),
        "peak_memory": max((r.get("peak_memory", 0) for r in runs), default=0),
        "rows_per_s": round(rows / median) if median else None,
        "csv_mb_per_s": round(csv_bytes / MB / median, 2) if median else None,
    }


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """The result (what the JSON holds) from the raw measurements of `run_bench`.

    raw: rows, csv_bytes, <step>_rows and <step>_csv_bytes for each of INCREMENTAL_STEPS
    measured, and `measured`: step name -> list of {seconds, peak_rss} per run, for
    spark_startup, the jobs, the reference steps and the incremental steps (the lists of jobs
    and reference steps are in run order, one entry per run).
    """
    measured = raw["measured"]
    rows, csv_bytes = raw["csv_rows"], raw["csv_bytes"]
    steps: dict[str, Any] = {}
    for name in ("spark_startup", *JOBS, *(f"duckdb_{s}" for s in REFERENCE_STEPS)):
        steps[name] = _step(measured.get(name, []), rows, csv_bytes)
    runs = len(measured[JOBS[0]])
    pipeline = [{**_sum_runs(measured, JOBS, i)} for i in range(runs)]
    reference = [
        _sum_runs(measured, tuple(f"duckdb_{s}" for s in REFERENCE_STEPS), i) for i in range(runs)
    ]
    steps["pipeline"] = _step(pipeline, rows, csv_bytes)
    steps["duckdb"] = _step(reference, rows, csv_bytes)
    ratios = [p["seconds"] / r["seconds"] for p, r in zip(pipeline, reference, strict=True)]
    steps["pipeline"]["vs_duckdb"] = round(statistics.median(ratios), 2)
    steps["pipeline"]["vs_duckdb_runs"] = [round(x, 2) for x in ratios]
    for job, step in zip(JOBS, REFERENCE_STEPS, strict=True):
        reference_step = steps[f"duckdb_{step}"]["seconds"]
        if reference_step:
            steps[job]["vs_duckdb"] = round(steps[job]["seconds"] / reference_step, 2)
    for name in INCREMENTAL_STEPS:
        if measured.get(name):
            steps[name] = _step(measured[name], raw[f"{name}_rows"], raw[f"{name}_csv_bytes"])
            steps[name]["share_of_full"] = round(
                steps[name]["seconds"] / steps["pipeline"]["seconds"], 4
            )
    result = {k: v for k, v in raw.items() if k != "measured"}
    result["steps"] = steps
    result["targets"] = evaluate_targets(result)
    return result


def _sum_runs(measured: dict, names: Sequence[str], index: int) -> dict[str, float]:
    entries = [measured[n][index] for n in names]
    peak = max(entries, key=lambda e: e["peak_rss"])
    return {
        "seconds": round(sum(e["seconds"] for e in entries), 3),
        "peak_rss": peak["peak_rss"],
        "peak_by_process": peak.get("peak_by_process", {}),
        "peak_memory": max(e.get("peak_memory", 0) for e in entries),
    }


def _month_share(queries: Sequence[dict]) -> float | None:
    full = {q["analysis"]: q for q in queries if q["range"] == "full"}
    shares = [
        q["bytes_read"] / full[q["analysis"]]["bytes_read"]
        for q in queries
        if q["range"] == "month" and full.get(q["analysis"], {}).get("bytes_read")
    ]
    return max(shares) if shares else None


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured value and whether it is met (None: unknown)."""
    steps = result["steps"]
    zones = result.get("zones", {}).get("pipeline", {})
    peak = max((steps[j]["peak_memory"] for j in JOBS), default=0)
    measured = {
        "pipeline_vs_duckdb": steps["pipeline"].get("vs_duckdb"),
        "peak_memory_gib": round(peak / GIB, 2) if peak else None,
        "incremental_share": steps.get("incremental", {}).get("share_of_full"),
        "max_files_per_partition": max(
            (z["max_files_per_partition"] for z in zones.values()), default=None
        ),
        "small_files": sum(z["small_files"] for z in zones.values()) if zones else None,
        "month_bytes_share": _month_share(result.get("queries", [])),
    }
    out = []
    for name, meaning, limit in TARGETS:
        value = measured[name]
        out.append(
            {
                "target": name,
                "meaning": meaning,
                "limit": limit,
                "measured": None if value is None else round(value, 4),
                "met": None if value is None else value <= limit,
            }
        )
    return out


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(headers), *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first, *rest = (
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join([first, *rest]).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def _mib(value: int | None) -> str:
    return "" if value is None else f"{value / MIB:,.1f} MiB"


def _size(value: int) -> str:
    """Bytes in the unit that keeps the number readable (KiB, MiB or GiB)."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value / 1024:,.1f} KiB"


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "" if value is None else format(value, spec)


def render(result: dict[str, Any]) -> str:
    """The benchmark as text: steps, files per zone, queries, targets."""
    steps = result["steps"]
    head = (
        f"energy-lake bench: {result['rows']:,} transactions requested, {result['csv_rows']:,} CSV "
        f"rows ({result['csv_bytes'] / MB:,.1f} MB) over {result['days']} load days; "
        f"median of {result['runs']} run(s) on {result['cpus']} CPU(s); JVM class archive: "
        f"{'used' if result.get('jvm_class_archive') else 'none'}"
    )
    order = [
        ("spark start-up alone", "spark_startup"),
        ("raw_to_processed", "raw_to_processed"),
        ("processed_to_curated", "processed_to_curated"),
        ("pipeline (both jobs)", "pipeline"),
        ("duckdb processed", "duckdb_processed"),
        ("duckdb curated", "duckdb_curated"),
        ("duckdb reference", "duckdb"),
        ("incremental, one day", "incremental"),
        ("  same day, no corrections", "incremental_no_corrections"),
    ]
    rows = []
    for label, key in order:
        step = steps.get(key)
        if step is None:
            continue
        note = ""
        if "vs_duckdb" in step:
            note = f"{step['vs_duckdb']:.2f}x"
        if "share_of_full" in step:
            note = f"{step['share_of_full']:.1%} of full"
        rows.append(
            [
                label,
                f"{step['seconds']:.2f}",
                " / ".join(f"{s:.1f}" for s in step["runs"]),
                "" if key == "spark_startup" else _fmt(step["rows_per_s"]),
                "" if key == "spark_startup" else _fmt(step["csv_mb_per_s"], ".2f"),
                _mib(step["peak_rss"]),
                _mib(step["peak_memory"]),
                note,
            ]
        )
    parts = [
        head,
        "",
        _table(
            (
                "step",
                "wall s",
                "runs (s)",
                "rows/s",
                "MB/s CSV",
                "peak RSS",
                "w/o forks",
                "vs DuckDB",
            ),
            rows,
        ),
    ]
    breakdown = steps["pipeline"].get("peak_by_process", {})
    if breakdown:
        top = sorted(breakdown.items(), key=lambda item: -item[1])
        parts.append(
            "peak RSS (sum) of the pipeline, by process: "
            + ", ".join(f"{name} {_size(rss)}" for name, rss in top)
        )
    zone_rows = []
    for engine, zones in result.get("zones", {}).items():
        for zone, z in zones.items():
            zone_rows.append(
                [
                    f"{engine} {zone}",
                    z["files"],
                    z["partitions"],
                    _size(z["avg_file_bytes"]),
                    _size(z["bytes"]),
                    z["max_files_per_partition"],
                    z["small_files"],
                ]
            )
    if zone_rows:
        headers = ("zone", "files", "partitions", "avg file", "total", "max/partition", "small")
        parts += ["", _table(headers, zone_rows)]
    queries = result.get("queries", [])
    if queries:
        month = result.get("month", {})
        full = {q["analysis"]: q for q in queries if q["range"] == "full"}
        query_rows = []
        for q in queries:
            share = ""
            base = full.get(q["analysis"], {}).get("bytes_read")
            if q["range"] == "month" and base:
                share = f"{q['bytes_read'] / base:.1%}"
            query_rows.append(
                [
                    q["analysis"],
                    q["range"] if q["range"] == "full" else f"{month.get('start')}..",
                    f"{q['seconds']:.3f}",
                    f"{q['files_read']}/{q['files_total']}",
                    _size(q["bytes_read"]),
                    share,
                ]
            )
        headers = ("analysis", "range", "seconds", "files read", "bytes read", "of full")
        parts += ["", _table(headers, query_rows)]
    target_rows = [
        [
            t["meaning"],
            "" if t["measured"] is None else t["measured"],
            f"<= {t['limit']:.4g}",
            {True: "met", False: "MISSED", None: "not measured"}[t["met"]],
        ]
        for t in result["targets"]
    ]
    parts += ["", _table(("target", "measured", "limit", ""), target_rows)]
    for key, title in (
        ("job_timings", "slowest steps of the full run (run reports, median s)"),
        ("incremental_job_timings", "slowest steps of the incremental run"),
        ("incremental_no_corrections_job_timings", "slowest steps of the same day, no corrections"),
    ):
        timings = result.get(key, {})
        slow = sorted(
            (
                (f"{job}: {step}", s)
                for job, steps_ in timings.items()
                for step, s in steps_.items()
            ),
            key=lambda item: -item[1],
        )[:8]
        if slow:
            parts += ["", _table((title, "s"), slow)]
    return "\n".join(parts) + "\n"


# -- the runner --------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchConfig:
    rows: int
    runs: int = 3
    days: int = 730
    out: Path = Path("bench-results")
    work: Path | None = None
    seed: int = SEED

    @property
    def work_dir(self) -> Path:
        return self.work or Path(".lake") / f"bench-{self.rows}"


def sources(config: BenchConfig, log: Callable[[str], None]) -> Path:
    """Generated sources for D+1 days (cached in the work dir for the same parameters).

    One call with D+1 days and N + N // D transactions gives every one of the first D days the
    same row count as a call with D days and N, so their files are byte-identical to that call's;
    the last day is the incremental load.
    """
    incoming = config.work_dir / "incoming"
    params = {
        "seed": config.seed,
        "days": config.days + 1,
        "transactions": config.rows + config.rows // config.days,
    }
    stamp = incoming / "bench-params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        log(f"reusing generated sources in {incoming}")
        return incoming
    shutil.rmtree(incoming, ignore_errors=True)
    log(f"generating {params['transactions']:,} transactions over {params['days']} days")
    measured = measure(
        python_command(
            "-m",
            "energy_lake.cli",
            "generate",
            "--out",
            str(incoming),
            "--seed",
            str(config.seed),
            "--days",
            str(params["days"]),
            "--transactions",
            str(params["transactions"]),
        ),
        config.work_dir / "logs" / "generate.log",
    )
    log(f"  generated in {measured.seconds:.0f} s (peak RSS {_mib(measured.peak_rss)})")
    stamp.write_text(json.dumps(params))
    return incoming


def split_days(incoming: Path, days: int) -> tuple[list[Path], list[Path]]:
    """(files of the first `days` loads, files of the extra last load)."""
    last = (START + timedelta(days=days)).strftime("%Y%m%d")
    files = sorted(incoming.glob("*.csv"))
    extra = [p for p in files if p.stem.endswith(f"_{last}")]
    return [p for p in files if p not in extra], extra


def _land(lake: Path, files: Sequence[Path]) -> None:
    from energy_lake.ingest import ingest_file

    for path in files:
        ingest_file(str(lake), path)


def without_corrections(files: Sequence[Path], lake: Path, out: Path) -> tuple[list[Path], int]:
    """`files` (one load) with the fact records whose business key `lake`'s curated table
    already holds left out, written to `out`; and how many records were left out.

    A diagnostic, not a target: the same day when it corrects nothing, so the run rewrites no
    old day. What it costs is the floor a table format with merge-on-read deletes would bring
    the incremental run down to. Records are filtered as physical lines, byte for byte, so the
    load keeps its dirt; a line that does not parse as a record is kept.
    """
    import duckdb

    key = FACT.business_key
    out.mkdir(parents=True, exist_ok=True)
    result, left_out = [], 0
    facts = _facts(files)
    for path in files:
        if path not in facts:
            result.append(path)
            continue
        header, *lines = path.read_bytes().splitlines(keepends=True)
        names = [n.strip() for n in next(csv.reader([header.decode("utf-8-sig", "replace")]))]
        if key not in names:
            raise BenchError(f"{path}: no {key} column in its header {names}")
        column = names.index(key)
        keys = [_field(line, column) for line in lines]
        known = {
            row[0]
            for row in duckdb.sql(
                f"SELECT DISTINCT {key} FROM read_parquet($files, hive_partitioning = false) "
                f"WHERE {key} IN (SELECT unnest($keys))",
                params={
                    "files": (lake / "curated" / FACT.name / "**" / "*.parquet").as_posix(),
                    "keys": sorted({k for k in keys if k}),
                },
            ).fetchall()
        }
        kept = [line for line, k in zip(lines, keys, strict=True) if k not in known]
        left_out += len(lines) - len(kept)
        (out / path.name).write_bytes(header + b"".join(kept))
        result.append(out / path.name)
    return result, left_out


def _field(line: bytes, column: int) -> str | None:
    """Field `column` of one CSV line, stripped (None when the line has fewer fields)."""
    fields = next(csv.reader([line.decode("utf-8", "replace")]), [])
    return fields[column].strip() if len(fields) > column else None


def _facts(files: Sequence[Path]) -> list[Path]:
    return [p for p in files if p.name.startswith(f"{FACT.name}_")]


def _fact_csv(files: Sequence[Path], manifest: dict) -> tuple[int, int]:
    """(records, bytes) of the fact CSVs among `files`, records as the generator counted them."""
    facts = _facts(files)
    records = sum(manifest["files"][p.name]["rows"] for p in facts)
    return records, sum(p.stat().st_size for p in facts)


def _fresh_raw(base: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base / "raw", target / "raw")


def _reports(lake: Path) -> set[Path]:
    return {p for job in JOBS for p in (lake / "reports" / job).glob("*.json")}


def job_timings(lake: Path, skip: set[Path] = frozenset()) -> dict[str, dict[str, float]]:
    """Step timings from the run reports of one lake (those not in `skip`), summed per job."""
    out: dict[str, dict[str, float]] = {}
    for path in sorted(_reports(lake) - skip):
        job = path.parent.name
        for step, seconds in json.loads(path.read_text())["timings"].items():
            out.setdefault(job, {})[step] = round(out.get(job, {}).get(step, 0.0) + seconds, 3)
    return out


def _median_timings(per_run: Sequence[dict[str, dict[str, float]]]) -> dict:
    merged: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in per_run:
        for job, steps in run.items():
            for step, seconds in steps.items():
                merged[job][step].append(seconds)
    return {job: {s: _median(v) for s, v in steps.items()} for job, steps in merged.items()}


def analysis_month(days: int) -> tuple[date, date]:
    """A calendar month fully inside the loaded days, near the middle (or the first days)."""
    last_day = START + timedelta(days=days - 1)
    middle = START + timedelta(days=days // 2)
    for first in (middle.replace(day=1), START):
        month_end = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if first >= START and month_end <= last_day:
            return first, month_end
    return START, min(last_day, START + timedelta(days=30))


def time_queries(lake: Path, month: tuple[date, date], runs: int) -> list[dict[str, Any]]:
    """Each analysis, full range and one month: median seconds and what it read."""
    from athena import api, local, queries

    out = []
    api.run_analysis(queries.ANALYSES[0], lake=lake)  # warm-up: imports, first connection
    for name in queries.ANALYSES:
        for label, (start, end) in (("full", (None, None)), ("month", month)):
            seconds = []
            for _ in range(max(1, runs)):
                begin = time.perf_counter()
                api.run_analysis(name, start, end, lake=lake)
                seconds.append(time.perf_counter() - begin)
            stats = local.scan_stats(name, lake, start=start, end=end)
            out.append(
                {
                    "analysis": name,
                    "range": label,
                    "start": None if start is None else start.isoformat(),
                    "end": None if end is None else end.isoformat(),
                    "seconds": _median(seconds),
                    "files_read": stats.fact_files_read,
                    "files_total": stats.fact_files_total,
                    "bytes_read": stats.bytes_read,
                }
            )
    return out


def jvm_class_archive() -> str | None:
    """The class archive every measured JVM starts with (built first if missing), or None.

    Built before anything is measured, so that no measured run pays for building it; reported
    as the jobs' drivers will see it (switched off or left out under an agent: None).
    """
    from glue_jobs import class_archive
    from glue_jobs.local_fs import fast_local_fs_jar
    from glue_jobs.shell import LOCAL_SETTINGS

    jar = fast_local_fs_jar()
    class_archive.build(jar)
    archive = class_archive.archive_in_use(jar, LOCAL_SETTINGS["spark.driver.extraJavaOptions"])
    return None if archive is None else str(archive)


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure everything; returns the raw measurements `summarize` takes."""
    if config.rows < config.days:
        raise BenchError(f"--rows {config.rows} is fewer than one transaction per load day")
    work = config.work_dir
    logs = work / "logs"
    incoming = sources(config, log)
    archive = jvm_class_archive()
    first, extra = split_days(incoming, config.days)
    base = work / "base"
    shutil.rmtree(base, ignore_errors=True)
    _land(base, first)
    manifest = json.loads((incoming / MANIFEST).read_text())
    csv_rows, csv_bytes = _fact_csv(first, manifest)
    extra_rows, extra_bytes = _fact_csv(extra, manifest)
    measured: dict[str, list[dict]] = defaultdict(list)
    timings = []

    def record(name: str, value: Measured, index: int) -> None:
        measured[name].append(asdict(value))
        (work / "measurements.json").write_text(json.dumps(measured, indent=1))  # if we die
        log(
            f"  {name:22} {value.seconds:8.2f} s  peak RSS {_mib(value.peak_rss)}  "
            f"w/o forks {_mib(value.peak_memory)}  (run {index})"
        )

    lake = work / "lake"
    for index in range(1, config.runs + 1):
        log(f"run {index}/{config.runs}")
        record("spark_startup", measure(SPARK_STARTUP, logs / f"startup-{index}.log"), index)
        _fresh_raw(base, lake)
        for job in JOBS:
            record(job, measure(job_command(lake, job), logs / f"{job}-{index}.log"), index)
        timings.append(job_timings(lake))
        reference = work / "reference"
        _fresh_raw(base, reference)
        for step in REFERENCE_STEPS:
            command = reference_command(step, reference / "raw", reference)
            record(f"duckdb_{step}", measure(command, logs / f"duckdb-{step}-{index}.log"), index)
    zones = {
        "pipeline": lake_zone_stats(lake),
        "duckdb": lake_zone_stats(work / "reference", ("processed", "curated")),
    }
    month = analysis_month(config.days)
    log(f"queries: full range and {month[0]}..{month[1]}")
    query_results = time_queries(lake, month, config.runs)

    def time_one_day(name: str, files: Sequence[Path]) -> dict:
        """`name`: `files` landed on a copy of the full-run lake, both jobs run, `--runs` times;
        the median step timings of those runs."""
        day_lake, per_run = work / "incremental", []
        for index in range(1, config.runs + 1):
            shutil.rmtree(day_lake, ignore_errors=True)
            shutil.copytree(lake, day_lake, symlinks=True)  # curated tables are links
            _land(day_lake, files)
            full_run = _reports(day_lake)
            log_file = logs / f"{name.replace('_', '-')}-{index}.log"
            record(name, measure(job_command(day_lake, "all"), log_file), index)
            per_run.append(job_timings(day_lake, full_run))
        shutil.rmtree(day_lake, ignore_errors=True)
        return _median_timings(per_run)

    incremental_timings = time_one_day("incremental", extra)
    floor_files, left_out = without_corrections(extra, lake, work / "no-corrections")
    floor_timings = time_one_day("incremental_no_corrections", floor_files)
    return {
        "rows": config.rows,
        "days": config.days,
        "runs": config.runs,
        "seed": config.seed,
        "csv_rows": csv_rows,
        "csv_bytes": csv_bytes,
        "incremental_rows": extra_rows,
        "incremental_csv_bytes": extra_bytes,
        "incremental_no_corrections_rows": extra_rows - left_out,
        "incremental_no_corrections_csv_bytes": sum(p.stat().st_size for p in _facts(floor_files)),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spark_master": os.environ.get("ENERGY_LAKE_SPARK_MASTER", "local[*]"),
        "driver_memory": os.environ.get("ENERGY_LAKE_DRIVER_MEMORY", "3g"),
        "jvm_class_archive": archive,
        "work_dir": str(work),
        "month": {"start": month[0].isoformat(), "end": month[1].isoformat()},
        "zones": zones,
        "queries": query_results,
        "job_timings": _median_timings(timings),
        "incremental_job_timings": incremental_timings,
        "incremental_no_corrections_job_timings": floor_timings,
        "measured": dict(measured),
    }


def write_result(result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{result['rows']}.json"
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return path


# -- CLI ---------------------------------------------------------------------------------------
def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def bench_command(args: argparse.Namespace) -> int:
    config = BenchConfig(
        rows=args.rows, runs=args.runs, days=args.days, out=args.out, work=args.work
    )
    try:
        raw = run_bench(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    except BenchError as error:
        print(f"energy-lake bench: {error}", file=sys.stderr)
        return 1
    result = summarize(raw)
    print(render(result))
    print(f"results: {write_result(result, args.out)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `bench` to a console script's subcommands."""
    bench = subparsers.add_parser(
        "bench",
        help="benchmark the pipeline against a DuckDB reference",
        description="Generate N transactions, run the pipeline and a DuckDB reference on the "
        "same files as child processes (median of --runs), count files per zone, time the "
        "analyses and a one-day incremental run (with and without its corrections); print a "
        "table and write JSON.",
    )
    bench.add_argument("--rows", type=_positive, required=True, help="transactions to generate")
    bench.add_argument("--runs", type=_positive, default=3, help="runs per measurement (median)")
    bench.add_argument("--days", type=_positive, default=730, help="load days (one file each)")
    bench.add_argument("--out", type=Path, default=Path("bench-results"), help="JSON folder")
    bench.add_argument(
        "--work", type=Path, help="work folder for sources and lakes (default .lake/bench-<rows>)"
    )
    bench.set_defaults(func=bench_command)
