"""The thin shell shared by both entry scripts: job arguments and the Spark session.

On AWS Glue the script runs with Glue's `--name value` arguments and an existing Spark
context; locally `energy-lake run` calls the same `main(argv)` with the same arguments and
Spark `local[*]`. No awsglue API is needed: the jobs track processed loads themselves, so Glue
job bookmarks stay off and the scripts run unchanged on plain PySpark.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from pyspark.sql import SparkSession

from energy_lake import contract
from energy_lake.layout import Lake

# Settings for both Glue and local runs: UTC semantics, lenient casts (validation decides what
# is valid, not an exception), dynamic partition overwrite so a load is rewritten in place.
SESSION_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.files.maxRecordsPerFile": "0",
    # raw_to_processed caches the checked rows once for its three consumers. Compressing the
    # cache's column batches cost more than it saved: on 10M rows, parsing, validating and
    # caching took 56-67 s compressed and 40-42 s not, for 488 against 572 MB of cache.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}
# Only for a local JVM we start ourselves (Glue sizes its own executors).
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": os.environ.get("ENERGY_LAKE_DRIVER_MEMORY", "3g"),
    # Many small shuffle partitions, merged by AQE where small: the dedupe's sort of 10M wide
    # rows took 57 s in 4 partitions, 44 s in 32 (processed_to_curated, 10M lake, 2 cores).
    "spark.sql.shuffle.partitions": "32",
    "spark.default.parallelism": str(max(4, (os.cpu_count() or 2) * 2)),
    # The throughput collector: G1's concurrent threads compete for the task threads on a
    # small machine (curated full rebuild at 10M, 2 cores: 72 s with G1, 66 s with it).
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=ERROR -XX:+UseParallelGC",
    # Local disks: no .crc side files (half the file operations of every write and commit)
    # and task outputs committed straight into place.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.hadoop.fs.file.impl.disable.cache": "true",
    "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
    # A local listing is a few syscalls per folder: listing hundreds of load folders or files
    # in a Spark job (one task per path) costs more than it saves. Glue keeps the default.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


def _local_settings() -> dict[str, str]:
    """LOCAL_SETTINGS plus the chmod-free local file system when a JDK can build it, and the
    JVM class archive when one was built (`glue_jobs.class_archive`)."""
    from glue_jobs import class_archive
    from glue_jobs.local_fs import CLASS_NAME, fast_local_fs_jar

    jar = fast_local_fs_jar()
    java_options = LOCAL_SETTINGS["spark.driver.extraJavaOptions"]
    settings = {
        **LOCAL_SETTINGS,
        "spark.driver.extraJavaOptions": " ".join(
            [java_options, *class_archive.java_options(jar, java_options)]
        ),
    }
    if jar is not None:
        settings["spark.driver.extraClassPath"] = jar
        settings["spark.hadoop.fs.file.impl"] = CLASS_NAME
    return settings


def parse_job_arguments(argv: Sequence[str], description: str) -> argparse.Namespace:
    """Glue passes `--name value` pairs plus its own (--JOB_NAME, --job-bookmark-option...)."""
    parser = argparse.ArgumentParser(description=description, allow_abbrev=False)
    for zone in ("raw", "processed", "curated", "rejected", "reports"):
        parser.add_argument(f"--{zone}-uri", required=True, help=f"root of the {zone} zone")
    parser.add_argument(
        "--datasets",
        default=",".join(contract.DATASETS),
        help="comma-separated datasets to process (default: all)",
    )
    parser.add_argument("--load", help="one load to (re)process: DATASET/YYYY-MM-DD")
    parser.add_argument("--full-rebuild", default="false", choices=("true", "false"))
    parser.add_argument("--JOB_NAME", dest="job_name", default=None)
    parser.add_argument("--JOB_RUN_ID", dest="job_run_id", default=None)
    args, _glue_extras = parser.parse_known_args(list(argv))
    args.datasets = [contract.dataset(n.strip()).name for n in args.datasets.split(",") if n]
    args.lake = Lake(
        raw=args.raw_uri,
        processed=args.processed_uri,
        curated=args.curated_uri,
        rejected=args.rejected_uri,
        reports=args.reports_uri,
    )
    return args


def spark_session(app_name: str) -> SparkSession:
    """The active session (Glue's) or a local one; applies the project's SQL settings."""
    active = SparkSession.getActiveSession()
    if active is None:
        builder = SparkSession.builder.appName(app_name).master(
            os.environ.get("ENERGY_LAKE_SPARK_MASTER", "local[*]")
        )
        for key, value in {**_local_settings(), **SESSION_SETTINGS}.items():
            builder = builder.config(key, value)
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
    for key, value in SESSION_SETTINGS.items():
        active.conf.set(key, value)
    return active
