"""Glue job processed_to_curated: one row per business key, the latest version wins.

Dimensions are rebuilt as a current snapshot from every processed load (they are small).
Facts are merged incrementally: only the event-day partitions a new load touches are rewritten,
including the old partitions of keys the load corrects, so a run costs in proportion to the
load, not to the lake. `--full-rebuild true` recomputes everything from processed; both give
the same rows. A run with no new processed load writes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from energy_lake import contract
from energy_lake.layout import event_partition_path, join
from energy_lake.storage import store_for
from glue_jobs.report import RunReport
from glue_jobs.shell import parse_job_arguments, spark_session
from glue_jobs.sources import LOADS
from glue_jobs.tables import curated_schema, processed_schema, read_table
from glue_jobs.transforms import curate

JOB = "processed_to_curated"
STATE = "_state"


def processed_loads(processed_root: str, dataset: str) -> dict[str, str]:
    """ingest_date -> run id of the raw_to_processed run that (last) wrote it."""
    store = store_for(processed_root)
    loads = {}
    for obj in store.list(join(processed_root, LOADS, dataset)):
        marker = json.loads(store.read_bytes(obj.uri))
        loads[marker["ingest_date"]] = marker["run_id"]
    return loads


def _state_uri(curated_root: str, dataset: str) -> str:
    return join(curated_root, STATE, f"{dataset}.json")


def curated_state(curated_root: str, dataset: str) -> dict[str, str]:
    uri = _state_uri(curated_root, dataset)
    store = store_for(uri)
    return json.loads(store.read_bytes(uri))["loads"] if store.exists(uri) else {}


def _write_state(curated_root: str, dataset: str, loads: dict[str, str]) -> None:
    uri = _state_uri(curated_root, dataset)
    body = json.dumps({"dataset": dataset, "loads": loads}, indent=1, sort_keys=True)
    store_for(uri).write_bytes(uri, body.encode())


def curated_columns(ds: contract.Dataset) -> list[str]:
    return [n for n, _ in ds.curated_columns] + list(ds.partition_columns)


def _day_number(ds: contract.Dataset):
    """year*10000 + month*100 + day: one comparable value per event-day partition."""
    year, month, day = (F.col(p) for p in ds.partition_columns)
    return year * 10000 + month * 100 + day


def _dedupe(rows: DataFrame, ds: contract.Dataset, summary: dict) -> DataFrame:
    ranked = curate.rank_versions(rows, ds).persist(StorageLevel.MEMORY_AND_DISK)
    for row in curate.dedupe_counts(ranked).collect():
        summary[row["outcome"]] = summary.get(row["outcome"], 0) + row["count"]
    return curate.latest_versions(ranked, curated_columns(ds))


def _write_full(frame: DataFrame, path: str, ds: contract.Dataset) -> None:
    partitions = list(ds.partition_columns)
    writer = (
        (frame.repartition(*partitions) if partitions else frame.coalesce(1))
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "static")
    )
    (writer.partitionBy(*partitions) if partitions else writer).parquet(path)


def rebuild(spark: SparkSession, args, ds: contract.Dataset, summary: dict) -> None:
    rows = read_table(spark, join(args.lake.processed, ds.name), processed_schema(ds))
    summary["mode"] = "full"
    _write_full(_dedupe(rows, ds, summary), join(args.lake.curated, ds.name), ds)


def merge_fact_loads(
    spark: SparkSession, args, ds: contract.Dataset, new_days: list[str], summary: dict
) -> None:
    """Rewrite only the day partitions that the new loads' keys land in or leave."""
    curated_path = join(args.lake.curated, ds.name)
    key = ds.business_key
    new_rows = (
        read_table(spark, join(args.lake.processed, ds.name), processed_schema(ds))
        .where(F.col(contract.LOAD_COLUMN).cast("string").isin(new_days))
        .select(*curated_columns(ds))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    current = read_table(spark, curated_path, curated_schema(ds))
    keys = new_rows.select(key).distinct()
    touched = (
        current.select(key, _day_number(ds).alias("_day"))
        .join(keys, key, "left_semi")
        .select("_day")
        .union(new_rows.select(_day_number(ds).alias("_day")))
        .distinct()
    )
    days = sorted(row["_day"] for row in touched.collect())
    summary.update(mode="incremental", partitions_rewritten=len(days))
    if not days:
        return
    old_rows = current.where(_day_number(ds).isin(days)).select(*curated_columns(ds))
    merged = _dedupe(old_rows.unionByName(new_rows), ds, summary)
    merged = merged.persist(StorageLevel.MEMORY_AND_DISK)
    surviving = {row["_day"] for row in merged.select(_day_number(ds).alias("_day")).collect()}
    (
        merged.repartition(*ds.partition_columns)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*ds.partition_columns)
        .parquet(curated_path)
    )
    store = store_for(curated_path)
    for day in sorted(set(days) - surviving):  # every row of that day moved elsewhere
        folder = event_partition_path(day // 10000, day // 100 % 100, day % 100)
        store.delete_prefix(join(curated_path, folder))
    summary["partitions_emptied"] = len(set(days) - surviving)
    new_rows.unpersist()


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


def run(argv: Sequence[str]) -> RunReport:
    args = parse_job_arguments(argv, __doc__ or JOB)
    report = RunReport(JOB)
    spark = spark_session(JOB)
    full = args.full_rebuild == "true"
    changed = False
    try:
        ordered = [d for d in (*contract.DIMENSIONS, *contract.FACTS) if d.name in args.datasets]
        for ds in ordered:
            loads = processed_loads(args.lake.processed, ds.name)
            done = curated_state(args.lake.curated, ds.name)
            new_days = sorted(d for d, run_id in loads.items() if done.get(d) != run_id)
            summary = report.datasets.setdefault(ds.name, {"new_loads": new_days})
            if not loads or (not new_days and not full):
                summary["up_to_date"] = True
                continue
            changed = True
            with report.timed(f"{ds.name}.total"):
                if full or not done or ds.kind is contract.Kind.DIMENSION:
                    rebuild(spark, args, ds, summary)
                else:
                    merge_fact_loads(spark, args, ds, new_days, summary)
                _write_state(args.lake.curated, ds.name, loads)
        if changed:
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
