"""The one dataset contract: every fact about a source dataset, declared once.

Spark schemas, validation rules, Glue table columns, Athena SQL and Redshift external tables are
all derived from the declarations below. Nothing else in the project types a column name of a
source dataset: it asks this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a dataset is to the curated zone."""

    DIMENSION = "dimension"  # current snapshot, one row per key, latest load wins
    FACT = "fact"  # one row per key across all loads, partitioned by event date


class ColumnType(StrEnum):
    STRING = "string"
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # YYYY-MM-DD HH:MM:SS or ISO-8601, stored as UTC
    DECIMAL = "decimal"
    ENUM = "enum"  # a string normalised to a canonical value


@dataclass(frozen=True)
class Enumeration:
    """Canonical values and the aliases source systems send for them."""

    name: str
    aliases: Mapping[str, tuple[str, ...]]  # canonical -> aliases (canonical itself implied)

    @property
    def canonical_values(self) -> tuple[str, ...]:
        return tuple(self.aliases)

    def lookup(self) -> dict[str, str]:
        """Normalised spelling -> canonical value, including each canonical value itself."""
        table: dict[str, str] = {}
        for canonical, aliases in self.aliases.items():
            for spelling in (canonical, *aliases):
                key = normalise_token(spelling)
                if table.get(key, canonical) != canonical:
                    raise ValueError(f"{self.name}: alias {spelling!r} maps to two values")
                table[key] = canonical
        return table

    def canonical(self, value: str | None) -> str | None:
        """The canonical value for a source spelling, or None when it is unknown."""
        if value is None:
            return None
        return self.lookup().get(normalise_token(value))


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    precision: int | None = None  # DECIMAL only
    scale: int | None = None  # DECIMAL only
    minimum: str | None = None  # DECIMAL only: inclusive lower bound, as a decimal string
    exclusive_minimum: str | None = None  # DECIMAL only: strict lower bound
    enumeration: Enumeration | None = None  # ENUM only
    pii: bool = False
    # Values mostly distinct within a file (event times, measures): stored without a Parquet
    # dictionary (see Dataset.high_cardinality_columns).
    high_cardinality: bool = False
    description: str = ""

    @property
    def sql_type(self) -> str:
        """The type as Hive/Glue/Athena DDL spells it (also valid Spark DDL)."""
        if self.type is ColumnType.DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        if self.type is ColumnType.ENUM:
            return "string"
        return self.type.value

    @property
    def range_rule(self) -> str | None:
        """A human description of the range rule, for error messages and docs."""
        if self.exclusive_minimum is not None:
            return f"> {self.exclusive_minimum}"
        if self.minimum is not None:
            return f">= {self.minimum}"
        return None

    @property
    def decimal_pattern(self) -> str:
        """The accepted source spelling of a DECIMAL: '.' separator, digits bounded by the type."""
        assert self.precision is not None and self.scale is not None
        integer_digits = self.precision - self.scale
        return rf"^[+-]?[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{self.scale}}})?$"


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: Kind
    business_key: str
    columns: tuple[Column, ...]
    event_time: str | None = None  # FACT only: the column partitions are derived from
    description: str = ""
    derived_total: tuple[str, str, str] | None = None  # (total, quantity, price)
    # Facts reference dimensions: the value of `reference_selector` (an enum column) names the
    # dimension that `reference_column` must be a key of.
    references: Mapping[str, str] = field(default_factory=dict)  # enum value -> dataset
    reference_selector: str | None = None
    reference_column: str | None = None

    @property
    def source_header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def partition_columns(self) -> tuple[str, ...]:
        """Partitions of the curated table (and of processed facts, before the load column)."""
        return EVENT_PARTITIONS if self.kind is Kind.FACT else ()

    @property
    def processed_partition_columns(self) -> tuple[str, ...]:
        """Facts by event day, the load a column (a run writes one file per day it touches);
        dimensions by load (one small file per load, re-run in place)."""
        return self.partition_columns if self.kind is Kind.FACT else (LOAD_COLUMN,)

    @property
    def processed_partition_types(self) -> tuple[tuple[str, str], ...]:
        loads = dict(LINEAGE_COLUMNS)
        return tuple((p, loads.get(p, "int")) for p in self.processed_partition_columns)

    @property
    def curated_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, sql type) of curated data columns, partition columns excluded."""
        return tuple((c.name, c.sql_type) for c in self.columns) + LINEAGE_COLUMNS

    @property
    def processed_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, sql type) of processed data columns, partition columns excluded."""
        partitions = self.processed_partition_columns
        return tuple((c.name, c.sql_type) for c in self.columns) + tuple(
            (n, t) for n, t in LINEAGE_COLUMNS if n not in partitions
        )

    @property
    def partition_types(self) -> tuple[tuple[str, str], ...]:
        return tuple((p, "int") for p in self.partition_columns)

    @property
    def high_cardinality_columns(self) -> tuple[str, ...]:
        """Processed and curated columns written without a Parquet dictionary: the business key,
        the columns declared `high_cardinality` and the source row. On such columns the writer
        builds a dictionary for every page, finds it does not pay and re-encodes the page plain:
        the same file, for a fifth of the curated rebuild's CPU time at 10M rows."""
        declared = tuple(c.name for c in self.columns if c.high_cardinality)
        return (self.business_key, *declared, SOURCE_ROW)


# Lineage columns every processed and curated row carries.
LOAD_COLUMN = "ingest_date"
INGESTED_AT = "ingested_at"
SOURCE_ROW = "source_row"
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    (LOAD_COLUMN, "date"),  # the load the row came in
    ("source_file", "string"),  # the raw file name
    (SOURCE_ROW, "bigint"),  # 1-based record number in the file, header excluded
    # When raw_to_processed ran, UTC: one value per run, so with the load it names the version
    # of a load that a processed row belongs to (the load's marker records it).
    (INGESTED_AT, "timestamp"),
)
EVENT_PARTITIONS: tuple[str, ...] = ("year", "month", "day")

# Row-level rejection reasons (machine readable). File-level reasons are in FILE_REJECTIONS.
MALFORMED_ROW = "malformed_row"
MISSING_REQUIRED = "missing_required"
INVALID_DATE = "invalid_date"
INVALID_TIMESTAMP = "invalid_timestamp"
INVALID_DECIMAL = "invalid_decimal"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_VALUE = "unknown_value"
# A value holding U+FFFD (bytes that were not UTF-8, replaced while decoding) or NUL: never
# stored, since the original bytes are lost.
INVALID_ENCODING = "invalid_encoding"
ROW_REJECTIONS = (
    MALFORMED_ROW,
    MISSING_REQUIRED,
    INVALID_DATE,
    INVALID_TIMESTAMP,
    INVALID_DECIMAL,
    OUT_OF_RANGE,
    UNKNOWN_VALUE,
    INVALID_ENCODING,
)
EMPTY_FILE = "empty_file"
MISSING_REQUIRED_COLUMN = "missing_required_column"
DUPLICATE_COLUMN = "duplicate_column"
WRONG_DELIMITER = "wrong_delimiter"
NOT_UTF8 = "not_utf8"
COMPRESSED_FILE = "compressed_file"
TOO_MANY_COLUMNS = "too_many_columns"  # a header far wider than any export of the dataset
FILE_REJECTIONS = (
    EMPTY_FILE,
    MISSING_REQUIRED_COLUMN,
    DUPLICATE_COLUMN,
    WRONG_DELIMITER,
    NOT_UTF8,
    COMPRESSED_FILE,
    TOO_MANY_COLUMNS,
)

# Data-quality warnings: the row is kept, the run report counts it.
TOTAL_MISMATCH = "total_amount_mismatch"
TOTAL_TOLERANCE = "0.01"

ENERGY_TYPE = Enumeration(
    "energy_type",
    {
        "wind": ("eólica", "eolica"),
        "hydro": ("hidráulica", "hidraulica", "hidro"),
        "solar": (),
        "nuclear": (),
        "gas": ("natural gas", "gas natural"),
        "coal": ("carbón",),
        "biomass": ("biomasa",),
        "geothermal": ("geotérmica",),
    },
)
TRANSACTION_TYPE = Enumeration(
    "transaction_type",
    {"purchase": ("compra", "buy"), "sale": ("venta", "sell")},
)
CLIENT_TYPE = Enumeration(
    "client_type",
    {"residential": ("residencial",), "commercial": ("comercial",), "industrial": ()},
)
ID_TYPE = Enumeration(
    "id_type",
    {"DNI": (), "RUC": (), "CE": (), "passport": ("pasaporte",)},
)

CLIENTS = Dataset(
    name="clients",
    kind=Kind.DIMENSION,
    business_key="client_id",
    description="Clients the company sells energy to.",
    columns=(
        Column("client_id", ColumnType.STRING, required=True),
        Column("id_type", ColumnType.ENUM, enumeration=ID_TYPE),
        Column("identification", ColumnType.STRING, pii=True),
        Column("client_name", ColumnType.STRING, pii=True),
        Column("city", ColumnType.STRING),
        Column("client_type", ColumnType.ENUM, enumeration=CLIENT_TYPE),
        Column("contract_start_date", ColumnType.DATE),
    ),
)

PROVIDERS = Dataset(
    name="providers",
    kind=Kind.DIMENSION,
    business_key="provider_id",
    description="Generators the company buys energy from.",
    columns=(
        Column("provider_id", ColumnType.STRING, required=True),
        Column("provider_name", ColumnType.STRING),
        Column("energy_type", ColumnType.ENUM, enumeration=ENERGY_TYPE),
        Column("capacity_mw", ColumnType.DECIMAL, precision=12, scale=3, exclusive_minimum="0"),
        Column("region", ColumnType.STRING),
        Column("contract_start_date", ColumnType.DATE),
    ),
)

TRANSACTIONS = Dataset(
    name="transactions",
    kind=Kind.FACT,
    business_key="transaction_id",
    event_time="transaction_date",
    description="Energy bought from providers and sold to clients.",
    derived_total=("total_amount", "quantity_kwh", "price_per_kwh"),
    references={"purchase": "providers", "sale": "clients"},
    reference_selector="transaction_type",
    reference_column="entity_id",
    columns=(
        Column("transaction_id", ColumnType.STRING, required=True),
        Column("transaction_date", ColumnType.TIMESTAMP, required=True, high_cardinality=True),
        Column("transaction_type", ColumnType.ENUM, required=True, enumeration=TRANSACTION_TYPE),
        Column("entity_id", ColumnType.STRING, required=True),
        Column(
            "quantity_kwh",
            ColumnType.DECIMAL,
            required=True,
            precision=18,
            scale=3,
            exclusive_minimum="0",
            high_cardinality=True,
        ),
        Column(
            "price_per_kwh",
            ColumnType.DECIMAL,
            required=True,
            precision=18,
            scale=6,
            minimum="0",
            high_cardinality=True,
        ),
        Column("energy_type", ColumnType.ENUM, required=True, enumeration=ENERGY_TYPE),
        Column("total_amount", ColumnType.DECIMAL, precision=18, scale=4, high_cardinality=True),
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (CLIENTS, PROVIDERS, TRANSACTIONS)}
DIMENSIONS = tuple(d for d in DATASETS.values() if d.kind is Kind.DIMENSION)
FACTS = tuple(d for d in DATASETS.values() if d.kind is Kind.FACT)

# Accepted source spellings of dates and timestamps (the parser does the calendar check).
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)

# Source file names: <dataset>_YYYYMMDD.csv, the date being the load date.
SOURCE_FILE_PATTERN = re.compile(
    r"^(?P<dataset>" + "|".join(DATASETS) + r")_(?P<date>[0-9]{8})\.csv$", re.IGNORECASE
)


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}") from None


def normalise_token(value: str) -> str:
    """Trim, lower-case and strip accents: the comparison form of an enumeration value."""
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def accent_translation() -> tuple[str, str]:
    """(from, to) character lists folding accented Latin letters to ASCII.

    For engines without an unaccent function (Spark's `translate`): built from Unicode data for
    Latin-1 Supplement and Latin Extended-A, so it agrees with `normalise_token`.
    """
    sources, targets = [], []
    for code in range(0x00C0, 0x0180):
        ch = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFKD", ch.lower()) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base.isascii() and base != ch:
            sources.append(ch)
            targets.append(base)
    return "".join(sources), "".join(targets)
