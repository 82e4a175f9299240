"""The DuckDB reference keeps what the pipeline keeps, and the bench's sources split cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from energy_lake import bench, bench_duckdb
from energy_lake import contract as c
from energy_lake.cli import run_jobs
from energy_lake.generate import MANIFEST, generate
from energy_lake.ingest import ingest_file

SIZE = {"clients": 30, "providers": 6}
FACT = c.TRANSACTIONS
# The columns a correction changes: the winner must be the same version on both engines.
VERSIONED = (FACT.business_key, FACT.event_time, FACT.derived_total[1])


def _winners(curated: Path) -> set[tuple]:
    columns = ", ".join(bench_duckdb.ident(n) for n in VERSIONED)
    pattern = bench_duckdb.literal(str(curated / "**" / "*.parquet"))
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.sql(f"SELECT {columns} FROM read_parquet({pattern})").fetchall()
    assert len(rows) == len({r[0] for r in rows}), "one row per key"
    return set(rows)


@pytest.mark.slow
@pytest.mark.spark
def test_reference_keeps_the_same_latest_versions_as_the_pipeline(spark, tmp_path):
    incoming, lake = tmp_path / "incoming", tmp_path / "lake"
    manifest = generate(incoming, days=3, transactions=900, **SIZE)
    for path in sorted(incoming.glob("*.csv")):
        ingest_file(str(lake), path)
    run_jobs(str(lake), "all")

    reference = tmp_path / "reference"
    bench_duckdb.main(["processed", "--raw", str(lake / "raw"), "--out", str(reference)])
    bench_duckdb.main(["curated", "--out", str(reference)])

    expected = manifest["datasets"][FACT.name]
    pipeline = _winners(lake / "curated" / FACT.name)
    ours = _winners(reference / "curated" / FACT.name)
    assert len(ours) == len(pipeline) == expected["expected_curated"]
    assert ours == pipeline
    with duckdb.connect() as con:
        pattern = bench_duckdb.literal(str(reference / "processed" / "**" / "*.parquet"))
        processed = con.sql(f"SELECT count(*) FROM read_parquet({pattern})").fetchall()[0][0]
    assert processed == expected["expected_processed"]


def test_one_more_day_leaves_the_first_days_byte_identical(tmp_path):
    days, rows = 3, 301
    generate(tmp_path / "alone", days=days, transactions=rows, **SIZE)
    generate(tmp_path / "plus", days=days + 1, transactions=rows + rows // days, **SIZE)
    first, extra = bench.split_days(tmp_path / "plus", days)
    assert [p.name for p in extra] == [
        f"{name}_20250104.csv" for name in ("clients", "providers", "transactions")
    ]
    alone = sorted((tmp_path / "alone").glob("*.csv"))
    assert [p.name for p in first] == [p.name for p in alone]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(alone, first, strict=True))
    plus = json.loads((tmp_path / "plus" / MANIFEST).read_text())["files"]
    assert plus["transactions_20250104.csv"]["rows"] >= rows // days
