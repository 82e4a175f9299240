"""Glue job raw_to_processed: raw CSV loads -> typed Parquet (processed) + quarantine (rejected).

For every dataset: find the loads not processed yet (or the one given by --load), check each
file's header (a file that cannot be read as its dataset is quarantined whole), parse the rest
in one pass, apply the contract, write valid rows to processed and failing rows to rejected,
check that rows read = processed + rejected per load, and mark the load processed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from energy_lake import contract
from energy_lake.layout import event_partition_path, join
from energy_lake.storage import Store, store_for
from glue_jobs.lock import lake_lock
from glue_jobs.report import RunReport
from glue_jobs.shell import parse_job_arguments, spark_session
from glue_jobs.sources import (
    FileRejected,
    Load,
    ProcessedState,
    RawFile,
    intent_uri,
    marker_uri,
    pending_loads,
    raw_loads,
    read_header,
)
from glue_jobs.tables import (
    day_number,
    event_days_in,
    literal_rows,
    load_versions,
    parquet_writer,
    processed_schema,
    read_fact_days,
    read_loads,
    struct,
)
from glue_jobs.transforms import validate as v

JOB = "raw_to_processed"
REJECTED_FILES = "_files"
MAX_FIELDS = 1 << 15
# A processed fact day gets one new file per run that touches it; on its next touch a day
# with this many files, or holding this much data (so that a new file would be a small file in
# a big partition), is rewritten as one file instead.
COMPACT_AT_FILES = 8
SMALL_PARTITION_BYTES = 1 << 20


class ConservationError(RuntimeError):
    """Rows read != rows processed + rows rejected: the job refuses to mark the load done."""


def read_raw(spark: SparkSession, files: dict[str, tuple[str, ...]], ds: contract.Dataset):
    """All files of one dataset in one pass: contract columns as strings + reader columns.

    Files are grouped by header so each group is read with its own column order; multiLine keeps
    a file in one task, which makes record ids contiguous within a file (-> row numbers).
    """
    by_header: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for uri, columns in files.items():
        by_header[columns].append(uri)
    frames: list[DataFrame] = []
    for columns, uris in by_header.items():
        schema = T.StructType(
            [T.StructField(n, T.StringType()) for n in (*columns, v.CORRUPT_RECORD)]
        )
        frame = (
            spark.read.schema(schema)
            .option("header", "true")
            .option("multiLine", "true")
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", v.CORRUPT_RECORD)
            .option("quote", '"')
            .option("escape", '"')
            .option("encoding", "UTF-8")
            # A row far wider than the header is a malformed_row, not a failed job (the
            # parser's default limit of 20480 fields aborts the whole read). The parser
            # allocates this many slots per file, so it stays bounded: a row wider still fails
            # the read with Spark naming the file.
            .option("maxColumns", str(MAX_FIELDS))
            .option("ignoreLeadingWhiteSpace", "false")
            .option("ignoreTrailingWhiteSpace", "false")
            .csv(uris)
        )
        frames.append(
            frame.select(
                *[
                    (F.col(n) if n in columns else F.lit(None).cast("string")).alias(n)
                    for n in ds.source_header
                ],
                F.col(v.CORRUPT_RECORD),
                F.input_file_name().alias(v.SOURCE_PATH),
                F.monotonically_increasing_id().alias(v.RECORD_ID),
            )
        )
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _quarantine_file(store: Store, rejected_root: str, load: Load, raw: RawFile) -> str:
    target = join(
        rejected_root, REJECTED_FILES, load.dataset, f"ingest_date={load.ingest_date}", raw.name
    )
    store_for(target).write_bytes(target, store.read_bytes(raw.uri))
    return target


def _write(
    frame: DataFrame,
    path: str,
    partitions: Sequence[str],
    shuffle: bool,
    ds: contract.Dataset | None = None,
) -> None:
    """One file per partition, replacing only the partitions written (dynamic overwrite); with
    `ds`, in the dataset's Parquet encodings (`parquet_writer`).

    For tables partitioned by load: a file is read whole by one task (multiLine), so a load
    that is one file already reaches the writer in one task and needs no `shuffle`; otherwise
    the rows are first gathered into one task per partition.
    """
    if shuffle:
        frame = frame.repartition(*partitions)
    (
        (frame.write if ds is None else parquet_writer(frame, ds))
        .mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*partitions)
        .parquet(path)
    )


def write_fact_days(spark, args, ds: contract.Dataset, new_rows: DataFrame, plan: dict) -> None:
    """Add this run's rows to the event days they fall in: appended as one new file per day,
    or, for the days `plan` rewrites, merged with the rows other loads keep there into one file.
    Days only the old versions of this run's loads held are deleted.

    `plan` (from `plan_fact_rewrite`) is written as the dataset's intent first, so that a run
    that dies halfway is repaired by the next one (`sources.loads_to_repair`).
    """
    if not plan["intent"]["days"]:
        return
    root = join(args.lake.processed, ds.name)
    uri = intent_uri(args.lake.processed, ds.name)
    store_for(uri).write_bytes(uri, json.dumps(plan["intent"], sort_keys=True).encode())
    partitions = ds.processed_partition_columns
    if plan["rewrite"]:
        kept = read_fact_days(spark, root, ds, plan["rewrite"]).join(
            F.broadcast(load_versions(spark, plan["kept_markers"])),
            [contract.LOAD_COLUMN, contract.INGESTED_AT],
            "left_semi",
        )
        days = event_days_in(ds, (day_number(d) for d in plan["rewrite"]))
        merged = new_rows.where(days).unionByName(kept.select(*new_rows.columns))
        _write(merged, root, partitions, shuffle=True, ds=ds)
    if plan["append"]:
        fresh = new_rows
        if plan["rewrite"]:
            fresh = new_rows.where(event_days_in(ds, (day_number(d) for d in plan["append"])))
        writer = parquet_writer(fresh.repartition(*partitions), ds)
        writer.mode("append").partitionBy(*partitions).parquet(root)
    store = store_for(root)
    for day in plan["emptied"]:
        year, month, dd = (int(part) for part in day.split("-"))
        store.delete_prefix(join(root, event_partition_path(year, month, dd)))


def plan_fact_rewrite(
    args, ds: contract.Dataset, run_id: str, event_days: dict, state: ProcessedState
) -> dict:
    """Which event days a fact run appends to, which it rewrites (keeping which load versions),
    which it empties.

    A day is rewritten when it may hold rows to drop — old versions of this run's loads, rows of
    a run that died — or when another appended file would make it crowded (COMPACT_AT_FILES
    files, or a small file in a partition already over SMALL_PARTITION_BYTES); otherwise the
    run's rows for it are appended as one new file. The markers are the truth: readers take
    only the load versions they name, so whatever else a day holds is never read, and is gone
    from every day rewritten.
    """
    markers, intent = state.markers, state.intent
    ours = set(event_days)  # load -> {event day: rows}
    touched = {day for days in event_days.values() for day in days}
    stale = {day for load in ours & set(markers) for day in markers[load].get("days", {})}
    stale |= set(intent["days"]) if intent else set()
    kept_markers = {load: m for load, m in markers.items() if load not in ours}
    kept_days = {day for marker in kept_markers.values() for day in marker.get("days", {})}
    held = day_files(store_for(args.lake.processed), join(args.lake.processed, ds.name))
    crowded = set()
    for day in touched:
        files, size = held.get(day, (0, 0))
        if files >= COMPACT_AT_FILES or size >= SMALL_PARTITION_BYTES:
            crowded.add(day)
    rewrite = stale | crowded
    return {
        "intent": {"run_id": run_id, "loads": sorted(ours), "days": sorted(touched | stale)},
        "kept_markers": kept_markers,
        "rewrite": sorted(rewrite),
        "append": sorted(touched - rewrite),
        "emptied": sorted(stale - touched - kept_days),
    }


_DAY_FILE = re.compile(r"^/year=(\d+)/month=(\d+)/day=(\d+)/[^/._][^/]*\.parquet$")


def day_files(store: Store, root: str) -> dict[str, tuple[int, int]]:
    """Event day (`YYYY-MM-DD`) -> (data files, bytes) of a fact table (one listing)."""
    held: dict[str, tuple[int, int]] = {}
    for obj in store.list(root):
        match = _DAY_FILE.match(obj.uri[len(root.rstrip("/")) :])
        if match:
            day = "{:04d}-{:02d}-{:02d}".format(*(int(g) for g in match.groups()))
            files, size = held.get(day, (0, 0))
            held[day] = (files + 1, size + obj.size)
    return held


def _compact(checked: DataFrame, ds: contract.Dataset) -> DataFrame:
    """What the writes and the report need, and no more: this is the frame kept in memory."""
    rejected = F.size(F.col(v.ERRORS)) > 0
    return checked.select(
        *ds.source_header,
        v.ERRORS,
        v.WARNING,
        v.CORRUPT_RECORD,
        v.RECORD_ID,
        v.SOURCE_PATH,
        F.when(rejected, F.col(v.RAW_VALUES)).alias(v.RAW_VALUES),
    )


def _rows_in(spark: SparkSession, path: str, schema, days: list[str]) -> dict[str, int]:
    """Rows per load on disk for this run's loads of a table partitioned by load (footers)."""
    try:
        frame = read_loads(spark, path, schema, days)
    except AnalysisException as error:
        if "PATH_NOT_FOUND" not in str(error):
            raise
        return {}  # a load expected to hold rows holds none: the conservation check says so
    return _per_load(frame)


def _fact_rows_in(spark, path: str, ds: contract.Dataset, ingested: datetime, days) -> dict:
    """Rows per load this run wrote to the event days it touched (two small columns read)."""
    frame = read_fact_days(spark, path, ds, days)
    return _per_load(frame.where(F.col(contract.INGESTED_AT) == F.lit(ingested)))


def _per_load(frame: DataFrame) -> dict[str, int]:
    counted = frame.groupBy(F.col(contract.LOAD_COLUMN).cast("string").alias("d")).count()
    return {row["d"]: row["count"] for row in counted.collect()}


def process_dataset(
    spark, args, ds: contract.Dataset, loads: list[Load], state: ProcessedState, report: RunReport
):
    store = store_for(args.lake.raw)
    summary = report.datasets.setdefault(ds.name, {"loads": {}, "files_rejected": []})
    headers: dict[str, tuple[str, ...]] = {}
    for load in loads:
        summary["loads"][load.ingest_date] = {
            "files": [f.name for f in load.files],
            "rows_read": 0,
            "rows_processed": 0,
            "rows_rejected": 0,
            "rejections": {},
            "warnings": {},
        }
        for raw in load.files:
            try:
                header = read_header(store, raw, ds)
            except FileRejected as rejection:
                summary["files_rejected"].append(
                    {
                        "file": raw.name,
                        "load": load.ingest_date,
                        "reason": rejection.reason,
                        "message": str(rejection),
                        "quarantined_to": _quarantine_file(store, args.lake.rejected, load, raw),
                    }
                )
                print(f"REJECTED FILE {raw.uri}: {rejection}", file=sys.stderr)
                continue
            headers[raw.uri] = header.columns
            if header.unknown:
                summary.setdefault("unknown_columns", {})[raw.name] = list(header.unknown)
    # One value per run, timezone-aware so Spark stores this instant whatever the local zone.
    ingested = datetime.now(UTC)
    event_days: dict[str, Counter] = {load.ingest_date: Counter() for load in loads}
    if headers:
        _process_rows(spark, args, ds, headers, summary, event_days, ingested, state, report)
    elif ds.partition_columns:  # every file quarantined: the loads' old versions still go
        with report.timed(f"{ds.name}.write_processed"):
            _write_facts(spark, args, ds, None, event_days, state, report.run_id)
    for load in loads:
        marker = {
            "dataset": ds.name,
            "ingest_date": load.ingest_date,
            "files": load.fingerprint(),
            "run_id": report.run_id,
            contract.INGESTED_AT: ingested.isoformat(),
            "days": dict(sorted(event_days[load.ingest_date].items())),
            **{k: summary["loads"][load.ingest_date][k] for k in ("rows_read", "rows_processed")},
        }
        uri = marker_uri(args.lake.processed, load)
        store_for(uri).write_bytes(uri, json.dumps(marker, sort_keys=True).encode())
    intent = intent_uri(args.lake.processed, ds.name)
    if store_for(intent).exists(intent):
        store_for(intent).delete(intent)  # every load it named is marked: the rewrite is done


def _write_facts(spark, args, ds, valid: DataFrame | None, event_days, state, run_id) -> None:
    plan = plan_fact_rewrite(args, ds, run_id, event_days, state)
    if valid is None:
        valid = spark.createDataFrame([], processed_schema(ds))
    write_fact_days(spark, args, ds, valid, plan)


def _process_rows(
    spark, args, ds, headers, summary, event_days, ingested: datetime, state, report: RunReport
) -> None:
    ingested_at = F.lit(ingested)
    with report.timed(f"{ds.name}.parse_validate"):
        checked = _compact(v.check_rows(read_raw(spark, headers, ds), ds), ds).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        counts = v.outcome_counts(checked, ds).collect()
    first_ids: dict[str, int] = {}
    by_day = summary["loads"]
    for row in counts:
        first_ids[row["path"]] = min(first_ids.get(row["path"], row["first_id"]), row["first_id"])
        day = _day_of(row["path"])
        entry = by_day[day]
        entry["rows_read"] += row["rows"]
        if row["reason"] is None:
            entry["rows_processed"] += row["rows"]
            if row["event_day"] is not None:
                event_days[day][row["event_day"]] += row["rows"]
            if row["warning"]:
                entry["warnings"][row["warning"]] = (
                    entry["warnings"].get(row["warning"], 0) + row["rows"]
                )
        else:
            key = row["reason"] if row["column"] is None else f"{row['reason']}:{row['column']}"
            entry["rows_rejected"] += row["rows"]
            entry["rejections"][key] = entry["rejections"].get(key, 0) + row["rows"]
    # Per file, joined in as a broadcast table: its load date, its name, and its first record
    # id (row number in the file = record id - first id + 1: ids are contiguous in a file).
    files = literal_rows(
        spark,
        [
            {
                v.SOURCE_PATH: path,
                "_first_id": first,
                "_load": _day_of(path),
                "_file": path.rsplit("/", 1)[-1],
            }
            for path, first in first_ids.items()
        ],
        f"{v.SOURCE_PATH} string, _first_id bigint, _load date, _file string",
    )
    numbered = checked.join(F.broadcast(files), v.SOURCE_PATH)
    source = v.Source(
        F.col("_load"), F.col("_file"), F.col(v.RECORD_ID) - F.col("_first_id") + F.lit(1)
    )
    files_per_load = Counter(_day_of(path) for path in headers)
    gather = max(files_per_load.values()) > 1
    processed = join(args.lake.processed, ds.name)
    with report.timed(f"{ds.name}.write_processed"):
        valid = v.valid_rows(numbered, ds, source, ingested_at)
        if ds.partition_columns:
            _write_facts(spark, args, ds, valid, event_days, state, report.run_id)
        else:
            _write(valid, processed, ds.processed_partition_columns, gather, ds)
    with report.timed(f"{ds.name}.write_rejected"):
        rejected = v.rejected_rows(numbered, ds, source, ingested_at)
        _write(rejected, join(args.lake.rejected, ds.name), (contract.LOAD_COLUMN,), gather)
    checked.unpersist()
    with report.timed(f"{ds.name}.check_conservation"):
        if ds.partition_columns:
            touched = {d for days in event_days.values() for d in days}
            written = _fact_rows_in(spark, processed, ds, ingested, sorted(touched))
        else:
            written = _rows_in(
                spark,
                processed,
                processed_schema(ds),
                [day for day, entry in by_day.items() if entry["rows_processed"]],
            )
        quarantined = _rows_in(
            spark,
            join(args.lake.rejected, ds.name),
            struct(v.REJECTED_COLUMNS),
            [day for day, entry in by_day.items() if entry["rows_rejected"]],
        )
    for day, entry in by_day.items():
        entry["conserved"] = (
            entry["rows_read"]
            == written.get(day, 0) + quarantined.get(day, 0)
            == entry["rows_processed"] + entry["rows_rejected"]
        )
        if not entry["conserved"]:
            raise ConservationError(
                f"{ds.name} load {day}: read {entry['rows_read']} rows but processed holds "
                f"{written.get(day, 0)} and rejected {quarantined.get(day, 0)}"
            )


def _day_of(path: str) -> str:
    marker = "ingest_date="
    start = path.index(marker) + len(marker)
    return path[start : start + 10]


def loads_to_process(args, ds: contract.Dataset, state: ProcessedState) -> list[Load]:
    store = store_for(args.lake.raw)
    if args.load:
        name, _, day = args.load.partition("/")
        if name != ds.name:
            return []
        repair = state.to_repair
        loads = [
            load
            for load in raw_loads(store, args.lake.raw, ds.name)
            if load.ingest_date == day or load.ingest_date in repair
        ]
        if day not in {load.ingest_date for load in loads}:
            raise SystemExit(f"--load {args.load}: no raw files under {ds.name}/ingest_date={day}")
        return loads
    return pending_loads(store, args.lake.raw, ds.name, state)


def run(argv: Sequence[str]) -> RunReport:
    args = parse_job_arguments(argv, __doc__ or JOB)
    report = RunReport(JOB)
    try:
        with lake_lock(args.lake, JOB, report.run_id) as lock:
            report.lock = lock.describe()
            spark = spark_session(JOB)
            for name in args.datasets:
                ds = contract.dataset(name)
                state = ProcessedState.read(
                    store_for(args.lake.processed), args.lake.processed, name
                )
                loads = loads_to_process(args, ds, state)
                if not loads:
                    report.datasets[name] = {"loads": {}, "files_rejected": [], "up_to_date": True}
                    continue
                with report.timed(f"{name}.total"):
                    process_dataset(spark, args, ds, loads, state, report)
        rejected_files = sum(len(d["files_rejected"]) for d in report.datasets.values())
        report.finish("succeeded_with_rejected_files" if rejected_files else "succeeded")
    except Exception as error:
        report.problems.append(f"{type(error).__name__}: {error}")
        report.finish("failed")
        raise
    finally:
        report.report_uri = report.write(args.lake.reports)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    run(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
