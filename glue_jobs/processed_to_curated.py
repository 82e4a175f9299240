"""Glue job processed_to_curated: one row per business key, the latest version wins.

Dimensions are a current snapshot: the new loads are merged into it (the snapshot carries the
lineage the versions are ranked by). Facts are merged incrementally: only the event-day
partitions a new load touches are rewritten, including the old partitions of keys the load
corrects, so a run costs in proportion to the load, not to the lake. `--full-rebuild true`
recomputes everything from processed; both give the same rows. A run with no new processed load
writes nothing. Only loads whose processed marker exists (fully written and count-checked) are
ever read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from energy_lake import contract
from energy_lake.layout import event_partition_path, join
from energy_lake.storage import store_for
from glue_jobs import publish
from glue_jobs.lock import lake_lock
from glue_jobs.report import RunReport
from glue_jobs.shell import parse_job_arguments, spark_session
from glue_jobs.sources import processed_loads
from glue_jobs.tables import (
    curated_schema,
    event_day_number,
    event_days_in,
    parquet_writer,
    processed_schema,
    read_fact_loads,
    read_loads,
    read_table,
)
from glue_jobs.transforms import curate

JOB = "processed_to_curated"
STATE = "_state"


def _state_uri(curated_root: str, dataset: str) -> str:
    return join(curated_root, STATE, f"{dataset}.json")


def curated_state(curated_root: str, dataset: str) -> dict[str, str]:
    """ingest_date -> run id of the processed load merged into curated."""
    uri = _state_uri(curated_root, dataset)
    store = store_for(uri)
    return json.loads(store.read_bytes(uri))["loads"] if store.exists(uri) else {}


def _write_state(curated_root: str, dataset: str, loads: dict[str, str]) -> None:
    uri = _state_uri(curated_root, dataset)
    body = json.dumps({"dataset": dataset, "loads": loads}, indent=1, sort_keys=True)
    store_for(uri).write_bytes(uri, body.encode())


def curated_columns(ds: contract.Dataset) -> list[str]:
    return [n for n, _ in ds.curated_columns] + list(ds.partition_columns)


def read_processed(spark: SparkSession, args, ds: contract.Dataset, markers: dict[str, dict]):
    """The processed rows of the loads whose markers are given (their marked versions)."""
    root = join(args.lake.processed, ds.name)
    if ds.partition_columns:
        return read_fact_loads(spark, root, ds, markers)
    return read_loads(spark, root, processed_schema(ds), sorted(markers))


def _day_folder(day: int) -> str:
    return event_partition_path(day // 10000, day // 100 % 100, day % 100)


def _dedupe(rows: DataFrame, ds: contract.Dataset, summary: dict) -> DataFrame:
    ranked = curate.rank_versions(rows, ds).persist(StorageLevel.MEMORY_AND_DISK)
    for row in curate.dedupe_counts(ranked).collect():
        summary[row["outcome"]] = summary.get(row["outcome"], 0) + row["count"]
    return curate.latest_versions(ranked, curated_columns(ds))


def _write(
    frame: DataFrame, path: str, ds: contract.Dataset, mode: str, overwrite: str = "dynamic"
) -> None:
    """One file per partition (one file for a dimension)."""
    partitions = list(ds.partition_columns)
    shaped = frame.repartition(*partitions) if partitions else frame.coalesce(1)
    writer = parquet_writer(shaped, ds).mode(mode).option("partitionOverwriteMode", overwrite)
    (writer.partitionBy(*partitions) if partitions else writer).parquet(path)


def rebuild(spark, args, ds, loads: dict[str, dict], report: RunReport, summary: dict) -> None:
    summary["mode"] = "full"
    version = publish.begin(args.lake.curated, ds.name, report.run_id)
    # A fresh version folder locally; on S3 the whole table is replaced (static overwrite), so
    # partitions no longer present go too.
    overwrite = "dynamic" if version.versioned else "static"
    if ds.partition_columns:
        _rebuild_facts(spark, args, ds, loads, report, summary, version.target, overwrite)
    else:
        with report.timed(f"{ds.name}.rank_versions"):
            merged = _dedupe(read_processed(spark, args, ds, loads), ds, summary)
        with report.timed(f"{ds.name}.write"):
            _write(merged, version.target, ds, "overwrite", overwrite)
    publish.publish(version)


def _rebuild_facts(spark, args, ds, loads, report, summary, target: str, overwrite: str) -> None:
    """Dedupe a whole fact table with one shuffle of its rows, by event day.

    The versions that lose to a version in another day (a correction moved the event) are found
    first from the key and day columns and dropped; every key's remaining versions then sit in
    one day, so the window runs per day, in the shuffle that gives each day its one file. The
    report's counts are observed while the rows are written (the observation sits after the
    shuffle, in the write's result stage, where a retried task's counts are not added twice).
    """
    rows = read_processed(spark, args, ds, loads)
    with report.timed(f"{ds.name}.find_displaced_versions"):
        displaced = curate.displaced_versions(rows, ds, event_day_number(ds))
        displaced = displaced.persist(StorageLevel.MEMORY_AND_DISK)
        moved = displaced.count()
    with report.timed(f"{ds.name}.rank_and_write"):
        observation = Observation(f"{ds.name}_dedupe")
        ranked = curate.rank_within_days(rows, ds, displaced).observe(
            observation, *curate.dedupe_metrics()
        )
        (
            parquet_writer(curate.latest_versions(ranked, curated_columns(ds)), ds)
            .mode("overwrite")
            .option("partitionOverwriteMode", overwrite)
            .partitionBy(*ds.partition_columns)
            .parquet(target)
        )
    counts = {name: int(value or 0) for name, value in observation.get.items()}
    counts["superseded"] += moved
    for outcome, count in counts.items():
        summary[outcome] = summary.get(outcome, 0) + count
    displaced.unpersist()


def merge_dimension_loads(spark, args, ds, new: dict[str, dict], run_id: str, summary) -> None:
    """The current snapshot merged with the new loads only (it carries the lineage to rank by)."""
    summary["mode"] = "incremental"
    current = read_table(spark, join(args.lake.curated, ds.name), curated_schema(ds))
    new_rows = read_processed(spark, args, ds, new).select(*curated_columns(ds))
    merged = _dedupe(current.unionByName(new_rows), ds, summary)
    merged = merged.persist(StorageLevel.MEMORY_AND_DISK)
    merged.count()  # materialised: on S3 the table is rewritten in place
    version = publish.begin(args.lake.curated, ds.name, run_id)
    _write(merged, version.target, ds, "overwrite", "dynamic" if version.versioned else "static")
    publish.publish(version)
    merged.unpersist()


def merge_fact_loads(spark, args, ds, new: dict[str, dict], report: RunReport, summary) -> None:
    """Rewrite only the day partitions that the new loads' keys land in or leave."""
    key = ds.business_key
    with report.timed(f"{ds.name}.find_touched_days"):
        new_rows = read_processed(spark, args, ds, new).select(*curated_columns(ds))
        new_rows = new_rows.persist(StorageLevel.MEMORY_AND_DISK)
        current = read_table(spark, join(args.lake.curated, ds.name), curated_schema(ds))
        # Where the new keys' current versions live: one scan of the key and day columns,
        # semi-joined with the (small, broadcast) new keys.
        touched = (
            current.select(key, event_day_number(ds).alias("_day"))
            .join(F.broadcast(new_rows.select(key).distinct()), key, "left_semi")
            .select("_day")
            .union(new_rows.select(event_day_number(ds).alias("_day")))
            .distinct()
        )
        days = sorted(row["_day"] for row in touched.collect())
    summary.update(mode="incremental", partitions_rewritten=len(days))
    if not days:
        return
    with report.timed(f"{ds.name}.merge"):
        old_rows = current.where(event_days_in(ds, days)).select(*curated_columns(ds))
        # Most rows of those days are not contested by the new loads: they are rewritten as they
        # are (a broadcast anti-join); only the new keys' versions go through the window.
        new_keys = F.broadcast(new_rows.select(key).distinct())
        contested = old_rows.join(new_keys, key, "left_semi")
        untouched = old_rows.join(new_keys, key, "left_anti")
        winners = _dedupe(contested.unionByName(new_rows), ds, summary).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        day = event_day_number(ds).alias("_day")
        # Rows per rewritten day; for the untouched rows only the key and partitions are read.
        per_day = untouched.groupBy(day).count().union(winners.groupBy(day).count()).collect()
        merged = winners.unionByName(untouched)
    summary["rows_written"] = sum(row["count"] for row in per_day)  # whole days rewritten
    emptied = sorted(set(days) - {row["_day"] for row in per_day})  # all its rows moved away
    summary["partitions_emptied"] = len(emptied)
    version = publish.begin(args.lake.curated, ds.name, report.run_id)
    with report.timed(f"{ds.name}.write_and_publish"):
        if version.versioned:
            rewritten = {_day_folder(day) for day in days}
            publish.carry_over(version, lambda folder: folder not in rewritten)
            _write(merged, version.target, ds, "append")
        else:
            _write(merged, version.target, ds, "overwrite")
            store = store_for(version.target)
            for day in emptied:
                store.delete_prefix(join(version.target, _day_folder(day)))
        publish.publish(version)
    new_rows.unpersist()
    winners.unpersist()


def count_orphans(spark: SparkSession, args, report: RunReport) -> None:
    for fact in contract.FACTS:
        facts = read_table(spark, join(args.lake.curated, fact.name), curated_schema(fact))
        dims = {
            name: read_table(
                spark, join(args.lake.curated, name), curated_schema(contract.dataset(name))
            )
            for name in set(fact.references.values())
        }
        found = curate.orphans(facts, dims, fact)
        summary = report.datasets.setdefault(fact.name, {})
        summary["orphans"] = {
            row[fact.reference_selector]: row["count"]
            for row in found.groupBy(fact.reference_selector).count().collect()
        }


def curate_dataset(spark, args, ds: contract.Dataset, report: RunReport) -> bool:
    """Bring one curated table up to date; False when there was nothing new."""
    loads = processed_loads(store_for(args.lake.processed), args.lake.processed, ds.name)
    done = curated_state(args.lake.curated, ds.name)
    runs = {day: marker["run_id"] for day, marker in loads.items()}
    new_days = sorted(day for day, run_id in runs.items() if done.get(day) != run_id)
    summary = report.datasets.setdefault(ds.name, {"new_loads": new_days})
    full = args.full_rebuild == "true"
    if not loads or (not new_days and not full):
        summary["up_to_date"] = True
        return False
    with_rows = {day: marker for day, marker in loads.items() if marker["rows_processed"] > 0}
    with report.timed(f"{ds.name}.total"):
        new_with_rows = {day: with_rows[day] for day in new_days if day in with_rows}
        if full or not done:
            rebuild(spark, args, ds, with_rows, report, summary)
        elif ds.kind is contract.Kind.DIMENSION:
            merge_dimension_loads(spark, args, ds, new_with_rows, report.run_id, summary)
        else:
            merge_fact_loads(spark, args, ds, new_with_rows, report, summary)
        _write_state(args.lake.curated, ds.name, runs)
    return True


def run(argv: Sequence[str]) -> RunReport:
    args = parse_job_arguments(argv, __doc__ or JOB)
    report = RunReport(JOB)
    try:
        with lake_lock(args.lake, JOB, report.run_id) as lock:
            report.lock = lock.describe()
            spark = spark_session(JOB)
            ordered = [
                d for d in (*contract.DIMENSIONS, *contract.FACTS) if d.name in args.datasets
            ]
            changed = [curate_dataset(spark, args, ds, report) for ds in ordered]
            if any(changed):
                with report.timed("orphans"):
                    count_orphans(spark, args, report)
        report.finish("succeeded")
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
