"""The analyses' SQL: checked against the contract, rendered with bound parameters only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlglot
from sqlglot import exp

from athena import queries
from athena.queries import ArgumentError
from energy_lake import contract

SQL_FILES = sorted(p.name for p in queries.SQL_DIR.glob("*.sql"))
FEB = {"start": dt.date(2025, 2, 1), "end": dt.date(2025, 2, 28)}


def test_every_sql_file_is_an_analysis_or_the_range() -> None:
    analyses_and_range = sorted([*(s.file for s in queries.SPECS), queries.RANGE_FILE])
    assert analyses_and_range == SQL_FILES


@pytest.mark.parametrize("file", SQL_FILES)
def test_sql_files_use_only_contract_tables_columns_and_values(file: str) -> None:
    queries.check_against_contract(file)


@pytest.mark.parametrize(
    ("bad_sql", "message"),
    [
        ("SELECT t.no_such_column FROM transactions AS t", "no_such_column"),
        ("SELECT x.client_id FROM customers AS x", "customers"),
        ("SELECT t.entity_id FROM transactions AS t WHERE t.transaction_type = 'sell'", "sell"),
        ("SELECT t.entity_id FROM transactions AS t WHERE t.entity_id = 'C1'", "non-enum"),
    ],
)
def test_contract_check_rejects_unknown_names_and_values(
    monkeypatch: pytest.MonkeyPatch, bad_sql: str, message: str
) -> None:
    monkeypatch.setattr(queries, "_read_sql", lambda file: bad_sql)
    with pytest.raises(ValueError, match=message):
        queries.check_against_contract("bad.sql")


def test_analysis_names_and_output_columns_are_the_designed_ones() -> None:
    # The analyses' public output (DESIGN.md, "Analyses"): names and order.
    assert queries.ANALYSES == (
        "energy-by-type",
        "top-clients",
        "provider-performance",
        "monthly-price-trend",
    )
    designed = {
        "energy-by-type": "energy_type transactions total_kwh revenue avg_price_per_kwh",
        "top-clients": "client_id client_name client_type transactions total_kwh revenue",
        "provider-performance": "provider_id provider_name energy_type transactions total_kwh "
        "cost avg_price_per_kwh",
        "monthly-price-trend": "month energy_type transactions total_kwh min_price_per_kwh "
        "max_price_per_kwh avg_price_per_kwh",
    }
    for name, columns in designed.items():
        assert [c.name for c in queries.analysis(name).output_columns] == columns.split()


def _flat(condition: exp.Expression) -> list[exp.Expression]:
    if isinstance(condition, exp.Paren):
        return _flat(condition.this)
    if isinstance(condition, exp.And):
        return _flat(condition.this) + _flat(condition.expression)
    return [condition]


def _conjuncts_on(tree: exp.Expression, columns: set[str]) -> list[exp.Expression]:
    """Conjuncts of the transactions scan's WHERE that reference only `columns`."""
    scan = next(t for t in tree.find_all(exp.Table) if t.name == contract.TRANSACTIONS.name)
    where = scan.find_ancestor(exp.Select).args["where"].this
    out = []
    for conjunct in _flat(where):
        names = {col.name for col in conjunct.find_all(exp.Column)}
        if names and names <= columns:
            out.append(conjunct)
    return out


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_a_date_range_adds_partition_predicates_with_bound_parameters(name: str) -> None:
    rendered = queries.render(name, **FEB)
    sql = rendered.sql()
    partitions = set(contract.TRANSACTIONS.partition_columns)
    on_partitions = _conjuncts_on(sqlglot.parse_one(sql, read="trino"), partitions)
    # year >= / <=, (year, month, day) >= / <=, month and day BETWEEN (one month)
    assert len(on_partitions) == 6
    assert "2025" not in sql and "?" in sql  # values are parameters, not SQL text
    assert sql.count("?") == len(rendered.params) == 14
    assert [p.athena_literal() for p in rendered.params] == FEB_PARAMETERS


FEB_PARAMETERS = [
    "2025", "2025", "2", "1", "TIMESTAMP '2025-02-01 00:00:00'",
    "2025", "2025", "2", "28", "TIMESTAMP '2025-03-01 00:00:00'",
    "2", "2", "1", "28",
]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "plain_bounds"),
    [
        (dt.date(2024, 12, 31), dt.date(2025, 1, 1), {"year"}),
        (dt.date(2025, 1, 31), dt.date(2025, 2, 1), {"year", "month"}),
        (dt.date(2025, 2, 3), dt.date(2025, 2, 3), {"year", "month", "day"}),
        (dt.date(2025, 2, 3), None, {"year"}),
    ],
)
def test_plain_partition_bounds_are_added_where_they_are_exact(start, end, plain_bounds) -> None:
    rendered = queries.render("energy-by-type", start=start, end=end)
    partitions = set(contract.TRANSACTIONS.partition_columns)
    tree = sqlglot.parse_one(rendered.sql(), read="trino")
    single = [c for c in _conjuncts_on(tree, partitions) if not list(c.find_all(exp.Tuple))]
    assert {col.name for c in single for col in c.find_all(exp.Column)} == plain_bounds


def test_parameter_order_is_the_placeholders_textual_order() -> None:
    range_sql = queries._read_sql(queries.RANGE_FILE)
    where = range_sql[range_sql.index("WHERE") :]
    textual = re.findall(r":([a-z_]+)", where)
    rendered = queries.render("energy-by-type", **FEB)
    assert [p.name for p in rendered.params] == textual


def test_open_ended_ranges_bind_only_their_side() -> None:
    start_only = queries.render("energy-by-type", start=dt.date(2025, 3, 1))
    assert {p.name.split("_")[0] for p in start_only.params} == {"start"}
    end_only = queries.render("energy-by-type", end=dt.date(2025, 3, 1))
    assert {p.name.split("_")[0] for p in end_only.params} == {"end"}
    assert end_only.params[-1].value == dt.datetime(2025, 3, 2)  # end day inclusive


def test_full_range_sql_has_no_parameters_and_no_partition_filter() -> None:
    rendered = queries.render("monthly-price-trend")
    assert rendered.params == ()
    partitions = set(contract.TRANSACTIONS.partition_columns)
    assert _conjuncts_on(sqlglot.parse_one(rendered.sql(), read="trino"), partitions) == []


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_named_query_sql_is_full_range_trino_over_the_database(name: str) -> None:
    sql = queries.named_query_sql(name, "energy_lake_dev_curated")
    tree = sqlglot.parse_one(sql, read="trino")
    assert not list(tree.find_all(exp.Placeholder))
    tables = [t for t in tree.find_all(exp.Table) if t.name in contract.DATASETS]
    assert tables and all(t.db == "energy_lake_dev_curated" for t in tables)


def test_top_clients_limit_is_the_default_n_or_the_callers() -> None:
    assert queries.render("top-clients").tree.args["limit"].expression.name == "10"
    assert queries.render("top-clients", limit=3).tree.args["limit"].expression.name == "3"
    assert queries.render("energy-by-type", limit=2).tree.args["limit"].expression.name == "2"


def test_create_view_sql_names_the_view_in_the_database() -> None:
    sql = queries.create_view_sql("provider-performance", "energy_lake_prod_curated")
    tree = sqlglot.parse_one(sql, read="trino")
    assert isinstance(tree, exp.Create) and tree.kind == "VIEW" and tree.args["replace"]
    assert tree.this.sql("trino") == "energy_lake_prod_curated.provider_performance"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": dt.date(2025, 2, 2), "end": dt.date(2025, 2, 1)}, "before start"),
        ({"start": dt.datetime(2025, 2, 2)}, "datetime.date"),
        ({"start": "2025-02-02"}, "datetime.date"),
        ({"end": dt.date.max}, "out of range"),
        ({"limit": 0}, "> 0"),
        ({"limit": -1}, "> 0"),
        ({"limit": True}, "> 0"),
        ({"limit": "5"}, "> 0"),
    ],
)
def test_bad_arguments_are_argument_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        queries.render("top-clients", **kwargs)


def test_unknown_analysis_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="unknown analysis 'revenue'"):
        queries.render("revenue")


@pytest.mark.parametrize("text", ["2025-2-1", "2025-02-30", "01/02/2025", "", "2025-02-01x"])
def test_parse_date_rejects_anything_but_a_real_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(ArgumentError, match="YYYY-MM-DD"):
        queries.parse_date(text, "--start")


def test_importing_the_sql_module_does_not_load_the_engines() -> None:
    import subprocess
    import sys

    code = (
        "import sys, athena.queries; "
        "print(sorted(m for m in ('pandas', 'duckdb', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
