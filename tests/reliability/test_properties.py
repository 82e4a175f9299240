"""Property-based tests of the pure transforms (hypothesis), one DataFrame per example.

Validation: for any mix of valid rows and rows with one defect each, every row comes out
exactly once, valid or rejected with the defect's reason (conservation, no guessing).
Curation: for any sequence of loads with duplicates and corrections (loads may arrive out of
date order), curated has exactly one row per key, it is the latest version by (load date,
source file, source row), and merging the loads one by one equals deduping them all at once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from energy_lake import contract as c
from glue_jobs.tables import curated_schema, event_day_number
from glue_jobs.transforms import curate
from glue_jobs.transforms import validate as v
from tests.reliability.corpus import TX, tx

pytestmark = [pytest.mark.reliability, pytest.mark.spark]
T = c.TRANSACTIONS
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def small_spark(spark):
    """The shared session with one shuffle partition: the frames here hold a few dozen rows."""
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    yield spark
    spark.conf.set("spark.sql.shuffle.partitions", before)


KEYS = st.sampled_from([f"K{i}" for i in range(6)])

# One defect per row, and the reason (first failed rule) it must be rejected with.
DEFECTS: dict[str, tuple[dict[str, str], str, str | None]] = {
    "missing_key": ({TX.transaction_id: "  "}, c.MISSING_REQUIRED, TX.transaction_id),
    "decimal_comma": ({TX.quantity_kwh: "12,5"}, c.INVALID_DECIMAL, TX.quantity_kwh),
    "impossible_day": (
        {TX.transaction_date: "2025-02-30 10:00:00"},
        c.INVALID_TIMESTAMP,
        TX.transaction_date,
    ),
    "unknown_energy": ({TX.energy_type: "plasma"}, c.UNKNOWN_VALUE, TX.energy_type),
    "negative_price": ({TX.price_per_kwh: "-0.5"}, c.OUT_OF_RANGE, TX.price_per_kwh),
    "replaced_bytes": ({TX.entity_id: "C\ufffd"}, c.INVALID_ENCODING, TX.entity_id),
    "malformed": ({}, c.MALFORMED_ROW, None),
}

raw_rows = st.lists(
    st.tuples(
        KEYS,
        st.sampled_from([None, *DEFECTS]),  # None: a valid row
        st.decimals("0.001", "99999.999", places=3),
        st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31)),
    ),
    min_size=1,
    max_size=40,
)


def _source_path(load: int) -> str:
    day = date(2025, 1, 1) + timedelta(days=load)
    return f"file:///lake/raw/transactions/ingest_date={day}/transactions_{day:%Y%m%d}.csv"


@SETTINGS
@given(rows=raw_rows, loads=st.integers(1, 3))
def test_validation_conserves_rows_and_names_each_defect(small_spark, rows, loads):
    spark = small_spark
    records, expected = [], {}
    for index, (key, defect, quantity, moment) in enumerate(rows):
        values = tx(key, **{TX.quantity_kwh: str(quantity), TX.total_amount: ""})
        values[TX.transaction_date] = moment.strftime("%Y-%m-%d %H:%M:%S")
        corrupt = None
        if defect is not None:
            values.update(DEFECTS[defect][0])
            if defect == "malformed":
                corrupt = ",".join(list(values.values())[:3])
        load = index % loads
        record_id = load * 1000 + index
        records.append(
            (*[values[n] for n in T.source_header], corrupt, record_id, _source_path(load))
        )
        expected[(_source_path(load).rsplit("/", 1)[1], record_id % 1000 + 1)] = (
            None if defect is None else DEFECTS[defect][1:]
        )
    schema = ", ".join(f"{n} string" for n in (*T.source_header, v.CORRUPT_RECORD))
    raw = spark.createDataFrame(records, f"{schema}, {v.RECORD_ID} bigint, {v.SOURCE_PATH} string")
    checked = v.check_rows(raw, T).cache()
    source_row = F.col(v.RECORD_ID) % 1000 + 1
    now = F.current_timestamp()
    valid = v.valid_rows(checked, T, v.Source.from_path(source_row), now).collect()
    rejected = v.rejected_rows(checked, T, v.Source.from_path(source_row), now).collect()
    checked.unpersist()

    assert len(valid) + len(rejected) == len(rows)  # conservation
    got = {(r["source_file"], r["source_row"]): None for r in valid}
    got |= {(r["source_file"], r["source_row"]): (r["reason"], r["column"]) for r in rejected}
    assert got == expected
    for row in valid:
        assert row[TX.total_amount] == row[TX.quantity_kwh] * row[TX.price_per_kwh]


versions = st.lists(  # one load: (key, quantity, day of the event)
    st.tuples(KEYS, st.integers(1, 10**6), st.integers(0, 60)), min_size=0, max_size=12
)


def _curated_rows(load_day: date, rows: list[tuple[str, int, int]]) -> list[tuple]:
    out = []
    for number, (key, quantity, offset) in enumerate(rows, start=1):
        moment = datetime(2025, 1, 1, 12) + timedelta(days=offset)
        values = {
            **{n: None for n, _ in T.curated_columns},
            TX.transaction_id: key,
            TX.transaction_date: moment,
            TX.transaction_type: "sale",
            TX.entity_id: "C1",
            TX.quantity_kwh: Decimal(quantity),
            TX.price_per_kwh: Decimal("0.1"),
            TX.energy_type: "solar",
            TX.total_amount: Decimal(quantity) / 10,
            c.LOAD_COLUMN: load_day,
            "source_file": f"transactions_{load_day:%Y%m%d}.csv",
            "source_row": number,
            "ingested_at": datetime(2026, 1, 1),
            **dict(zip(T.partition_columns, (moment.year, moment.month, moment.day), strict=True)),
        }
        out.append(tuple(values[f.name] for f in curated_schema(T).fields))
    return out


def _latest(frame):
    columns = [f.name for f in curated_schema(T).fields]
    return curate.latest_versions(curate.rank_versions(frame, T), columns)


@SETTINGS
@given(
    loads=st.lists(versions, min_size=1, max_size=3),
    days=st.permutations(list(range(3))),  # arrival order != load-date order
)
def test_curated_is_one_latest_row_per_key_and_incremental_equals_full(small_spark, loads, days):
    spark = small_spark
    schema = curated_schema(T)
    frames, winners = [], {}
    ordered = sorted(range(len(loads)), key=lambda i: days[i])
    for i in ordered:  # the model: later load date wins, then the later row
        for number, (key, quantity, _) in enumerate(loads[i], start=1):
            winners[key] = (date(2025, 3, 1) + timedelta(days=days[i]), number, quantity)
    for i, rows in enumerate(loads):
        load_day = date(2025, 3, 1) + timedelta(days=days[i])
        frames.append(spark.createDataFrame(_curated_rows(load_day, rows), schema))

    everything = frames[0]
    for frame in frames[1:]:
        everything = everything.unionByName(frame)
    at_once = _latest(everything).collect()
    running = None
    for frame in frames:  # in arrival order, merged into the running curated result
        running = _latest(frame if running is None else running.unionByName(frame))
    one_by_one = running.collect()

    by_day = curate.rank_within_days(
        everything, T, curate.displaced_versions(everything, T, event_day_number(T))
    )
    columns = [f.name for f in schema.fields]
    assert sorted(map(tuple, curate.latest_versions(by_day, columns).collect())) == sorted(
        map(tuple, at_once)
    )  # the full rebuild's day-by-day dedupe keeps the same rows

    keys = [r[T.business_key] for r in at_once]
    assert len(keys) == len(set(keys))  # exactly one row per key
    assert {
        r[T.business_key]: (r[c.LOAD_COLUMN], r["source_row"], int(r[TX.quantity_kwh]))
        for r in at_once
    } == winners
    assert sorted(map(tuple, one_by_one)) == sorted(map(tuple, at_once))
