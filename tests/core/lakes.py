"""Helpers for end-to-end tests: build lakes from generated or hand-written source files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from energy_lake import contract
from energy_lake.cli import run_jobs
from energy_lake.ingest import ingest_file
from energy_lake.layout import LOCKS


def land(lake: Path, files: list[Path]) -> None:
    for path in files:
        ingest_file(str(lake), path)


def write_source(folder: Path, name: str, header: tuple[str, ...], rows: list[list[str]]) -> Path:
    """A source CSV the way a system exports it (strings, commas quoted)."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(lake: Path, job: str = "all", *extra: str) -> list[dict]:
    return run_jobs(str(lake), job, list(extra))


def table(lake: Path, zone: str, dataset: str) -> list[dict]:
    """Every row of a zone's table, read by DuckDB (independent of Spark)."""
    files = sorted((lake / zone / dataset).rglob("*.parquet"))
    if not files:
        return []
    relation = duckdb.read_parquet([str(f) for f in files], hive_partitioning=True)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def keys(lake: Path, dataset: contract.Dataset) -> list[str]:
    return sorted(r[dataset.business_key] for r in table(lake, "curated", dataset.name))


def snapshot(root: Path) -> dict[str, str]:
    """Path -> sha256 of every data and state file under root.

    Hidden checksum files and the lake lock (who ran last, not what the lake holds) are left out.
    """
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and LOCKS not in p.parts
    }


def tx(key, when, qty, kind="venta", entity="C1"):
    """A transaction source row (a sale to C1 unless told)."""
    return [key, when, kind, entity, qty, "0.1", "solar", ""]


def client(key):
    """A client source row."""
    return [key, "DNI", "12345678", "Ana, Pérez", "Lima", "residencial", "2020-01-01"]


def processed_files(lake: Path) -> dict[str, int]:
    """Event-day folder -> data files in it, for processed transactions."""
    root = lake / "processed" / "transactions"
    found: dict[str, int] = {}
    for path in root.rglob("*.parquet"):
        folder = str(path.parent.relative_to(root))
        found[folder] = found.get(folder, 0) + 1
    return found


def processed_rows(lake: Path) -> list[tuple]:
    """Every processed transaction without the run's timestamp (a re-run changes only that)."""
    return sorted(
        tuple(str(v) for k, v in sorted(r.items()) if k != contract.INGESTED_AT)
        for r in table(lake, "processed", "transactions")
    )


def two_loads(src: Path, lake: Path) -> None:
    """Load 1 puts T1 on day 2 and T3 on day 1; load 2 moves T3 to day 3 and adds T4 (day 3)
    and T5 (day 2), so day 2 holds rows of both loads."""
    land(lake, [
        write_source(src, "clients_20250102.csv", contract.CLIENTS.source_header, [client("C1")]),
        write_source(src, "transactions_20250102.csv", contract.TRANSACTIONS.source_header, [
            tx("T1", "2025-01-02 10:00:00", "10"), tx("T3", "2025-01-01 23:00:00", "1"),
        ]),
        write_source(src, "transactions_20250103.csv", contract.TRANSACTIONS.source_header, [
            tx("T3", "2025-01-03 09:00:00", "2"), tx("T4", "2025-01-03 12:00:00", "7"),
            tx("T5", "2025-01-02 13:00:00", "4"),
        ]),
    ])  # fmt: skip
