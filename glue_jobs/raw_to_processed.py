"""Glue job raw_to_processed: raw CSV loads -> typed Parquet (processed) + quarantine (rejected).

For every dataset: find the loads not processed yet (or the one given by --load), check each
file's header (a file that cannot be read as its dataset is quarantined whole), parse the rest
in one pass, apply the contract, write valid rows to processed and failing rows to rejected,
check that rows read = processed + rejected per load, and mark the load processed.
"""

from __future__ import annotations

import json
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
from energy_lake.layout import join
from energy_lake.storage import Store, store_for
from glue_jobs.lock import lake_lock
from glue_jobs.report import RunReport
from glue_jobs.shell import parse_job_arguments, spark_session
from glue_jobs.sources import (
    FileRejected,
    Load,
    RawFile,
    marker_uri,
    pending_loads,
    raw_loads,
    read_header,
)
from glue_jobs.tables import processed_schema, read_loads, struct
from glue_jobs.transforms import validate as v

JOB = "raw_to_processed"
REJECTED_FILES = "_files"
MAX_FIELDS = 1 << 15


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


def _write(frame: DataFrame, path: str, partitions: Sequence[str], shuffle: bool) -> None:
    """One file per partition per run, rewriting only the partitions of this run's loads.

    Every partition path ends in the load column, and a file is read whole by one task
    (multiLine), so a load that is one file already reaches the writer in one task: no
    shuffle. Loads of several files are first gathered into one task per load.
    """
    if shuffle:
        frame = frame.repartition(F.col(contract.LOAD_COLUMN))
    (
        frame.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*partitions)
        .parquet(path)
    )


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


def _rows_in(
    spark: SparkSession, path: str, schema, above_load: tuple[str, ...], days: list[str]
) -> dict[str, int]:
    """Rows per load actually on disk for this run's loads (Parquet footers: cheap)."""
    try:
        frame = read_loads(spark, path, schema, above_load, days)
    except AnalysisException as error:
        if "PATH_NOT_FOUND" not in str(error):
            raise
        return {}  # a load expected to hold rows holds none: the conservation check says so
    counted = frame.groupBy(F.col(contract.LOAD_COLUMN).cast("string").alias("d")).count()
    return {row["d"]: row["count"] for row in counted.collect()}


def process_dataset(spark, args, ds: contract.Dataset, loads: list[Load], report: RunReport):
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
    if headers:
        _process_rows(spark, args, ds, loads, headers, summary, report)
    for load in loads:
        marker = {
            "dataset": ds.name,
            "ingest_date": load.ingest_date,
            "files": load.fingerprint(),
            "run_id": report.run_id,
            **{k: summary["loads"][load.ingest_date][k] for k in ("rows_read", "rows_processed")},
        }
        uri = marker_uri(args.lake.processed, load)
        store_for(uri).write_bytes(uri, json.dumps(marker, sort_keys=True).encode())


def _process_rows(spark, args, ds, loads, headers, summary, report: RunReport) -> None:
    ingested_at = F.lit(datetime.now(UTC).replace(tzinfo=None)).cast("timestamp")
    with report.timed(f"{ds.name}.parse_validate"):
        checked = _compact(v.check_rows(read_raw(spark, headers, ds), ds), ds).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        counts = v.outcome_counts(checked).collect()
    first_ids: dict[str, int] = {}
    by_day = {load.ingest_date: summary["loads"][load.ingest_date] for load in loads}
    for row in counts:
        first_ids[row["path"]] = min(first_ids.get(row["path"], row["first_id"]), row["first_id"])
        day = _day_of(row["path"])
        entry = by_day[day]
        entry["rows_read"] += row["rows"]
        if row["reason"] is None:
            entry["rows_processed"] += row["rows"]
            if row["warning"]:
                entry["warnings"][row["warning"]] = (
                    entry["warnings"].get(row["warning"], 0) + row["rows"]
                )
        else:
            key = row["reason"] if row["column"] is None else f"{row['reason']}:{row['column']}"
            entry["rows_rejected"] += row["rows"]
            entry["rejections"][key] = entry["rejections"].get(key, 0) + row["rows"]
    # Row number in its file = record id - the file's first id + 1 (ids are contiguous within
    # a file); the per-file first ids join in as a broadcast table.
    offsets = spark.range(1).select(
        F.inline(
            F.array(
                *[
                    F.struct(F.lit(path).alias(v.SOURCE_PATH), F.lit(first).alias("_first_id"))
                    for path, first in first_ids.items()
                ]
            )
        )
    )
    numbered = checked.join(F.broadcast(offsets), v.SOURCE_PATH)
    source_row = F.col(v.RECORD_ID) - F.col("_first_id") + F.lit(1)
    files_per_load = Counter(_day_of(path) for path in headers)
    gather = max(files_per_load.values()) > 1
    with report.timed(f"{ds.name}.write_processed"):
        valid = v.valid_rows(numbered, ds, source_row, ingested_at)
        _write(valid, join(args.lake.processed, ds.name), ds.processed_partition_columns, gather)
    with report.timed(f"{ds.name}.write_rejected"):
        rejected = v.rejected_rows(numbered, ds, source_row, ingested_at)
        _write(rejected, join(args.lake.rejected, ds.name), (contract.LOAD_COLUMN,), gather)
    checked.unpersist()
    with report.timed(f"{ds.name}.check_conservation"):
        written = _rows_in(
            spark,
            join(args.lake.processed, ds.name),
            processed_schema(ds),
            ds.partition_columns,
            [day for day, entry in by_day.items() if entry["rows_processed"]],
        )
        quarantined = _rows_in(
            spark,
            join(args.lake.rejected, ds.name),
            struct(v.REJECTED_COLUMNS),
            (),
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


def loads_to_process(args, ds: contract.Dataset) -> list[Load]:
    store = store_for(args.lake.raw)
    if args.load:
        name, _, day = args.load.partition("/")
        if name != ds.name:
            return []
        loads = [
            load for load in raw_loads(store, args.lake.raw, ds.name) if load.ingest_date == day
        ]
        if not loads:
            raise SystemExit(f"--load {args.load}: no raw files under {ds.name}/ingest_date={day}")
        return loads
    return pending_loads(store, args.lake.raw, args.lake.processed, ds.name)


def run(argv: Sequence[str]) -> RunReport:
    args = parse_job_arguments(argv, __doc__ or JOB)
    report = RunReport(JOB)
    try:
        with lake_lock(args.lake, JOB, report.run_id) as lock:
            report.lock = lock.describe()
            spark = spark_session(JOB)
            for name in args.datasets:
                ds = contract.dataset(name)
                loads = loads_to_process(args, ds)
                if not loads:
                    report.datasets[name] = {"loads": {}, "files_rejected": [], "up_to_date": True}
                    continue
                with report.timed(f"{name}.total"):
                    process_dataset(spark, args, ds, loads, report)
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
