"""The single-machine reference for the benchmark: the pipeline's two steps, minimally, on DuckDB.

Step `processed`: read every raw CSV of the fact dataset with an explicit all-text schema, type
each column from the contract (decimal patterns, ISO timestamps to UTC, dates, enumeration
aliases to canonical values, total derived when empty), drop the rows that cannot be typed (no
reasons, no quarantine: that is the real pipeline's extra work) and write Parquet partitioned
year/month/day with the lineage columns. Step `curated`: one row per business key, the latest
version winning by (load date, file, row in file), written partitioned year/month/day.

Everything is derived from `energy_lake.contract`, so the reference reads the same files and
keeps the same keys as the pipeline: the benchmark's ratio compares like with like.

    python -m energy_lake.bench_duckdb processed --raw <lake>/raw --out <dir>
    python -m energy_lake.bench_duckdb curated --out <dir>
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from energy_lake import contract
from energy_lake.contract import ColumnType

DATASET = contract.FACTS[0]
LOAD, SOURCE_FILE, SOURCE_ROW, INGESTED_AT = (name for name, _ in contract.LINEAGE_COLUMNS)
PARTITIONS = DATASET.partition_columns  # year, month, day of the event time
VERSION_ORDER = (LOAD, SOURCE_FILE, SOURCE_ROW)  # later wins
PROCESSED, CURATED = "processed", "curated"
_FILE = "_file"  # DuckDB's filename column, renamed out of the dataset's namespace
_ROWID = "_rowid"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _blank_to_null(name: str) -> str:
    return f"CASE WHEN trim({ident(name)}) = '' THEN NULL ELSE {ident(name)} END"


def typed_expression(column: contract.Column) -> str:
    """SQL turning one source text column into its contract type, NULL where it cannot."""
    value = f"trim({ident(column.name)})"
    if column.type is ColumnType.DECIMAL:
        cast = f"CAST({value} AS {column.sql_type})"
        return (
            f"CASE WHEN regexp_matches({value}, {literal(column.decimal_pattern)}) THEN {cast} END"
        )
    if column.type is ColumnType.TIMESTAMP:
        cast = f"TRY_CAST({value} AS TIMESTAMPTZ)"  # UTC-adjusted in Parquet, like Spark's
        pattern = literal(contract.TIMESTAMP_PATTERN)
        return f"CASE WHEN regexp_matches({value}, {pattern}) THEN {cast} END"
    if column.type is ColumnType.DATE:
        cast = f"TRY_CAST({value} AS DATE)"
        return (
            f"CASE WHEN regexp_matches({value}, {literal(contract.DATE_PATTERN)}) THEN {cast} END"
        )
    if column.type is ColumnType.ENUM:
        assert column.enumeration is not None
        token = f"regexp_replace(lower(strip_accents({value})), '\\s+', ' ', 'g')"
        cases = " ".join(
            f"WHEN {literal(spelling)} THEN {literal(canonical)}"
            for spelling, canonical in sorted(column.enumeration.lookup().items())
        )
        return f"CASE {token} {cases} END"
    return _blank_to_null(column.name)


def _range_condition(column: contract.Column) -> str | None:
    if column.exclusive_minimum is not None:
        return f"{ident(column.name)} > {column.exclusive_minimum}"
    if column.minimum is not None:
        return f"{ident(column.name)} >= {column.minimum}"
    return None


def processed_sql(files: Sequence[str], out: Path, ingested_at: datetime) -> list[str]:
    """Statements of the processed step (read, type, keep typable rows, write partitioned)."""
    text_columns = ", ".join(f"{literal(c.name)}: 'VARCHAR'" for c in DATASET.columns)
    file_list = "[" + ", ".join(literal(f) for f in files) + "]"
    read = (
        f"read_csv({file_list}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', columns = {{{text_columns}}}, filename = true, ignore_errors = true, "
        "null_padding = false)"
    )
    typed = [f"{typed_expression(c)} AS {ident(c.name)}" for c in DATASET.columns]
    checks = [f"{ident(c.name)} IS NOT NULL" for c in DATASET.columns if c.required]
    checks += [rule for c in DATASET.columns if (rule := _range_condition(c))]
    data_columns = [ident(c.name) for c in DATASET.columns]
    if DATASET.derived_total:
        total, quantity, price = DATASET.derived_total
        total_type = DATASET.column(total).sql_type
        data_columns[DATASET.source_header.index(total)] = (
            f"coalesce({ident(total)}, CAST({ident(quantity)} * {ident(price)} AS {total_type})) "
            f"AS {ident(total)}"
        )
    event = ident(DATASET.event_time or "")
    parts = ", ".join(
        f"{fn}({event}) AS {ident(p)}"
        for fn, p in zip(("year", "month", "day"), PARTITIONS, strict=True)
    )
    load_date = f"CAST(regexp_extract({ident(_FILE)}, 'ingest_date=([0-9-]+)/', 1) AS DATE)"
    lineage = (
        f"{load_date} AS {ident(LOAD)}, "
        f"regexp_extract({ident(_FILE)}, '[^/]+$') AS {ident(SOURCE_FILE)}, "
        f"{ident(_ROWID)} - first_row + 1 AS {ident(SOURCE_ROW)}, "
        f"TIMESTAMPTZ {literal(ingested_at.strftime('%Y-%m-%d %H:%M:%S+00'))} "
        f"AS {ident(INGESTED_AT)}"
    )
    partition_list = ", ".join(ident(p) for p in PARTITIONS)
    return [
        # A table keeps the scan's order (files in order, rows in file order): rowid - the
        # file's first rowid is the record's position in its file.
        f"CREATE TEMP TABLE raw_rows AS SELECT * RENAME (filename AS {ident(_FILE)}) FROM {read}",
        f"CREATE TEMP TABLE file_starts AS SELECT {ident(_FILE)}, min(rowid) AS first_row "
        f"FROM raw_rows GROUP BY {ident(_FILE)}",
        f"COPY (SELECT {', '.join(data_columns)}, {lineage}, {parts} FROM ("
        f"SELECT {', '.join(typed)}, {ident(_FILE)}, r.rowid AS {ident(_ROWID)}, first_row "
        f"FROM raw_rows AS r JOIN file_starts USING ({ident(_FILE)})) "
        f"WHERE {' AND '.join(checks)}) "
        f"TO {literal(str(out))} (FORMAT parquet, PARTITION_BY ({partition_list}), "
        "OVERWRITE_OR_IGNORE true)",
    ]


def curated_sql(processed: Path, out: Path) -> str:
    """The curated step: the latest version of every key, partitioned like the pipeline's."""
    order = ", ".join(f"{ident(n)} DESC" for n in VERSION_ORDER)
    columns = [ident(n) for n, _ in DATASET.curated_columns] + [ident(p) for p in PARTITIONS]
    source = (
        f"read_parquet({literal(str(processed / '**' / '*.parquet'))}, hive_partitioning = true)"
    )
    partition_list = ", ".join(ident(p) for p in PARTITIONS)
    return (
        f"COPY (SELECT {', '.join(columns)} FROM {source} QUALIFY row_number() OVER "
        f"(PARTITION BY {ident(DATASET.business_key)} ORDER BY {order}) = 1) "
        f"TO {literal(str(out))} (FORMAT parquet, PARTITION_BY ({partition_list}), "
        "OVERWRITE_OR_IGNORE true)"
    )


def raw_files(raw_root: Path) -> list[str]:
    """The fact dataset's raw CSVs in load order (the order the version rank relies on)."""
    files = sorted(str(p) for p in (raw_root / DATASET.name).glob("ingest_date=*/*.csv"))
    if not files:
        raise SystemExit(f"{raw_root}: no {DATASET.name} CSV files under ingest_date=* folders")
    return files


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"SET temp_directory = {literal(str(work / '_duckdb_tmp'))}")
    return con


def run_processed(raw_root: Path, out: Path) -> None:
    target = out / PROCESSED / DATASET.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with _connect(out) as con:
        for statement in processed_sql(raw_files(raw_root), target, datetime.now(UTC)):
            con.execute(statement)


def run_curated(out: Path) -> None:
    target = out / CURATED / DATASET.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with _connect(out) as con:
        con.execute(curated_sql(out / PROCESSED / DATASET.name, target))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m energy_lake.bench_duckdb")
    sub = parser.add_subparsers(dest="step", required=True)
    processed = sub.add_parser(PROCESSED, help="raw CSV -> typed Parquet by event day")
    processed.add_argument("--raw", required=True, type=Path, help="the lake's raw zone")
    processed.add_argument("--out", required=True, type=Path, help="reference output folder")
    curated = sub.add_parser(CURATED, help="processed -> one row per key, latest wins")
    curated.add_argument("--out", required=True, type=Path, help="reference output folder")
    args = parser.parse_args(argv)
    if args.step == PROCESSED:
        run_processed(args.raw, args.out)
    else:
        run_curated(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
