"""Reading the lake's Parquet tables with the schema the contract declares (no inference)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
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
    partitions = (*ds.partition_types, (contract.LOAD_COLUMN, "date"))
    return struct(ds.processed_columns + partitions)


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


def read_loads(
    spark: SparkSession,
    root: str,
    schema: T.StructType,
    partitions_above_load: tuple[str, ...],
    days: list[str],
) -> DataFrame:
    """Rows of the given loads of a table whose partition path ends in the load column.

    A few loads (the incremental case) are read through their own folders
    (`*/*/*/ingest_date=D` for facts), so the cost follows the loads read, not the size of the
    table; a load with no folder raises PATH_NOT_FOUND. Each such pattern walks the partition
    tree, so many loads are read with one listing of the table and a partition filter instead.
    """
    if not days:
        return spark.createDataFrame([], schema)
    if len(days) > GLOB_LOADS_UP_TO:
        return read_table(spark, root, schema).where(
            F.col(contract.LOAD_COLUMN).cast("string").isin(days)
        )
    depth = "*/" * len(partitions_above_load)
    paths = [f"{root.rstrip('/')}/{depth}{contract.LOAD_COLUMN}={day}" for day in days]
    return spark.read.schema(schema).option("basePath", root).parquet(*paths)
