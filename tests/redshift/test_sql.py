"""The Redshift SQL: derived from athena/sql, Redshift SQL over the contract's names, bound values.

The analyses are written once (athena/sql, checked against the contract by tests/athena); these
tests check what the Redshift helper makes of them: one Redshift SELECT per analysis over the
external schema, every column the contract's, the date range as Data API parameters only, views
equal to the analyses, and the same results as the Athena SQL when both run (on DuckDB, over the
athena tests' lake).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from athena import local
from athena import queries as athena_queries
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
D = dt.date
RANGES = {  # ranges that exercise the partition bounds the Redshift rewrite spells out
    "full": (None, None),
    "one-day": (D(2025, 3, 1), D(2025, 3, 1)),
    "one-month": (D(2025, 2, 1), D(2025, 2, 28)),
    "over-a-month-end": (D(2025, 1, 15), D(2025, 3, 1)),
    # Across a year end: an element-wise (year, month, day) comparison would drop January.
    "over-the-year-end": (D(2024, 12, 31), D(2025, 2, 3)),
    "start-only": (D(2025, 2, 5), None),
    "end-only": (None, D(2025, 2, 1)),
}


def contract_schema() -> dict[str, dict[str, dict[str, str]]]:
    """The curated tables as Spectrum sees them, in the external schema: data, then partitions."""
    return {
        SCHEMA: {
            d.name: dict(d.curated_columns) | dict(d.partition_types)
            for d in contract.DATASETS.values()
        }
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


def parse(sql: str) -> exp.Expression:
    (statement,) = sqlglot.parse(sql, read="redshift")
    assert statement is not None
    return statement


def placeholders(sql: str) -> set[str]:
    return {p.name for p in parse(sql).find_all(exp.Placeholder)}


def source_tables(query: exp.Expression) -> list[exp.Table]:
    ctes = {c.alias for c in query.find_all(exp.CTE)}
    return [t for t in query.find_all(exp.Table) if t.name not in ctes]


def test_redshift_sql_holds_only_the_spectrum_ddl():
    # The analyses and views are athena/sql's, written once; only the DDL is Redshift's own.
    assert {p.name for p in SQL_DIR.glob("*.sql")} == {queries.EXTERNAL_SCHEMA_FILE}


@pytest.mark.parametrize("name", queries.ANALYSES)
@pytest.mark.parametrize("window", ["full", "one-month", "start-only"])
def test_each_analysis_is_one_redshift_select_over_contract_columns(name, window):
    start, end = RANGES[window]
    statement = queries.analysis_statement(name, SCHEMA, start=start, end=end)
    tree = parse(statement.sql)
    assert isinstance(tree, exp.Select)
    check_against_contract(tree)
    tables = source_tables(tree)
    assert tables and {t.db for t in tables} == {SCHEMA}
    assert {t.name for t in tables} <= set(contract.DATASETS)


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_each_analysis_keeps_the_athena_output_columns(name):
    tree = parse(queries.analysis_statement(name, SCHEMA).sql)
    declared = [c.name for c in athena_queries.analysis(name).output_columns]
    assert [p.alias_or_name for p in tree.expressions] == declared


def test_the_contract_check_rejects_a_name_the_contract_does_not_know():
    tree = parse(f"SELECT t.total_price FROM {SCHEMA}.transactions AS t")
    with pytest.raises(OptimizeError):
        check_against_contract(tree)


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_redshift_specifics_are_rendered(name):
    sql = queries.analysis_statement(name, SCHEMA, start=D(2025, 3, 1), end=D(2025, 3, 31)).sql
    tree = parse(sql)
    assert "?" not in sql and "%s" not in sql and "%(" not in sql
    # Row comparisons are spelled out: Redshift documents none (its PostgreSQL 8.0 ancestor
    # compared them element-wise).
    assert not [c for c in tree.find_all(exp.Binary) if isinstance(c.this, exp.Tuple)]
    # An unbounded VARCHAR is VARCHAR(256) on Redshift: strings are cast to VARCHAR(MAX).
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.VARCHAR:
            assert data_type.sql("redshift") == "VARCHAR(MAX)"
    # Every parameter is cast to its type (the Data API sends text).
    for placeholder in tree.find_all(exp.Placeholder):
        assert isinstance(placeholder.parent, exp.Cast)


def test_monthly_price_trend_truncates_to_the_month_and_casts_decimals():
    tree = parse(queries.analysis_statement("monthly-price-trend", SCHEMA).sql)
    (trunc,) = tree.find_all(exp.TimestampTrunc, exp.DateTrunc)
    assert trunc.text("unit").upper() == "MONTH"
    decimals = [t for t in tree.find_all(exp.DataType) if t.this == exp.DataType.Type.DECIMAL]
    assert decimals and all(t.sql("redshift").startswith("DECIMAL(38, ") for t in decimals)


def test_views_are_late_binding_over_the_external_schema_and_contract_columns():
    for name in queries.ANALYSES:
        view = parse(queries.view_tree(name, SCHEMA).sql(queries.DataApiRedshift))
        assert isinstance(view, exp.Create) and view.kind == "VIEW"
        assert view.args.get("no_schema_binding"), f"{view.this.name} must be late-binding"
        assert view.this.db == queries.VIEWS_SCHEMA
        assert view.this.name == athena_queries.analysis(name).view_name
        assert {t.db for t in source_tables(view.expression)} == {SCHEMA}
        check_against_contract(view.expression)


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_each_view_is_its_analysis_without_order_and_limit(name):
    analysis = parse(queries.analysis_statement(name, SCHEMA).sql)
    analysis.set("order", None)
    analysis.set("limit", None)
    view = queries.view_tree(name, SCHEMA).expression
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


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_a_full_range_analysis_has_no_parameters(name):
    statement = queries.analysis_statement(name, SCHEMA)
    assert statement.parameters == ()
    assert placeholders(statement.sql) == set()


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_a_date_range_is_bound_as_parameters_and_prunes_partitions(name):
    statement = queries.analysis_statement(name, SCHEMA, start=D(2025, 3, 1), end=D(2025, 3, 31))
    values = {p["name"]: p["value"] for p in statement.parameters}
    assert values == {
        "start_year": "2025",
        "start_month": "3",
        "start_day": "1",
        "start_time": "2025-03-01 00:00:00",
        "end_year": "2025",
        "end_month": "3",
        "end_day": "31",
        "end_time": "2025-04-01 00:00:00",  # end day inclusive: before the next midnight
        "first_month": "3",  # both ends in one month: month and day bounds for the planner
        "last_month": "3",
        "first_day": "1",
        "last_day": "31",
    }
    assert len(statement.parameters) == len(values)  # each name once (the Data API's rule)
    assert placeholders(statement.sql) == set(values)  # none unused (the Data API refuses it)
    assert ":start_time" in statement.sql  # the Data API's spelling, not %(name)s
    assert "2025" not in statement.sql  # values are bound, never formatted in
    columns = {c.name for c in parse(statement.sql).find_all(exp.Column)}
    assert columns >= set(contract.EVENT_PARTITIONS)


def test_one_bound_keeps_only_its_conjuncts():
    statement = queries.analysis_statement("energy-by-type", SCHEMA, start=D(2025, 1, 1))
    names = ["start_year", "start_month", "start_day", "start_time"]
    assert placeholders(statement.sql) == set(names)
    assert [p["name"] for p in statement.parameters] == names


def test_top_clients_takes_a_validated_limit():
    assert queries.analysis_statement("top-clients", SCHEMA).sql.endswith("LIMIT 10")
    assert queries.analysis_statement("top-clients", SCHEMA, limit=3).sql.endswith("LIMIT 3")
    for bad in (0, -1, True, "5", "3; DROP TABLE x"):
        with pytest.raises(ArgumentError):
            queries.analysis_statement("top-clients", SCHEMA, limit=bad)
    with pytest.raises(ArgumentError, match="takes no limit"):
        queries.analysis_statement("energy-by-type", SCHEMA, limit=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "revenue-by-moon"}, "unknown analysis"),
        ({"start": D(2025, 2, 1), "end": D(2025, 1, 1)}, "before start"),
        ({"start": "2025-01-01"}, "must be a datetime.date"),
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
    views = [parse(s.sql) for s in statements[2:]]
    assert [v.this.name for v in views] == [
        athena_queries.analysis(n).view_name for n in queries.ANALYSES
    ]
    for view, name in zip(views, queries.ANALYSES, strict=True):
        assert view.sql("redshift") == parse(queries.view_tree(name, SCHEMA).sql("redshift")).sql(
            "redshift"
        )
    assert all(s.parameters == () for s in statements)


@pytest.mark.parametrize(
    ("op", "row", "bound"),
    [
        (op, row, (2024, 12, 31))
        for op in (">=", "<=", ">", "<")
        for row in [(2024, 12, 30), (2024, 12, 31), (2025, 1, 1), (2024, 11, 31), (2023, 12, 31)]
    ],
)
def test_row_comparisons_become_their_lexicographic_meaning(op, row, bound):
    tree = sqlglot.parse_one(f"SELECT {row} {op} {bound} AS hit", read="trino")
    queries.to_redshift(tree, {})
    assert not [c for c in tree.find_all(exp.Binary) if isinstance(c.this, exp.Tuple)]
    ((hit,),) = duckdb.sql(tree.sql("duckdb")).fetchall()
    assert hit == {">=": row >= bound, "<=": row <= bound, ">": row > bound, "<": row < bound}[op]


def _bound_literally(statement: queries.Statement) -> str:
    """The statement with each parameter replaced by its value (only to run it off Redshift)."""
    values = {p["name"]: p["value"] for p in statement.parameters}
    tree = parse(statement.sql)
    for placeholder in list(tree.find_all(exp.Placeholder)):
        placeholder.replace(exp.Literal.string(values[placeholder.name]))
    for table in tree.find_all(exp.Table):
        table.set("db", None)  # the local lake's views stand for the external schema's tables
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.VARCHAR:
            data_type.set("expressions", [])  # DuckDB's VARCHAR is unbounded, it has no MAX
    return tree.sql("duckdb")


@pytest.mark.parametrize("name", queries.ANALYSES)
@pytest.mark.parametrize("window", list(RANGES))
def test_the_redshift_sql_computes_what_the_athena_sql_does(lake: Path, name: str, window: str):
    # Both run on DuckDB over the local lake (which names the curated tables as Spectrum does):
    # the Redshift statement, its values bound, and the Athena one (checked against an independent
    # computation in tests/athena). Same rows, same order, same values.
    start, end = RANGES[window]
    statement = queries.analysis_statement(name, SCHEMA, start=start, end=end)
    athena = athena_queries.render(name, start=start, end=end)
    with local.connect(lake) as con:
        result = con.sql(_bound_literally(statement)).fetchall()
        wanted = con.sql(athena.sql("duckdb"), params=[p.value for p in athena.params]).fetchall()
    assert wanted, "a range without rows proves nothing"
    assert result == wanted
