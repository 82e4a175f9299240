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
