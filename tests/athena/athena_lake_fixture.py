"""A small curated zone written with pyarrow, in the lead's layout, and an independent oracle.

Layout (CONTEXT.md): `<lake>/curated/transactions/year=Y/month=M/day=D/*.parquet` (unpadded
ints, the UTC day of transaction_date), `<lake>/curated/{clients,providers}/*.parquet`; data
columns = `Dataset.curated_columns` with the contract's types (decimal128(p, s), timestamp UTC,
date32, string, int64 lineage).

The rows are hand-picked edges: first/last second of a UTC day, month and year boundaries, two
files in one day, purchases and sales, orphans (unknown ids, and a sale to a provider id), a
total_amount that is not quantity x price (amounts are total_amount as curated), a purchase
whose energy type differs from its provider's, and total_kwh ties.

The oracle (`expected`) recomputes the four analyses in plain Python from the Parquet files
read back with pyarrow, independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from energy_lake import contract
from energy_lake.layout import Lake, event_partition_path

UTC = dt.UTC


class Cols:
    """Column names checked against the contract (a renamed column fails loudly here)."""

    def __init__(self, dataset: contract.Dataset) -> None:
        self._dataset = dataset

    def __getattr__(self, name: str) -> str:
        return self._dataset.column(name).name


T, C, P = Cols(contract.TRANSACTIONS), Cols(contract.CLIENTS), Cols(contract.PROVIDERS)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# Positional, in contract source order (zip(strict=True) fails if the contract changes).
TRANSACTIONS = [
    ("T01", ts("2025-01-15 10:00:00"), "purchase", "P1", "1000.000", "0.050000", "wind", "50.0000"),
    ("T02", ts("2025-01-31 23:59:59"), "sale", "C1", "100.000", "0.150000", "wind", "15.0000"),
    ("T03", ts("2025-02-01 00:00:00"), "sale", "C2", "200.000", "0.120000", "solar", "24.0000"),
    ("T04", ts("2025-02-01 08:30:00"), "sale", "C1", "50.500", "0.200000", "wind", "10.1000"),
    ("T05", ts("2025-02-10 12:00:00"), "purchase", "P2", "500.000", "0.040000", "solar", "20.0000"),
    ("T06", ts("2025-02-14 09:00:00"), "sale", "C999", "70.000", "0.100000", "hydro", "7.0000"),
    ("T07", ts("2025-02-14 10:00:00"), "purchase", "P99", "300.000", "0.030000", "hydro", "9.0000"),
    ("T08", ts("2025-02-15 11:00:00"), "sale", "P1", "10.000", "0.100000", "wind", "1.0000"),
    ("T09", ts("2025-02-20 15:00:00"), "sale", "C3", "250.000", "0.100000", "solar", "25.5000"),
    ("T10", ts("2025-02-28 23:59:59"), "sale", "C4", "200.000", "0.110000", "hydro", "22.0000"),
    ("T11", ts("2025-03-01 00:00:00"), "sale", "C2", "400.000", "0.130000", "solar", "52.0000"),
    ("T12", ts("2025-03-01 00:00:00"), "purchase", "P1", "800.000", "0.045000", "wind", "36.0000"),
    ("T13", ts("2025-02-05 06:00:00"), "purchase", "P3", "500.000", "0.060000", "hydro", "30.0000"),
    ("T14", ts("2024-12-31 23:59:59"), "sale", "C1", "10.000", "0.500000", "gas", "5.0000"),
    ("T15", ts("2025-01-01 00:00:00"), "sale", "C5", "5.000", "0.300000", "gas", "1.5000"),
]
SEPARATE_FILE = {"T04"}  # T03 and T04 share a day; T04 goes to a second file of that day

CLIENTS = [
    ("C1", "DNI", "111", "Ana Pérez", "Lima", "residential", d("2020-01-01")),
    ("C2", "RUC", "222", "Acme, S.A.", "Arequipa", "commercial", d("2021-06-01")),
    ("C3", "CE", "333", "Fábrica Norte", "Trujillo", "industrial", d("2019-03-15")),
    ("C4", "passport", "444", "Zoe", "Cusco", "residential", d("2022-02-02")),
    ("C5", "DNI", "555", 'Quote "Q"', "Piura", "commercial", d("2023-01-01")),
    ("C6", "DNI", "666", "No Sales", "Ica", "residential", d("2023-01-01")),
]
PROVIDERS = [
    ("P1", "Viento Sur", "wind", "150.000", "Sur", d("2018-01-01")),
    ("P2", "Sol Andino", "solar", "80.500", "Norte", d("2019-01-01")),
    ("P3", "Gas Central", "gas", "300.000", "Centro", d("2020-01-01")),
    ("P4", "Idle Hydro", "hydro", "10.000", "Este", d("2020-01-01")),
]

LOAD = d("2025-03-20")
INGESTED_AT = ts("2025-03-20 06:00:00")


def arrow_type(sql_type: str) -> pa.DataType:
    if sql_type.startswith("decimal("):
        precision, scale = sql_type[len("decimal(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return {
        "string": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "bigint": pa.int64(),
        "int": pa.int32(),
    }[sql_type]


def curated_schema(dataset: contract.Dataset) -> pa.Schema:
    return pa.schema([pa.field(n, arrow_type(t)) for n, t in dataset.curated_columns])


def _records(dataset: contract.Dataset, rows: list[tuple]) -> list[dict]:
    out = []
    for number, row in enumerate(rows, start=1):
        record = dict(zip(dataset.source_header, row, strict=True))
        for column in dataset.columns:
            if column.type is contract.ColumnType.DECIMAL:
                record[column.name] = Decimal(record[column.name])
        lineage = (LOAD, f"{dataset.name}_{LOAD:%Y%m%d}.csv", number, INGESTED_AT)
        record |= dict(zip((n for n, _ in contract.LINEAGE_COLUMNS), lineage, strict=True))
        out.append(record)
    return out


def _write(path: Path, dataset: contract.Dataset, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records, schema=curated_schema(dataset)), path)


def build_lake(root: Path, transactions: list[tuple] = TRANSACTIONS) -> Path:
    """Write the curated zone of a local lake under `root`; returns `root`."""
    curated = Path(Lake.local(root).curated)
    fact = contract.TRANSACTIONS
    by_file: dict[Path, list[dict]] = defaultdict(list)
    for record in _records(fact, transactions):
        when = record[fact.event_time]
        folder = curated / fact.name / event_partition_path(when.year, when.month, when.day)
        part = 1 if record[fact.business_key] in SEPARATE_FILE else 0
        by_file[folder / f"part-{part:05d}.snappy.parquet"].append(record)
    for path, records in by_file.items():
        _write(path, fact, records)
    for dataset, rows in ((contract.CLIENTS, CLIENTS), (contract.PROVIDERS, PROVIDERS)):
        records = _records(dataset, rows)
        half = len(records) // 2
        _write(curated / dataset.name / "part-00000.parquet", dataset, records[:half])
        _write(curated / dataset.name / "part-00001.parquet", dataset, records[half:])
    (curated / fact.name / "_SUCCESS").touch()
    return root


# ---------------------------------------------------------------- the independent oracle


def read_back(root: Path, dataset: contract.Dataset) -> list[dict]:
    """A curated table, read with pyarrow alone (no DuckDB, no SQL)."""
    folder = Path(Lake.local(root).curated) / dataset.name
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        return []
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()


def _in_range(record: dict, start: dt.date | None, end: dt.date | None) -> bool:
    day = record[T.transaction_date].astimezone(UTC).date()
    return (start is None or day >= start) and (end is None or day <= end)


def _facts(root: Path, kind: str, start, end) -> list[dict]:
    return [
        r
        for r in read_back(root, contract.TRANSACTIONS)
        if r[T.transaction_type] == kind and _in_range(r, start, end)
    ]


def expected(name: str, root: Path, start=None, end=None, n: int = 10) -> list[tuple]:
    """Rows of an analysis, in its output column order and ordering."""
    if name == "energy-by-type":
        groups: dict = defaultdict(list)
        for r in _facts(root, "sale", start, end):
            groups[r[T.energy_type]].append(r)
        rows = []
        for energy, rs in groups.items():
            kwh = sum(r[T.quantity_kwh] for r in rs)
            revenue = sum(r[T.total_amount] for r in rs)
            rows.append((energy, len(rs), kwh, revenue, float(revenue) / float(kwh)))
        return sorted(rows, key=lambda r: (-r[2], r[0]))
    if name == "top-clients":
        clients = {c[C.client_id]: c for c in read_back(root, contract.CLIENTS)}
        groups = defaultdict(list)
        for r in _facts(root, "sale", start, end):
            if r[T.entity_id] in clients:
                groups[r[T.entity_id]].append(r)
        rows = []
        for client_id, rs in groups.items():
            c = clients[client_id]
            kwh = sum(r[T.quantity_kwh] for r in rs)
            revenue = sum(r[T.total_amount] for r in rs)
            rows.append((client_id, c[C.client_name], c[C.client_type], len(rs), kwh, revenue))
        return sorted(rows, key=lambda r: (-r[4], r[0]))[:n]
    if name == "provider-performance":
        providers = {p[P.provider_id]: p for p in read_back(root, contract.PROVIDERS)}
        groups = defaultdict(list)
        for r in _facts(root, "purchase", start, end):
            if r[T.entity_id] in providers:
                groups[r[T.entity_id]].append(r)
        rows = []
        for provider_id, rs in groups.items():
            p = providers[provider_id]
            kwh = sum(r[T.quantity_kwh] for r in rs)
            cost = sum(r[T.total_amount] for r in rs)
            rows.append(
                (provider_id, p[P.provider_name], p[P.energy_type], len(rs), kwh, cost,
                 float(cost) / float(kwh))
            )  # fmt: skip
        return sorted(rows, key=lambda r: (-r[4], r[0]))
    if name == "monthly-price-trend":
        groups = defaultdict(list)
        for r in _facts(root, "sale", start, end):
            when = r[T.transaction_date].astimezone(UTC)
            groups[(dt.date(when.year, when.month, 1), r[T.energy_type])].append(r)
        rows = []
        for (month, energy), rs in groups.items():
            kwh = sum(r[T.quantity_kwh] for r in rs)
            prices = [r[T.price_per_kwh] for r in rs]
            weighted = sum(r[T.price_per_kwh] * r[T.quantity_kwh] for r in rs)
            rows.append(
                (month, energy, len(rs), kwh, min(prices), max(prices),
                 float(weighted) / float(kwh))
            )  # fmt: skip
        return sorted(rows, key=lambda r: (r[0], r[1]))
    raise KeyError(name)
