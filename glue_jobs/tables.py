"""Reading the lake's Parquet tables with the schema the contract declares (no inference)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from pyspark.sql import Column, DataFrame, DataFrameWriter, SparkSession
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


def parquet_writer(frame: DataFrame, ds: contract.Dataset) -> DataFrameWriter:
    """`frame.write` with the dataset's Parquet encodings: its high-cardinality columns are
    written plain, without the dictionary the writer would build and throw away per page."""
    return frame.write.options(
        **{f"parquet.enable.dictionary#{name}": "false" for name in ds.high_cardinality_columns}
    )


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
        return read_table(spark, root, schema).where(loads_in(days))
    paths = [f"{root.rstrip('/')}/{contract.LOAD_COLUMN}={day}" for day in days]
    return spark.read.schema(schema).option("basePath", root).parquet(*paths)


def sql_in(expression: str, literals: Iterable[str]) -> Column:
    """`expression IN (literals)` as one SQL expression, parsed by Spark in one JVM call.

    `isin` and `lit` make JVM calls per value: for a table's 730 loads or days that cost about a
    second per use. Spark plans the result as `isin` would (a hash set, partition pruning,
    Parquet pushdown). The literals must be SQL the caller rendered from typed values.
    """
    rendered = list(literals)
    return F.expr(f"{expression} IN ({', '.join(rendered)})") if rendered else F.lit(False)


def literal_rows(spark: SparkSession, rows: list[dict], columns: str) -> DataFrame:
    """A small table of Python values (`columns` as in a struct type: `a string, b date`),
    passed as one JSON literal: a few JVM calls however many rows."""
    schema = T.ArrayType(T._parse_datatype_string(columns))
    return spark.range(1).select(F.inline(F.from_json(F.lit(json.dumps(rows)), schema)))


def loads_in(days: Iterable[str]) -> Column:
    """The load (`ingest_date`) is one of `days` (`YYYY-MM-DD`)."""
    literals = (f"DATE'{date.fromisoformat(day).isoformat()}'" for day in days)
    return sql_in(f"`{contract.LOAD_COLUMN}`", literals)


def runs_in(runs: Iterable[str]) -> Column:
    """The run (`ingested_at`) is one of `runs` (ISO-8601 instants from load markers)."""
    literals = (f"TIMESTAMP'{datetime.fromisoformat(run).isoformat()}'" for run in runs)
    return sql_in(f"`{contract.INGESTED_AT}`", literals)


def event_days_in(ds: contract.Dataset, days: Iterable[int]) -> Column:
    """The event day (an `event_day_number`) is one of `days`; prunes day partitions."""
    year, month, day = (f"`{p}`" for p in ds.partition_columns)
    return sql_in(f"{year} * 10000 + {month} * 100 + {day}", (str(int(d)) for d in days))


def event_day_number(ds: contract.Dataset) -> Column:
    """year*10000 + month*100 + day: one comparable value per event-day partition."""
    year, month, day = (F.col(p) for p in ds.partition_columns)
    return year * 10000 + month * 100 + day


def day_number(day: str) -> int:
    """`YYYY-MM-DD` -> the `event_day_number` of that day."""
    return int(day.replace("-", ""))


def read_fact_days(spark: SparkSession, root: str, ds: contract.Dataset, days) -> DataFrame:
    """The rows of a processed fact table in the given event days (`YYYY-MM-DD`), pruned."""
    wanted = event_days_in(ds, (day_number(d) for d in days))
    return read_table(spark, root, processed_schema(ds)).where(wanted)


def load_versions(spark: SparkSession, markers: dict[str, dict]) -> DataFrame:
    """(ingest_date, ingested_at) of the load versions the given markers record."""
    pairs = [{"d": day, "t": marker["ingested_at"]} for day, marker in markers.items()]
    return literal_rows(spark, pairs, "d string, t string").select(
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
    rows = read_fact_days(spark, root, ds, days).where(runs_in(runs))
    versions = F.broadcast(load_versions(spark, markers))
    return rows.join(versions, [contract.LOAD_COLUMN, contract.INGESTED_AT], "left_semi")
