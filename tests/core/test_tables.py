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


def test_high_cardinality_columns_are_written_without_a_dictionary(spark, tmp_path):
    """Parquet would build a dictionary for them and re-encode each page plain: skip it.

    The values here repeat, so a dictionary would pay: only the writer's configuration keeps
    it off the declared columns.
    """
    import pyarrow.parquet as pq

    ds = c.TRANSACTIONS
    plain = ds.high_cardinality_columns
    assert plain[0] == ds.business_key and c.SOURCE_ROW in plain
    assert {col.name for col in ds.columns if col.high_cardinality} < set(plain)
    low = ds.reference_selector
    repeating = (F.col("id") % 3).cast("string")
    frame = spark.range(5000).select(*[repeating.alias(n) for n in (*plain, low)])
    for name, writer in (
        ("plain", tables.parquet_writer(frame.coalesce(1), ds)),
        ("default", frame.coalesce(1).write),
    ):
        writer.parquet(str(tmp_path / name))
    dictionary = {}
    for name in ("plain", "default"):
        meta = pq.ParquetFile(next((tmp_path / name).glob("*.parquet"))).metadata.row_group(0)
        dictionary[name] = {
            meta.column(i).path_in_schema: meta.column(i).has_dictionary_page
            for i in range(meta.num_columns)
        }
    assert dictionary["plain"] == {**dict.fromkeys(plain, False), low: True}
    assert set(dictionary["default"].values()) == {True}
