"""Curated semantics on small frames: latest version wins, duplicates counted, orphans found."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from energy_lake import contract as c
from glue_jobs.tables import curated_schema, event_day_number
from glue_jobs.transforms import curate

T = c.TRANSACTIONS


def tx(key, load, row, *, when="2025-01-02 10:00:00", qty="1", kind="sale", entity="C1"):
    moment = datetime.fromisoformat(when)
    values = {
        "transaction_id": key, "transaction_date": moment, "transaction_type": kind,
        "entity_id": entity, "quantity_kwh": Decimal(qty), "price_per_kwh": Decimal("0.1"),
        "energy_type": "solar", "total_amount": Decimal(qty) / 10,
        "ingest_date": date.fromisoformat(load), "source_file": f"transactions_{load}.csv",
        "source_row": row, "ingested_at": datetime(2025, 1, 9),
        "year": moment.year, "month": moment.month, "day": moment.day,
    }  # fmt: skip
    return tuple(values[f.name] for f in curated_schema(T).fields)


def dedupe(spark, rows):
    """Winners and counts by key (`rank_versions`), checked against the day-by-day dedupe the
    full rebuild of a fact table runs (`displaced_versions` + `rank_within_days`)."""
    frame = spark.createDataFrame(rows, curated_schema(T))
    columns = [f.name for f in curated_schema(T).fields]
    ranked = curate.rank_versions(frame, T).cache()
    winners = curate.latest_versions(ranked, columns)
    counts = {r["outcome"]: r["count"] for r in curate.dedupe_counts(ranked).collect()}

    displaced = curate.displaced_versions(frame, T, event_day_number(T)).cache()
    by_day = curate.rank_within_days(frame, T, displaced).cache()
    day_counts = {r["outcome"]: r["count"] for r in curate.dedupe_counts(by_day).collect()}
    if displaced.count():
        day_counts["superseded"] = day_counts.get("superseded", 0) + displaced.count()
    assert day_counts == counts
    day_winners = curate.latest_versions(by_day, columns).collect()
    assert sorted(map(tuple, day_winners)) == sorted(map(tuple, winners.collect()))
    return {r["transaction_id"]: r for r in winners.collect()}, counts


def test_latest_load_wins_and_a_moved_correction_leaves_no_copy(spark):
    winners, counts = dedupe(
        spark,
        [
            tx("T1", "2025-01-02", 1, qty="10"),
            tx("T1", "2025-01-05", 3, qty="11", when="2025-01-04 08:00:00"),  # moved a day
            tx("T2", "2025-01-02", 2, qty="5"),
        ],
    )
    assert set(winners) == {"T1", "T2"}
    assert winners["T1"]["quantity_kwh"] == Decimal("11.000")
    assert (winners["T1"]["year"], winners["T1"]["month"], winners["T1"]["day"]) == (2025, 1, 4)
    assert counts == {"rows_written": 2, "superseded": 1}


def test_within_one_load_the_later_row_wins(spark):
    winners, _ = dedupe(
        spark, [tx("T1", "2025-01-02", 9, qty="2"), tx("T1", "2025-01-02", 4, qty="1")]
    )
    assert winners["T1"]["quantity_kwh"] == Decimal("2.000")


def test_an_older_load_arriving_late_does_not_win(spark):
    winners, _ = dedupe(
        spark, [tx("T1", "2025-01-05", 1, qty="7"), tx("T1", "2025-01-03", 1, qty="3")]
    )
    assert winners["T1"]["quantity_kwh"] == Decimal("7.000")


def test_exact_duplicates_are_counted_apart_from_corrections(spark):
    _, counts = dedupe(
        spark,
        [
            tx("T1", "2025-01-02", 1),
            tx("T1", "2025-01-02", 2),  # the same content again in the same load
            tx("T2", "2025-01-02", 3, qty="4"),
            tx("T2", "2025-01-03", 1, qty="5"),
        ],
    )
    assert counts == {"rows_written": 2, "exact_duplicates": 1, "superseded": 1}


def test_a_key_moved_away_and_back_counts_the_same_by_key_and_by_day(spark):
    winners, counts = dedupe(
        spark,
        [
            tx("T1", "2025-01-02", 1, qty="10"),
            tx("T1", "2025-01-05", 3, qty="11", when="2025-01-04 08:00:00"),  # moved
            tx("T1", "2025-01-05", 4, qty="11", when="2025-01-04 08:00:00"),  # same again
            tx("T2", "2025-01-02", 2, qty="5"),
            tx("T2", "2025-01-03", 1, qty="6", when="2025-01-07 10:00:00"),  # moved away
            tx("T2", "2025-01-04", 1, qty="5"),  # and back, as it first was
            tx("T3", "2025-01-02", 5, qty="1", when="2025-01-09 10:00:00"),
        ],
    )
    assert (winners["T1"]["day"], winners["T1"]["source_row"]) == (4, 4)
    assert (winners["T2"]["day"], str(winners["T2"]["ingest_date"])) == (2, "2025-01-04")
    assert counts == {"rows_written": 3, "exact_duplicates": 2, "superseded": 2}


def test_orphans_are_unknown_entities_or_the_wrong_kind(spark):
    facts = spark.createDataFrame(
        [
            tx("T1", "2025-01-02", 1, kind="sale", entity="C1"),  # known client
            tx("T2", "2025-01-02", 2, kind="purchase", entity="P1"),  # known provider
            tx("T3", "2025-01-02", 3, kind="sale", entity="C404"),  # unknown
            tx("T4", "2025-01-02", 4, kind="purchase", entity="C1"),  # a client is no provider
        ],
        curated_schema(T),
    )
    dims = {
        "clients": spark.createDataFrame([("C1",)], "client_id string"),
        "providers": spark.createDataFrame([("P1",)], "provider_id string"),
    }
    found = sorted(r["transaction_id"] for r in curate.orphans(facts, dims, T).collect())
    assert found == ["T3", "T4"]
