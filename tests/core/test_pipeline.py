"""End to end on local Spark: generated dirty data in, every row accounted for."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from energy_lake import contract as c
from energy_lake.generate import MANIFEST, generate
from tests.core.lakes import keys, land, run, snapshot, table

pytestmark = pytest.mark.slow
SIZE = {"days": 6, "transactions": 3000, "clients": 120, "providers": 15}


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """Six generated loads, landed and run through both jobs."""
    root = tmp_path_factory.mktemp("lake")
    incoming = root / "incoming"
    generate(incoming, **SIZE)
    land(root, sorted(incoming.glob("*.csv")))
    reports = run(root)
    return root, json.loads((incoming / MANIFEST).read_text()), reports


def test_every_row_is_accounted_for_per_file(lake):
    _, manifest, (report, _) = lake
    for name, data in report["datasets"].items():
        for day, load in data["loads"].items():
            expected = manifest["files"][f"{name}_{day.replace('-', '')}.csv"]
            assert load["rows_read"] == expected["rows"], (name, day)
            assert load["rows_processed"] == expected["expected_processed"], (name, day)
            assert load["rows_rejected"] == expected["expected_rejected"], (name, day)
            assert load["rejections"] == expected["rejections"], (name, day)
            assert load["warnings"] == expected["warnings"], (name, day)
            assert load["conserved"] is True


def test_zones_hold_exactly_the_expected_rows(lake):
    root, manifest, _ = lake
    for name, expected in manifest["datasets"].items():
        assert len(table(root, "processed", name)) == expected["expected_processed"], name
        assert len(table(root, "rejected", name)) == expected["expected_rejected"], name
        curated = keys(root, c.dataset(name))
        assert len(curated) == len(set(curated)) == expected["expected_curated"], name


def test_rejected_rows_say_where_they_came_from_and_why(lake):
    root, manifest, _ = lake
    rejected = table(root, "rejected", "transactions")
    by_reason = Counter(
        f"{r['reason']}:{r['column']}" if r["column"] else r["reason"] for r in rejected
    )
    expected = Counter()
    for name, stats in manifest["files"].items():
        if name.startswith("transactions_"):
            expected.update(stats["rejections"])
    assert by_reason == expected
    for row in rejected:
        assert row["source_file"].startswith("transactions_") and row["source_row"] >= 1
        assert row["errors"][0]["reason"] == row["reason"]


def test_curated_is_the_latest_version_of_every_processed_key(lake):
    root, _, _ = lake
    processed = table(root, "processed", "transactions")
    latest: dict[str, dict] = {}
    for row in sorted(
        processed, key=lambda r: (str(r["ingest_date"]), r["source_file"], r["source_row"])
    ):
        latest[row["transaction_id"]] = row
    curated = {r["transaction_id"]: r for r in table(root, "curated", "transactions")}
    assert curated.keys() == latest.keys()
    for key, row in curated.items():
        winner = latest[key]
        assert (row["ingest_date"], row["source_row"]) == (
            winner["ingest_date"],
            winner["source_row"],
        )
        assert row["quantity_kwh"] == winner["quantity_kwh"]
        moment = row["transaction_date"]
        assert (row["year"], row["month"], row["day"]) == (moment.year, moment.month, moment.day)


def test_orphans_are_counted(lake):
    _, manifest, (_, curated_report) = lake
    orphans = curated_report["datasets"]["transactions"]["orphans"]
    assert sum(orphans.values()) == manifest["datasets"]["transactions"]["expected_orphans"]


def test_processed_has_one_file_per_partition_per_run(lake):
    root, _, _ = lake
    folders = Counter(p.parent for p in (root / "processed").rglob("*.parquet"))
    assert folders and max(folders.values()) == 1


def test_rerunning_with_no_new_input_changes_nothing(lake):
    root, _, _ = lake
    before = {z: snapshot(root / z) for z in ("processed", "curated", "rejected")}
    first, second = run(root)
    assert all(d.get("up_to_date") for d in first["datasets"].values())
    assert all(d.get("up_to_date") for d in second["datasets"].values())
    assert {z: snapshot(root / z) for z in before} == before


def test_reprocessing_one_load_is_idempotent(lake):
    root, _, _ = lake
    rows = sorted(
        (r["transaction_id"], r["source_row"], str(r["quantity_kwh"]))
        for r in table(root, "processed", "transactions")
    )
    rejected = len(table(root, "rejected", "transactions"))
    (report,) = run(root, "raw_to_processed", "--load", "transactions/2025-01-03")
    assert list(report["datasets"]["transactions"]["loads"]) == ["2025-01-03"]
    again = sorted(
        (r["transaction_id"], r["source_row"], str(r["quantity_kwh"]))
        for r in table(root, "processed", "transactions")
    )
    assert again == rows
    assert len(table(root, "rejected", "transactions")) == rejected


def test_a_new_load_is_merged_incrementally_and_equals_a_full_rebuild(lake, tmp_path):
    root, _, _ = lake
    incoming = tmp_path / "incoming"
    bigger = {**SIZE, "days": SIZE["days"] + 1}
    bigger["transactions"] = SIZE["transactions"] // SIZE["days"] * bigger["days"]
    generate(incoming, **bigger)  # same seed: the first six days are byte-identical
    files = sorted(incoming.glob("*.csv"))
    land(root, files)  # six files unchanged, the seventh day new
    _, curated = run(root)
    summary = curated["datasets"]["transactions"]
    assert summary["mode"] == "incremental"
    assert summary["new_loads"][-1] == "2025-01-07"  # (+ the load re-run by the test above)
    assert summary["partitions_rewritten"] < 10

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(root, rebuilt, symlinks=True)
    run(rebuilt, "processed_to_curated", "--full-rebuild", "true")

    def rows(lake_root: Path, dataset: str) -> list[tuple]:
        return sorted(
            tuple(str(v) for k, v in sorted(r.items()) if k != "ingested_at")
            for r in table(lake_root, "curated", dataset)
        )

    for name in c.DATASETS:
        assert rows(root, name) == rows(rebuilt, name), name
    assert curated["datasets"]["clients"]["mode"] == "incremental"
    manifest = json.loads((incoming / MANIFEST).read_text())
    assert (
        len(keys(root, c.TRANSACTIONS)) == manifest["datasets"]["transactions"]["expected_curated"]
    )
