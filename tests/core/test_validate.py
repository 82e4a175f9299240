"""Every validation rule, alias and rejection reason, on small frames (one shared session)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from energy_lake import contract as c
from glue_jobs.transforms import validate as v

PATH = "file:///lake/raw/transactions/ingest_date=2025-01-02/transactions_20250102.csv"
GOOD = {
    "transaction_id": "T1",
    "transaction_date": "2025-01-02 10:00:00",
    "transaction_type": "purchase",
    "entity_id": "P1",
    "quantity_kwh": "100.5",
    "price_per_kwh": "0.12",
    "energy_type": "wind",
    "total_amount": "12.06",
}


class Batch:
    """Rows registered at import time and checked in one Spark job per dataset.

    Spark's per-job overhead dominates tiny frames, so every parametrised case of this module
    is validated in one pass; each test then looks up its own rows.
    """

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {}
        self.results: dict[str, dict[int, object]] = {}

    def add(self, rows, ds=c.TRANSACTIONS, corrupt=None) -> list[tuple[str, int]]:
        bucket = self.rows.setdefault(ds.name, [])
        ids = []
        for row in rows:
            bucket.append((*[row.get(n) for n in ds.source_header], corrupt, len(bucket), PATH))
            ids.append((ds.name, len(bucket) - 1))
        return ids

    def run(self, spark) -> None:
        for name, records in self.rows.items():
            ds = c.dataset(name)
            schema = ", ".join(f"{n} string" for n in (*ds.source_header, v.CORRUPT_RECORD))
            raw = spark.createDataFrame(
                records, f"{schema}, {v.RECORD_ID} bigint, {v.SOURCE_PATH} string"
            )
            self.results[name] = {r[v.RECORD_ID]: r for r in v.check_rows(raw, ds).collect()}

    def get(self, ids):
        return [self.results[name][i] for name, i in ids]


BATCH = Batch()


@pytest.fixture(scope="module")
def checked(spark):
    BATCH.run(spark)
    return BATCH.get


def case(rows, ds=c.TRANSACTIONS, corrupt=None):
    """Register rows for the module's single validation pass (at import time)."""
    return BATCH.add(rows, ds, corrupt)


def reasons(row) -> list[str]:
    return [f"{e['reason']}:{e['column']}" for e in row[v.ERRORS]]


def with_value(column, text, ds_row=GOOD, ds=c.TRANSACTIONS):
    return case([{**ds_row, column: text}], ds)


GOOD_IDS = case([GOOD])


def test_a_good_row_is_typed_and_valid(checked):
    (row,) = checked(GOOD_IDS)
    assert row[v.ERRORS] == []
    assert row["transaction_date"] == datetime(2025, 1, 2, 10, 0)
    assert row["quantity_kwh"] == Decimal("100.500")
    assert row["price_per_kwh"] == Decimal("0.120000")
    assert row["total_amount"] == Decimal("12.0600")
    assert row["transaction_type"] == "purchase"


TIMESTAMPS = [
    ("2025-01-02 10:00:00", datetime(2025, 1, 2, 10, 0)),
    ("2025-01-02T10:00:00", datetime(2025, 1, 2, 10, 0)),
    ("2025-01-02T10:00:00Z", datetime(2025, 1, 2, 10, 0)),
    ("2025-01-02T10:00:00.250Z", datetime(2025, 1, 2, 10, 0, 0, 250000)),
    ("2025-01-02T10:00:00+02:00", datetime(2025, 1, 2, 8, 0)),
    ("2025-01-02T22:30:00-05:00", datetime(2025, 1, 3, 3, 30)),
    ("2025-03-30T02:30:00+0100", datetime(2025, 3, 30, 1, 30)),
]


@pytest.mark.parametrize(
    ("text", "ids", "utc"),
    [(t, with_value("transaction_date", t), utc) for t, utc in TIMESTAMPS],
    ids=[t for t, _ in TIMESTAMPS],
)
def test_timestamps_are_stored_as_utc(spark, checked, text, ids, utc):
    (row,) = checked(ids)
    assert row[v.ERRORS] == [], text
    # The session time zone is UTC, so collected naive datetimes are UTC wall-clock times.
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert row["transaction_date"] == utc


BAD_TIMESTAMPS = [
    "2025-02-30 10:00:00",
    "02/01/2025 10:00",
    "2025-01-02",
    "ayer",
    "2025-1-2 1:00:00",
]


@pytest.mark.parametrize(
    ("text", "ids"),
    [(t, with_value("transaction_date", t)) for t in BAD_TIMESTAMPS],
    ids=BAD_TIMESTAMPS,
)
def test_bad_timestamps_are_rejected(checked, text, ids):
    (row,) = checked(ids)
    assert reasons(row) == ["invalid_timestamp:transaction_date"]
    assert row[v.ERRORS][0]["value"] == text
    assert "YYYY-MM-DD HH:MM:SS" in row[v.ERRORS][0]["expected"]


MISSING = [
    (col, blank) for col in c.TRANSACTIONS.required_columns for blank in (None, "", "  ", "\t")
]


@pytest.mark.parametrize(
    ("column", "ids"), [(col, with_value(col, blank)) for col, blank in MISSING],
    ids=[f"{col}-{blank!r}" for col, blank in MISSING],
)  # fmt: skip
def test_missing_required_values_are_rejected(checked, column, ids):
    (row,) = checked(ids)
    assert reasons(row)[0] == f"missing_required:{column}"


RULES = [
    ("quantity_kwh", "1,5", "invalid_decimal"),
    ("quantity_kwh", "1.234,56", "invalid_decimal"),
    ("quantity_kwh", "1e3", "invalid_decimal"),
    ("quantity_kwh", "NaN", "invalid_decimal"),
    ("quantity_kwh", "Infinity", "invalid_decimal"),
    ("quantity_kwh", "0", "out_of_range"),
    ("quantity_kwh", "-3.5", "out_of_range"),
    ("price_per_kwh", "-0.01", "out_of_range"),
    ("price_per_kwh", "0.1234567", "invalid_decimal"),
    ("total_amount", "abc", "invalid_decimal"),
    ("energy_type", "plasma", "unknown_value"),
    ("transaction_type", "swap", "unknown_value"),
]


@pytest.mark.parametrize(
    ("column", "text", "reason", "ids"),
    [(col, text, reason, with_value(col, text)) for col, text, reason in RULES],
    ids=[f"{col}-{text}" for col, text, _ in RULES],
)
def test_numbers_ranges_and_enumerations(checked, column, text, reason, ids):
    (row,) = checked(ids)
    assert reasons(row) == [f"{reason}:{column}"]
    assert row[v.ERRORS][0]["value"] == text


ZERO_PRICE = case([{**GOOD, "price_per_kwh": "0", "total_amount": "0"}])


def test_zero_price_is_allowed(checked):
    (row,) = checked(ZERO_PRICE)
    assert row[v.ERRORS] == []


ALIASES = case(
    [
        {**GOOD, "transaction_type": " Compra ", "energy_type": "EÓLICA"},
        {**GOOD, "transaction_type": "VENTA", "energy_type": "gas  natural"},
        {**GOOD, "transaction_type": "sell", "energy_type": "Hidráulica"},
        {**GOOD, "transaction_type": "Buy", "energy_type": "carbón"},
    ]
)


def test_aliases_accents_and_spaces_are_normalised(checked):
    rows = checked(ALIASES)
    assert [(r["transaction_type"], r["energy_type"]) for r in rows] == [
        ("purchase", "wind"),
        ("sale", "gas"),
        ("sale", "hydro"),
        ("purchase", "coal"),
    ]
    assert all(r[v.ERRORS] == [] for r in rows)


TRIMMED = case(
    [
        {**GOOD, "transaction_id": "  T1 ", "entity_id": "\tP1"},
        # no-break, ideographic and line-separator spaces are trimmed; an inner one is kept
        {**GOOD, "transaction_id": "\u00a0T2\u3000", "entity_id": "\u2028P 1\u202f\r"},
        {**GOOD, "transaction_id": "T3", "entity_id": "\u2007\u00a0"},  # only spaces: missing
    ]
)


def test_string_values_are_trimmed(checked):
    first, second, blank = checked(TRIMMED)
    assert (first["transaction_id"], first["entity_id"]) == ("T1", "P1")
    assert (second["transaction_id"], second["entity_id"]) == ("T2", "P 1")
    assert [(e["reason"], e["column"]) for e in blank[v.ERRORS]] == [
        (c.MISSING_REQUIRED, "entity_id")
    ]


def test_the_trimmed_characters_are_java_whitespace_and_unicode_space_separators():
    import unicodedata

    separators = {
        chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) in {"Zs", "Zl", "Zp"}
    }
    assert set(v.SPACES) == set(" \t\n\x0b\f\r") | separators


NO_TOTAL = with_value("total_amount", "")


def test_missing_total_is_quantity_times_price(checked):
    (row,) = checked(NO_TOTAL)
    assert row["total_amount"] == Decimal("12.0600")
    assert row[v.WARNING] is None


TOTALS = case([{**GOOD, "total_amount": "12.08"}, {**GOOD, "total_amount": "12.07"}])


def test_total_off_by_more_than_a_cent_is_kept_with_a_warning(checked):
    off, close = checked(TOTALS)
    assert off[v.ERRORS] == [] and off[v.WARNING] == c.TOTAL_MISMATCH
    assert off["total_amount"] == Decimal("12.0800")  # kept as sent
    assert close[v.WARNING] is None


MALFORMED = case([{**GOOD, "total_amount": None}], corrupt="T1,2025-01-02,purchase")


def test_malformed_rows_are_rejected_first_with_the_raw_record(checked):
    (row,) = checked(MALFORMED)
    assert reasons(row)[0] == "malformed_row:None"
    assert row[v.ERRORS][0]["value"] == "T1,2025-01-02,purchase"


TWO_FAULTS = case([{**GOOD, "entity_id": "", "energy_type": "plasma"}])


def test_every_failed_rule_is_listed(checked):
    (row,) = checked(TWO_FAULTS)
    assert reasons(row) == ["missing_required:entity_id", "unknown_value:energy_type"]


CLIENT = {
    "client_id": "C1", "id_type": "Pasaporte", "identification": "X1",
    "client_name": "Pérez, Ana", "city": "Lima", "client_type": "Comercial",
    "contract_start_date": "2024-02-29",
}  # fmt: skip
GOOD_CLIENT = case([CLIENT], c.CLIENTS)
CLIENT_RULES = [
    ("contract_start_date", "2024-02-30", "invalid_date:contract_start_date"),
    ("contract_start_date", "30/01/2024", "invalid_date:contract_start_date"),
    ("client_type", "mayorista", "unknown_value:client_type"),
    ("id_type", "licencia", "unknown_value:id_type"),
    ("client_id", " ", "missing_required:client_id"),
]


def test_a_good_client_is_normalised(checked):
    (ok,) = checked(GOOD_CLIENT)
    assert ok[v.ERRORS] == []
    assert (ok["id_type"], ok["client_type"]) == ("passport", "commercial")
    assert ok["contract_start_date"] == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("expected", "ids"),
    [(e, with_value(col, text, CLIENT, c.CLIENTS)) for col, text, e in CLIENT_RULES],
    ids=[f"{col}-{text}" for col, text, _ in CLIENT_RULES],
)
def test_dimension_rules(checked, expected, ids):
    (bad,) = checked(ids)
    assert reasons(bad) == [expected]


ZERO_CAPACITY = case(
    [{"provider_id": "P1", "energy_type": "Solar", "capacity_mw": "0"}], c.PROVIDERS
)


def test_capacity_must_be_positive(checked):
    (row,) = checked(ZERO_CAPACITY)
    assert reasons(row) == ["out_of_range:capacity_mw"]


def test_valid_and_rejected_rows_split_with_lineage(spark):
    records = [GOOD, {**GOOD, "transaction_id": "T2", "quantity_kwh": "x"}]
    columns = [*c.TRANSACTIONS.source_header, v.CORRUPT_RECORD]
    raw = spark.createDataFrame(
        [(*[r.get(n) for n in c.TRANSACTIONS.source_header], None, i + 7, PATH)
         for i, r in enumerate(records)],
        ", ".join(f"{n} string" for n in columns)
        + f", {v.RECORD_ID} bigint, {v.SOURCE_PATH} string",
    )  # fmt: skip
    checked = v.check_rows(raw, c.TRANSACTIONS).cache()
    source_row = F.col(v.RECORD_ID) - F.lit(6)
    at = F.lit("2025-01-03 00:00:00").cast("timestamp")
    (ok,) = v.valid_rows(checked, c.TRANSACTIONS, v.Source.from_path(source_row), at).collect()
    (bad,) = v.rejected_rows(checked, c.TRANSACTIONS, v.Source.from_path(source_row), at).collect()
    assert (ok["ingest_date"], ok["source_file"], ok["source_row"]) == (
        date(2025, 1, 2), "transactions_20250102.csv", 1,
    )  # fmt: skip
    assert (ok["year"], ok["month"], ok["day"]) == (2025, 1, 2)
    assert (bad["reason"], bad["column"], bad["source_row"]) == (
        "invalid_decimal",
        "quantity_kwh",
        2,
    )
    assert bad["raw_values"]["quantity_kwh"] == "x"
    assert bad["dataset"] == "transactions"
