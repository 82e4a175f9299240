"""The contract says what DESIGN.md says, and what is derived from it agrees with it."""

from __future__ import annotations

import pytest

from energy_lake import contract as c


def test_source_headers_are_the_exports_of_the_source_systems():
    assert c.CLIENTS.source_header == (
        "client_id", "id_type", "identification", "client_name", "city", "client_type",
        "contract_start_date",
    )  # fmt: skip
    assert c.PROVIDERS.source_header == (
        "provider_id", "provider_name", "energy_type", "capacity_mw", "region",
        "contract_start_date",
    )  # fmt: skip
    assert c.TRANSACTIONS.source_header == (
        "transaction_id", "transaction_date", "transaction_type", "entity_id", "quantity_kwh",
        "price_per_kwh", "energy_type", "total_amount",
    )  # fmt: skip


def test_required_columns_keys_and_kinds():
    assert c.CLIENTS.required_columns == ("client_id",)
    assert c.PROVIDERS.required_columns == ("provider_id",)
    assert set(c.TRANSACTIONS.required_columns) == {
        "transaction_id", "transaction_date", "transaction_type", "entity_id", "quantity_kwh",
        "price_per_kwh", "energy_type",
    }  # fmt: skip
    assert [d.name for d in c.DIMENSIONS] == ["clients", "providers"]
    assert [d.name for d in c.FACTS] == ["transactions"]
    for ds in c.DATASETS.values():
        assert ds.business_key in ds.required_columns


def test_pii_columns_are_declared_once():
    assert c.CLIENTS.pii_columns == ("identification", "client_name")
    assert c.PROVIDERS.pii_columns == c.TRANSACTIONS.pii_columns == ()


def test_money_and_energy_are_exact_decimals():
    types = dict(c.TRANSACTIONS.curated_columns)
    assert types["quantity_kwh"] == "decimal(18,3)"
    assert types["price_per_kwh"] == "decimal(18,6)"
    assert types["total_amount"] == "decimal(18,4)"
    assert dict(c.PROVIDERS.curated_columns)["capacity_mw"] == "decimal(12,3)"


def test_partitions_and_lineage_are_derived():
    assert c.TRANSACTIONS.partition_types == (("year", "int"), ("month", "int"), ("day", "int"))
    assert c.CLIENTS.partition_types == ()
    assert c.TRANSACTIONS.processed_partition_columns == ("year", "month", "day")
    assert c.CLIENTS.processed_partition_types == (("ingest_date", "date"),)
    lineage = ("ingest_date", "source_file", "source_row", "ingested_at")
    for ds in c.DATASETS.values():
        assert tuple(n for n, _ in ds.curated_columns[-4:]) == lineage
    # facts keep the load as a column (one file per event day), dimensions partition by it
    assert "ingest_date" in dict(c.TRANSACTIONS.processed_columns)
    assert "ingest_date" not in dict(c.CLIENTS.processed_columns)


@pytest.mark.parametrize(
    ("enum", "spelling", "canonical"),
    [
        (c.TRANSACTION_TYPE, "Compra", "purchase"),
        (c.TRANSACTION_TYPE, " BUY ", "purchase"),
        (c.TRANSACTION_TYPE, "venta", "sale"),
        (c.TRANSACTION_TYPE, "Sell", "sale"),
        (c.ENERGY_TYPE, "Eólica", "wind"),
        (c.ENERGY_TYPE, "EOLICA", "wind"),
        (c.ENERGY_TYPE, "hidráulica", "hydro"),
        (c.ENERGY_TYPE, "Hidro", "hydro"),
        (c.ENERGY_TYPE, "Gas  Natural", "gas"),
        (c.ENERGY_TYPE, "natural gas", "gas"),
        (c.ENERGY_TYPE, "Carbón", "coal"),
        (c.ENERGY_TYPE, "biomasa", "biomass"),
        (c.ENERGY_TYPE, "Geotérmica", "geothermal"),
        (c.CLIENT_TYPE, "Residencial", "residential"),
        (c.CLIENT_TYPE, "COMERCIAL", "commercial"),
        (c.ID_TYPE, "dni", "DNI"),
        (c.ID_TYPE, "Pasaporte", "passport"),
    ],
)
def test_aliases_normalise_to_canonical_english(enum, spelling, canonical):
    assert enum.canonical(spelling) == canonical


@pytest.mark.parametrize("unknown", ["plasma", "compraventa", "", "eólicas"])
def test_unknown_values_are_not_guessed(unknown):
    assert c.ENERGY_TYPE.canonical(unknown) is None
    assert c.TRANSACTION_TYPE.canonical(unknown) is None


def test_accent_translation_agrees_with_normalise_token():
    source, target = c.accent_translation()
    table = str.maketrans(source, target)
    for enum in (c.ENERGY_TYPE, c.TRANSACTION_TYPE, c.CLIENT_TYPE, c.ID_TYPE):
        for canonical, aliases in enum.aliases.items():
            for spelling in (canonical, *aliases):
                assert spelling.lower().translate(table) == c.normalise_token(spelling)


def test_decimal_pattern_is_bounded_by_the_type():
    import re

    quantity = c.TRANSACTIONS.column("quantity_kwh")
    pattern = re.compile(quantity.decimal_pattern)
    assert pattern.match("123456789012345.123")
    assert not pattern.match("1234567890123456.1")  # 16 integer digits do not fit (18,3)
    assert not pattern.match("1.1234")  # more decimals than the column keeps
    assert not pattern.match("1,5")
    assert not pattern.match("1e3")


def test_source_file_names():
    m = c.SOURCE_FILE_PATTERN.match("transactions_20250131.csv")
    assert m and m.group("dataset") == "transactions" and m.group("date") == "20250131"
    assert c.SOURCE_FILE_PATTERN.match("ventas_20250131.csv") is None
    with pytest.raises(KeyError, match="unknown dataset 'sales'"):
        c.dataset("sales")
