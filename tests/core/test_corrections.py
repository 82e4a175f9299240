"""Hand-made loads for the cases that matter most: corrections across days, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_lake import contract as c
from tests.core.lakes import land, run, table, write_source

pytestmark = pytest.mark.slow
T = c.TRANSACTIONS


def tx(key, when, qty, kind="venta", entity="C1"):
    return [key, when, kind, entity, qty, "0.1", "solar", ""]


def client(key):
    return [key, "DNI", "12345678", "Ana, Pérez", "Lima", "residencial", "2020-01-01"]


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
