"""Hand-made loads for the cases that matter most: corrections across days, broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from energy_lake import contract as c
from glue_jobs import raw_to_processed as r2p
from tests.core.lakes import (
    client,
    keys,
    land,
    processed_files,
    processed_rows,
    run,
    table,
    two_loads,
    tx,
    write_source,
)

pytestmark = pytest.mark.slow
T = c.TRANSACTIONS


def day_folders(lake: Path) -> set[str]:
    root = lake / "curated" / "transactions"
    return {str(p.parent.relative_to(root)) for p in root.rglob("*.parquet")}


def test_a_correction_that_moves_day_leaves_no_stale_copy(spark, tmp_path):
    src, lake = tmp_path / "src", tmp_path / "lake"
    land(lake, [
        write_source(src, "clients_20250102.csv", c.CLIENTS.source_header, [client("C1")]),
        write_source(src, "transactions_20250102.csv", T.source_header, [
            tx("T1", "2025-01-02 10:00:00", "10"), tx("T2", "2025-01-02 11:00:00", "5"),
            tx("T3", "2025-01-01 23:00:00", "1"),
        ]),
    ])  # fmt: skip
    run(lake)
    assert day_folders(lake) == {"year=2025/month=1/day=1", "year=2025/month=1/day=2"}

    # Next load: T3 is corrected into 2025-01-03 (its old day is left empty), T1 corrected in
    # place, and a brand-new T4; the later of two rows for T2 in one file wins.
    land(lake, [
        write_source(src, "transactions_20250103.csv", T.source_header, [
            tx("T3", "2025-01-03 09:00:00", "2"), tx("T1", "2025-01-02 10:00:00", "11"),
            tx("T4", "2025-01-03 12:00:00", "7"), tx("T2", "2025-01-02 11:00:00", "6"),
            tx("T2", "2025-01-02 11:00:00", "8"),
        ]),
    ])  # fmt: skip
    _, report = run(lake)
    summary = report["datasets"]["transactions"]
    assert summary["mode"] == "incremental"
    assert summary["partitions_emptied"] == 1
    curated = {r["transaction_id"]: r for r in table(lake, "curated", "transactions")}
    assert {k: str(r["quantity_kwh"]) for k, r in curated.items()} == {
        "T1": "11.000", "T2": "8.000", "T3": "2.000", "T4": "7.000",
    }  # fmt: skip
    assert (curated["T3"]["day"], curated["T1"]["day"]) == (3, 2)
    assert day_folders(lake) == {"year=2025/month=1/day=2", "year=2025/month=1/day=3"}
    assert summary["superseded"] == 4  # old T1, old T3, old T2 and the first new T2


def test_a_file_missing_a_required_column_is_quarantined_whole(spark, tmp_path):
    src, lake = tmp_path / "src", tmp_path / "lake"
    header = tuple(n for n in T.source_header if n != "quantity_kwh")
    broken = write_source(src, "transactions_20250105.csv", header, [["T9"] * len(header)])
    fine = write_source(src, "clients_20250105.csv", c.CLIENTS.source_header, [client("C1")])
    land(lake, [broken, fine])
    raw_report, _ = run(lake)
    (rejection,) = raw_report["datasets"]["transactions"]["files_rejected"]
    assert rejection["reason"] == "missing_required_column"
    assert "quantity_kwh" in rejection["message"] and broken.name in rejection["message"]
    assert Path(rejection["quarantined_to"]).read_bytes() == broken.read_bytes()
    assert raw_report["status"] == "succeeded_with_rejected_files"
    assert len(table(lake, "processed", "clients")) == 1


def test_extra_columns_are_ignored_and_reported_and_reordered_columns_read_by_name(spark, tmp_path):
    src, lake = tmp_path / "src", tmp_path / "lake"
    header = ("comment", *reversed(T.source_header))
    row = ["hola", *reversed(tx("T1", "2025-01-05 10:00:00", "3"))]
    land(lake, [write_source(src, "transactions_20250105.csv", header, [row])])
    (raw_report,) = run(lake, "raw_to_processed")
    assert raw_report["datasets"]["transactions"]["unknown_columns"] == {
        "transactions_20250105.csv": ["comment"]
    }
    (stored,) = table(lake, "processed", "transactions")
    assert (stored["transaction_id"], str(stored["quantity_kwh"])) == ("T1", "3.000")
    assert stored["transaction_type"] == "sale"


def test_processed_facts_hold_one_file_per_event_day_and_a_rerun_replaces_its_load(spark, tmp_path):
    lake = tmp_path / "lake"
    two_loads(tmp_path / "src", lake)
    run(lake, "raw_to_processed")
    days = {
        "year=2025/month=1/day=1": 1,
        "year=2025/month=1/day=2": 1,
        "year=2025/month=1/day=3": 1,
    }
    assert processed_files(lake) == days  # the load is a column, not a folder
    marker = lake / "processed" / "_loads" / "transactions" / "ingest_date=2025-01-03.json"
    assert json.loads(marker.read_text())["days"] == {"2025-01-02": 1, "2025-01-03": 2}
    before = processed_rows(lake)
    assert len(before) == 5

    (again,) = run(lake, "raw_to_processed", "--load", "transactions/2025-01-03")
    assert list(again["datasets"]["transactions"]["loads"]) == ["2025-01-03"]
    assert processed_rows(lake) == before  # replaced, not doubled: day 2 kept load 1's T1
    assert processed_files(lake) == days
    run(lake)
    assert keys(lake, T) == ["T1", "T3", "T4", "T5"]


def test_a_new_load_appends_one_file_per_day_and_a_crowded_day_is_rewritten_as_one(
    spark, tmp_path, monkeypatch
):
    monkeypatch.setattr(r2p, "COMPACT_AT_FILES", 2)
    src, lake = tmp_path / "src", tmp_path / "lake"
    day2, day3 = "year=2025/month=1/day=2", "year=2025/month=1/day=3"
    land(lake, [
        write_source(src, "clients_20250102.csv", c.CLIENTS.source_header, [client("C1")]),
        write_source(src, "transactions_20250102.csv", T.source_header, [
            tx("T1", "2025-01-02 10:00:00", "10"),
        ]),
    ])  # fmt: skip
    run(lake)
    land(lake, [
        write_source(src, "transactions_20250103.csv", T.source_header, [
            tx("T5", "2025-01-02 13:00:00", "4"), tx("T4", "2025-01-03 12:00:00", "7"),
        ]),
    ])  # fmt: skip
    run(lake)
    assert processed_files(lake) == {day2: 2, day3: 1}  # appended: one new file per day
    land(lake, [
        write_source(src, "transactions_20250104.csv", T.source_header, [
            tx("T1", "2025-01-02 10:00:00", "12"),
        ]),
    ])  # fmt: skip
    run(lake)
    assert processed_files(lake) == {day2: 1, day3: 1}  # day 2 held 2 files: rewritten as one
    assert len(processed_rows(lake)) == 4  # every version stays in processed
    curated = {
        r["transaction_id"]: str(r["quantity_kwh"]) for r in table(lake, "curated", "transactions")
    }
    assert curated == {"T1": "12.000", "T4": "7.000", "T5": "4.000"}
