"""The local backend: the analyses' Athena SQL on DuckDB, over a local lake's curated zone.

Each curated dataset becomes a DuckDB view with the Glue table's shape: the contract's curated
columns cast to their contract types (timestamps as UTC wall-clock `TIMESTAMP`, like Athena's
`timestamp`) plus, for facts, the integer partition columns read from the hive folder names
(`year=2025/month=3/day=7`). The analysis SQL is then transpiled from Trino to DuckDB with
sqlglot and run with bound parameters. DuckDB prunes hive files on simple comparisons and row
comparisons of partition columns (not on arithmetic over them), which is why the range filter
compares `(year, month, day)` rows: `scan_stats` measures it.

A missing dataset folder reads as an empty table (the pipeline has not produced it yet); a
lake without a curated zone is an error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from sqlglot import exp

from athena import frames, queries
from athena.queries import ArgumentError
from energy_lake import contract
from energy_lake.layout import Lake

ENGINE = "duckdb"


class LakeError(ArgumentError):
    """The local lake cannot be queried (no curated zone): the caller's to fix."""


def curated_root(lake_root: str | os.PathLike[str]) -> Path:
    curated = Path(Lake.local(lake_root).curated)
    if not curated.is_dir():
        raise LakeError(f"{lake_root}: no curated zone at {curated} (run the pipeline first)")
    return curated


def _parquet_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.parquet") if p.is_file())


def _has_parquet(root: Path) -> bool:
    return any(p.is_file() for p in root.rglob("*.parquet"))


def _duckdb_type(sql_type: str) -> str:
    return exp.DataType.build(sql_type, dialect="hive").sql(ENGINE)


def dataset_view_sql(dataset: contract.Dataset, curated: Path) -> str:
    """SELECT of one curated dataset, typed from the contract (DuckDB dialect)."""
    data = [
        f"CAST({exp.to_identifier(name).sql(ENGINE)} AS {_duckdb_type(sql_type)}) AS "
        f"{exp.to_identifier(name).sql(ENGINE)}"
        for name, sql_type in dataset.curated_columns
    ]
    partitions = [exp.to_identifier(name).sql(ENGINE) for name, _ in dataset.partition_types]
    root = curated / dataset.name
    if not _has_parquet(root):
        nulls = [
            f"CAST(NULL AS {_duckdb_type(t)}) AS {exp.to_identifier(n).sql(ENGINE)}"
            for n, t in (*dataset.curated_columns, *dataset.partition_types)
        ]
        return f"SELECT {', '.join(nulls)} WHERE false"
    pattern = exp.Literal.string(f"{root}/**/*.parquet").sql(ENGINE)
    if dataset.partition_types:
        hive_types = ", ".join(
            f"{exp.Literal.string(n).sql(ENGINE)}: {_duckdb_type(t)}"
            for n, t in dataset.partition_types
        )
        source = f"read_parquet({pattern}, hive_partitioning = true, hive_types = {{{hive_types}}})"
    else:
        source = f"read_parquet({pattern}, hive_partitioning = false)"
    return f"SELECT {', '.join(data + partitions)} FROM {source}"


def connect(lake_root: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per curated dataset, in UTC."""
    curated = curated_root(lake_root)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for dataset in contract.DATASETS.values():
        name = exp.to_identifier(dataset.name).sql(ENGINE)
        con.execute(f"CREATE VIEW {name} AS {dataset_view_sql(dataset, curated)}")
    return con


def _bind(rendered: queries.RenderedQuery) -> list[object]:
    return [p.value for p in rendered.params]


def run(
    name: str,
    lake_root: str | os.PathLike[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """One analysis over a local lake, as the typed frame."""
    rendered = queries.render(name, start=start, end=end, limit=limit)
    with connect(lake_root) as con:
        table = con.sql(rendered.sql(ENGINE), params=_bind(rendered)).to_arrow_table()
    return frames.to_frame(rendered.analysis, table)


@dataclass(frozen=True)
class ScanStats:
    """What one query read of the fact table, from DuckDB's profiler."""

    fact_files_read: int
    fact_files_total: int
    bytes_read: int  # everything the query read (DuckDB's io.total_bytes_read)


def scan_stats(
    name: str,
    lake_root: str | os.PathLike[str],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
) -> ScanStats:
    """Run an analysis with DuckDB's profiler on and report the files and bytes it read."""
    rendered = queries.render(name, start=start, end=end, limit=limit)
    fact_root = curated_root(lake_root) / queries.FACT.name
    with tempfile.TemporaryDirectory() as tmp, connect(lake_root) as con:
        output = Path(tmp) / "profile.json"
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = {exp.Literal.string(str(output)).sql(ENGINE)}")
        con.sql(rendered.sql(ENGINE), params=_bind(rendered)).fetchall()
        con.execute("PRAGMA disable_profiling")
        profile = json.loads(output.read_text(encoding="utf-8"))
    files_read = sum(
        int(info["Total Files Read"])
        for info in _scan_infos(profile)
        if str(fact_root) in str(info.get("Filename(s)", ""))
    )
    io = profile.get("io", {})
    return ScanStats(
        fact_files_read=files_read,
        fact_files_total=len(_parquet_files(fact_root)),
        bytes_read=int(io.get("total_bytes_read", 0)),
    )


def _scan_infos(node: object) -> list[dict]:
    """extra_info of every Parquet scan in a DuckDB JSON profile."""
    found: list[dict] = []
    if isinstance(node, dict):
        info = node.get("extra_info")
        if isinstance(info, dict) and "Total Files Read" in info:
            found.append(info)
        for value in node.values():
            found.extend(_scan_infos(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_scan_infos(value))
    return found
