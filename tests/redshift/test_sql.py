"""The Redshift SQL files: Redshift SQL, the contract's names, views that mirror the analyses."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from energy_lake import contract, naming
from redshift import queries
from redshift.queries import ArgumentError

SQL_DIR = Path(queries.__file__).parent / "sql"
SCHEMA = naming.external_schema_name("dev")
ROLE = "arn:aws:iam::123456789012:role/energy-lake-dev-redshift-spectrum"
SPECTRUM_DDL = re.compile(
    r"^CREATE EXTERNAL SCHEMA IF NOT EXISTS (?P<schema>\w+)\s+FROM DATA CATALOG\s+"
    r"DATABASE '(?P<database>\w+)'\s+IAM_ROLE '(?P<role>[^']+)'$"
)


def contract_schema() -> dict[str, dict[str, str]]:
    """The curated tables as Spectrum sees them: data columns, then partitions."""
    return {
        d.name: dict(d.curated_columns) | dict(d.partition_types)
        for d in contract.DATASETS.values()
    }


def check_against_contract(tree: exp.Expression) -> None:
    """Qualify every column against the contract; raises OptimizeError on an unknown name."""
    qualify(
        tree.copy(),
        schema=contract_schema(),
        dialect="redshift",
        validate_qualify_columns=True,
        identify=False,
    )


def test_every_sql_file_is_used():
    used = {s.file for s in queries.SPECS} | {queries.VIEWS_FILE, queries.EXTERNAL_SCHEMA_FILE}
    assert {p.name for p in SQL_DIR.glob("*.sql")} == used


@pytest.mark.parametrize("spec", queries.SPECS, ids=lambda s: s.name)
def test_each_analysis_is_one_redshift_select_over_contract_columns(spec):
    statements = sqlglot.parse((SQL_DIR / spec.file).read_text(), read="redshift")
    assert len(statements) == 1
    assert isinstance(statements[0], exp.Select)
    check_against_contract(statements[0])


def test_the_contract_check_rejects_a_name_the_contract_does_not_know():
    tree = sqlglot.parse_one("SELECT t.total_price FROM transactions AS t", read="redshift")
    with pytest.raises(OptimizeError):
        check_against_contract(tree)


def test_views_are_late_binding_and_use_contract_columns():
    views = queries.view_trees()
    assert set(views) == {Path(s.file).stem for s in queries.SPECS}
    for view in views.values():
        assert view.args.get("no_schema_binding"), f"{view.this.name} must be late-binding"
        check_against_contract(view.expression)


@pytest.mark.parametrize("spec", queries.SPECS, ids=lambda s: s.name)
def test_each_view_is_its_analysis_without_range_order_and_limit(spec):
    analysis = queries.without_range(queries.analysis_tree(spec.name))
    analysis.set("order", None)
    analysis.set("limit", None)
    view = queries.view_trees()[Path(spec.file).stem].expression
    assert view.sql("redshift", comments=False) == analysis.sql("redshift", comments=False)


def test_the_external_schema_ddl_renders_to_the_spectrum_statement():
    statement = queries.external_schema_statement(SCHEMA, "energy_lake_dev_curated", ROLE)
    # sqlglot has no grammar for CREATE EXTERNAL SCHEMA (it keeps it as a command): check that
    # it tokenizes as Redshift SQL, then its exact shape.
    parsed = sqlglot.parse_one(statement.sql, read="redshift")
    assert isinstance(parsed, exp.Command)
    tokens = [t.text.upper() for t in sqlglot.tokenize(statement.sql, read="redshift")]
    assert tokens[:6] == ["CREATE", "EXTERNAL", "SCHEMA", "IF", "NOT", "EXISTS"]
    match = SPECTRUM_DDL.match(" ".join(statement.sql.split()))
    assert match is not None, statement.sql
    assert match.groupdict() == {
        "schema": SCHEMA,
        "database": "energy_lake_dev_curated",
        "role": ROLE,
    }


@pytest.mark.parametrize(
    ("schema", "database", "role"),
    [
        ("x; DROP SCHEMA public", "energy_lake_dev_curated", ROLE),
        (SCHEMA, "energy_lake_dev_curated' IAM_ROLE 'x", ROLE),
        (SCHEMA, "energy_lake_dev_curated", "arn:aws:iam::123:role/x' --"),
    ],
)
def test_the_external_schema_ddl_accepts_only_plain_names(schema, database, role):
    with pytest.raises(ArgumentError):
        queries.external_schema_statement(schema, database, role)


def placeholders(sql: str) -> set[str]:
    return {p.name for p in sqlglot.parse_one(sql, read="redshift").find_all(exp.Placeholder)}


@pytest.mark.parametrize("spec", queries.SPECS, ids=lambda s: s.name)
def test_a_full_range_analysis_has_no_parameters_and_reads_the_external_schema(spec):
    statement = queries.analysis_statement(spec.name, SCHEMA)
    assert statement.parameters == ()
    assert placeholders(statement.sql) == set()
    tree = sqlglot.parse_one(statement.sql, read="redshift")
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name not in ctes]
    assert tables and {t.db for t in tables} == {SCHEMA}
    assert {t.name for t in tables} <= set(contract.DATASETS)


@pytest.mark.parametrize("spec", queries.SPECS, ids=lambda s: s.name)
def test_a_date_range_is_bound_as_parameters_and_prunes_partitions(spec):
    statement = queries.analysis_statement(
        spec.name, SCHEMA, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31)
    )
    values = {p["name"]: p["value"] for p in statement.parameters}
    assert values == {
        "start_year": "2025",
        "start_day": "20250301",
        "start_time": "2025-03-01 00:00:00",
        "end_year": "2025",
        "end_day": "20250331",
        "end_time": "2025-04-01 00:00:00",  # end day inclusive: before the next midnight
    }
    assert placeholders(statement.sql) == set(values)
    assert ":start_time" in statement.sql  # the Data API's spelling, not %(name)s
    assert "2025" not in statement.sql  # values are bound, never formatted in
    tree = sqlglot.parse_one(statement.sql, read="redshift")
    partition_columns = {c.name for c in tree.find_all(exp.Column)} & set(contract.EVENT_PARTITIONS)
    assert partition_columns == set(contract.EVENT_PARTITIONS)


def test_one_bound_keeps_only_its_conjuncts():
    statement = queries.analysis_statement("energy-by-type", SCHEMA, start=dt.date(2025, 1, 1))
    assert placeholders(statement.sql) == {"start_year", "start_day", "start_time"}
    assert [p["name"] for p in statement.parameters] == ["start_year", "start_day", "start_time"]


def test_top_clients_takes_a_validated_limit():
    assert queries.analysis_statement("top-clients", SCHEMA).sql.endswith("LIMIT 10")
    assert queries.analysis_statement("top-clients", SCHEMA, limit=3).sql.endswith("LIMIT 3")
    for bad in (0, -1, True, "5"):
        with pytest.raises(ArgumentError):
            queries.analysis_statement("top-clients", SCHEMA, limit=bad)
    with pytest.raises(ArgumentError, match="takes no limit"):
        queries.analysis_statement("energy-by-type", SCHEMA, limit=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "revenue-by-moon"}, "unknown analysis"),
        ({"start": dt.date(2025, 2, 1), "end": dt.date(2025, 1, 1)}, "after end"),
        ({"external_schema": "Curated-Schema"}, "not a plain"),
    ],
)
def test_bad_arguments_are_the_callers_to_fix(kwargs, message):
    arguments = {"name": "energy-by-type", "external_schema": SCHEMA} | kwargs
    with pytest.raises(ArgumentError, match=message):
        queries.analysis_statement(
            arguments.pop("name"), arguments.pop("external_schema"), **arguments
        )


def test_setup_creates_the_schema_then_the_views_over_it():
    statements = queries.setup_statements(SCHEMA, "energy_lake_dev_curated", ROLE)
    assert SPECTRUM_DDL.match(" ".join(statements[0].sql.split()))
    assert statements[1].sql == f"CREATE SCHEMA IF NOT EXISTS {queries.VIEWS_SCHEMA}"
    views = [sqlglot.parse_one(s.sql, read="redshift") for s in statements[2:]]
    assert {v.this.name for v in views} == {Path(s.file).stem for s in queries.SPECS}
    for view in views:
        assert view.this.db == queries.VIEWS_SCHEMA
        query = view.expression
        ctes = {c.alias for c in query.find_all(exp.CTE)}
        assert {t.db for t in query.find_all(exp.Table) if t.name not in ctes} == {SCHEMA}
        assert view.args.get("no_schema_binding")
