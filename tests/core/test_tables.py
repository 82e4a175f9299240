"""Filters and small tables built from Python values in a few JVM calls (tables.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F

from energy_lake import contract as c
from glue_jobs import tables

T = c.TRANSACTIONS


def test_literal_rows_types_the_values(spark):
    frame = tables.literal_rows(
        spark, [{"d": "2025-01-02", "n": 7, "s": "a'b"}, {"d": "2025-01-03", "n": 8, "s": "c"}],
        "d date, n bigint, s string",
    )  # fmt: skip
    assert [tuple(r) for r in frame.collect()] == [
        (date(2025, 1, 2), 7, "a'b"),
        (date(2025, 1, 3), 8, "c"),
    ]


def test_load_run_and_day_filters_keep_exactly_the_named_values(spark):
    run = datetime(2026, 11, 26, 1, 7, 50, 508420, tzinfo=UTC)
    rows = [
        (date(2025, 1, d), run.replace(second=d), 2025, 1, d) for d in range(1, 29)
    ]  # more than ten values: Spark plans IN as a hash set
    frame = spark.createDataFrame(
        rows, f"{c.LOAD_COLUMN} date, {c.INGESTED_AT} timestamp, year int, month int, day int"
    )

    def days(condition):
        return sorted(r["day"] for r in frame.where(condition).collect())

    assert days(tables.loads_in(["2025-01-03", "2025-01-17"])) == [3, 17]
    wanted = [run.replace(second=s).isoformat() for s in range(5, 20)]
    assert days(tables.runs_in(wanted)) == list(range(5, 20))
    assert days(tables.event_days_in(T, [20250102, 20250128, 20250201])) == [2, 28]
    assert days(tables.loads_in([])) == []
    assert days(tables.runs_in([])) == []


@pytest.mark.parametrize("bad", ["2025-01-02' OR '1'='1", "yesterday"])
def test_a_value_that_is_not_a_date_never_reaches_the_sql(bad):
    with pytest.raises(ValueError, match="isoformat"):
        tables.loads_in([bad])


def test_day_filter_prunes_partitions(spark, tmp_path):
    spark.range(3).select(
        "id", F.lit(2025).alias("year"), F.lit(1).alias("month"), (F.col("id") + 1).alias("day")
    ).write.partitionBy("year", "month", "day").parquet(str(tmp_path / "t"))
    frame = spark.read.parquet(str(tmp_path / "t")).where(tables.event_days_in(T, [20250102]))
    plan = frame._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters: []" not in plan  # the day filter prunes folders, not rows
    assert [r["id"] for r in frame.collect()] == [1]
