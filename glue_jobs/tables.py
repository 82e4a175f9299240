"""Reading the lake's Parquet tables with the schema the contract declares (no inference)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from energy_lake import contract

GLOB_LOADS_UP_TO = 8  # loads read through their own folders; more: one listing + filter


def struct(columns: tuple[tuple[str, str], ...]) -> T.StructType:
    return T.StructType(
        [T.StructField(name, T._parse_datatype_string(sql_type)) for name, sql_type in columns]
    )


def processed_schema(ds: contract.Dataset) -> T.StructType:
    return struct(ds.processed_columns + ds.processed_partition_types)


def curated_schema(ds: contract.Dataset) -> T.StructType:
    return struct(ds.curated_columns + ds.partition_types)


def read_table(spark: SparkSession, path: str, schema: T.StructType) -> DataFrame:
    """The table at `path`, or an empty frame of the same schema when nothing is there yet."""
    try:
        return spark.read.schema(schema).parquet(path)
    except AnalysisException as error:
        if "PATH_NOT_FOUND" not in str(error):
            raise
        return spark.createDataFrame([], schema)


def read_loads(spark: SparkSession, root: str, schema: T.StructType, days: list[str]) -> DataFrame:
    """Rows of the given loads of a table partitioned by load (`<root>/ingest_date=D/`).

    A few loads (the incremental case) are read through their own folders, so the cost follows
    the loads read, not the size of the table; a load with no folder raises PATH_NOT_FOUND.
    Many loads are read with one listing of the table and a partition filter instead.
    """
    if not days:
        return spark.createDataFrame([], schema)
    if len(days) > GLOB_LOADS_UP_TO:
        return read_table(spark, root, schema).where(
            F.col(contract.LOAD_COLUMN).cast("string").isin(days)
        )
    paths = [f"{root.rstrip('/')}/{contract.LOAD_COLUMN}={day}" for day in days]
    return spark.read.schema(schema).option("basePath", root).parquet(*paths)


def event_day_number(ds: contract.Dataset) -> Column:
    """year*10000 + month*100 + day: one comparable value per event-day partition."""
    year, month, day = (F.col(p) for p in ds.partition_columns)
    return year * 10000 + month * 100 + day


def day_number(day: str) -> int:
    """`YYYY-MM-DD` -> the `event_day_number` of that day."""
    return int(day.replace("-", ""))


def read_fact_days(spark: SparkSession, root: str, ds: contract.Dataset, days) -> DataFrame:
    """The rows of a processed fact table in the given event days (`YYYY-MM-DD`), pruned."""
    wanted = event_day_number(ds).isin([day_number(d) for d in days])
    return read_table(spark, root, processed_schema(ds)).where(wanted)


def load_versions(spark: SparkSession, markers: dict[str, dict]) -> DataFrame:
    """(ingest_date, ingested_at) of the load versions the given markers record."""
    pairs = [(day, marker["ingested_at"]) for day, marker in markers.items()]
    return spark.createDataFrame(pairs, "d string, t string").select(
        F.to_date("d").alias(contract.LOAD_COLUMN),
        F.col("t").cast("timestamp").alias(contract.INGESTED_AT),
    )


def read_fact_loads(
    spark: SparkSession, root: str, ds: contract.Dataset, markers: dict[str, dict]
) -> DataFrame:
    """The rows of the marked versions of the given loads of a processed fact table.

    Only the event days the markers list are read (partition pruning), and in them only the
    files whose `ingested_at` statistics can hold one of the versions' runs (Parquet filter
    pushdown: a run's appended file holds only its own run, and runs are ordered in time). Rows
    of other loads, and rows a run left behind without a marker, are filtered out.
    """
    days = sorted({day for marker in markers.values() for day in marker["days"]})
    if not days:
        return spark.createDataFrame([], processed_schema(ds))
    runs = sorted({marker[contract.INGESTED_AT] for marker in markers.values()})
    rows = read_fact_days(spark, root, ds, days).where(
        F.col(contract.INGESTED_AT).isin(*[F.lit(run).cast("timestamp") for run in runs])
    )
    versions = F.broadcast(load_versions(spark, markers))
    return rows.join(versions, [contract.LOAD_COLUMN, contract.INGESTED_AT], "left_semi")
