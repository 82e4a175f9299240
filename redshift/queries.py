"""The Redshift SQL of the warehouse: loaded from `redshift/sql/*.sql`, rendered for the Data API.

The files name the curated tables unqualified (`transactions AS t`), as the contract does, so a
test can check every column against `energy_lake.contract`; rendering qualifies them with the
Spectrum external schema. The optional date range is written into each analysis as six
conjuncts with named parameters (`:start_year`, `:start_day`, `:start_time`, and the `end_`
ones); rendering drops the conjuncts of a bound not given and returns the values of the others as
Data API parameters, so no caller value is ever formatted into SQL. The only literal the caller
chooses is the top-N limit, and only as a validated int > 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift

DIALECT = "redshift"
DEFAULT_TOP_N = 10
VIEWS_SCHEMA = "analyses"  # local schema of the views mirroring the analyses
EXTERNAL_SCHEMA_FILE = "external_schema.sql"
VIEWS_FILE = "views.sql"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
RANGE_PARAMETERS = {
    "start": ("start_year", "start_day", "start_time"),
    "end": ("end_year", "end_day", "end_time"),
}


class DataApiRedshift(Redshift):
    """Redshift SQL with named parameters as the Data API binds them (`:name`, not `%(name)s`)."""

    class Generator(Redshift.Generator):
        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f":{expression.name}"


class ArgumentError(ValueError):
    """A bad analysis name, schema name, date range or limit: the caller's to fix."""


@dataclass(frozen=True)
class AnalysisSpec:
    name: str  # CLI name, the same as the Athena helper's
    file: str  # SQL file in redshift/sql (the view of the same stem mirrors it)
    title: str


SPECS: tuple[AnalysisSpec, ...] = (
    AnalysisSpec("energy-by-type", "energy_by_type.sql", "Energy sold by type"),
    AnalysisSpec("top-clients", "top_clients.sql", "Top clients by consumption"),
    AnalysisSpec("provider-performance", "provider_performance.sql", "Provider performance"),
    AnalysisSpec("monthly-price-trend", "monthly_price_trend.sql", "Monthly price trend"),
)
ANALYSES: tuple[str, ...] = tuple(s.name for s in SPECS)


@dataclass(frozen=True)
class Statement:
    """SQL for ExecuteStatement and its named parameters (`[{"name":..., "value":...}]`)."""

    sql: str
    parameters: tuple[dict[str, str], ...] = ()


def sql_text(file: str) -> str:
    return resources.files("redshift").joinpath("sql", file).read_text(encoding="utf-8")


@cache
def _parsed(file: str) -> tuple[exp.Expression, ...]:
    return tuple(e for e in sqlglot.parse(sql_text(file), read=DIALECT) if e is not None)


def spec(name: str) -> AnalysisSpec:
    for s in SPECS:
        if s.name == name:
            return s
    raise ArgumentError(f"unknown analysis {name!r}; expected one of {', '.join(ANALYSES)}")


def identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ArgumentError(f"{what} {value!r} is not a plain lower-case SQL identifier")
    return value


def external_schema_statement(schema: str, catalog_database: str, iam_role: str) -> Statement:
    """CREATE EXTERNAL SCHEMA IF NOT EXISTS ...: the file the deploy's custom resource runs."""
    if not ROLE_ARN.match(iam_role):
        raise ArgumentError(f"{iam_role!r} is not an IAM role ARN")
    lines = [ln for ln in sql_text(EXTERNAL_SCHEMA_FILE).splitlines() if not ln.startswith("--")]
    sql = "\n".join(lines).strip().rstrip(";").strip()
    return Statement(
        sql.format(
            schema=identifier(schema, "schema"),
            catalog_database=identifier(catalog_database, "catalog database"),
            iam_role=iam_role,
        )
    )


def analysis_tree(name: str) -> exp.Select:
    """The parsed analysis as written (a copy: callers may change it)."""
    (tree,) = _parsed(spec(name).file)
    assert isinstance(tree, exp.Select)
    return tree.copy()


def without_range(
    tree: exp.Expression, bounds: tuple[str, ...] = ("start", "end")
) -> exp.Expression:
    """`tree` with the date-range conjuncts of `bounds` removed (in place; returned)."""
    names = {p for b in bounds for p in RANGE_PARAMETERS[b]}
    for placeholder in list(tree.find_all(exp.Placeholder)):
        if placeholder.name not in names:
            continue
        conjunct = placeholder
        while not isinstance(conjunct.parent, exp.And | exp.Where):
            conjunct = conjunct.parent
        _remove_conjunct(conjunct)
    return tree


def _remove_conjunct(node: exp.Expression) -> None:
    parent = node.parent
    if isinstance(parent, exp.Where):
        parent.pop()
        return
    other = parent.expression if parent.this is node else parent.this
    parent.replace(other)


def qualify_tables(tree: exp.Expression, schema: str) -> exp.Expression:
    """Qualify every table that is not a CTE of the query with `schema` (in place; returned)."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.db and table.name not in ctes:
            table.set("db", exp.to_identifier(schema))
    return tree


def analysis_statement(
    name: str,
    external_schema: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
) -> Statement:
    """The analysis over `external_schema`, for the UTC days start..end (both inclusive)."""
    if start and end and start > end:
        raise ArgumentError(f"start {start} is after end {end}")
    tree = analysis_tree(name)
    missing = tuple(b for b, value in (("start", start), ("end", end)) if value is None)
    without_range(tree, missing)
    qualify_tables(tree, identifier(external_schema, "external schema"))
    if limit is not None:
        if not tree.args.get("limit"):
            raise ArgumentError(f"{name} takes no limit")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ArgumentError(f"limit must be an int > 0, got {limit!r}")
        tree = tree.limit(limit)
    parameters: list[dict[str, str]] = []
    if start is not None:
        parameters += _bound_parameters("start", start, start)
    if end is not None:
        parameters += _bound_parameters("end", end, end + dt.timedelta(days=1))
    return Statement(tree.sql(DataApiRedshift, comments=False), tuple(parameters))


def _bound_parameters(bound: str, day: dt.date, instant: dt.date) -> list[dict[str, str]]:
    year, day_key, time = RANGE_PARAMETERS[bound]
    return [
        {"name": year, "value": str(day.year)},
        {"name": day_key, "value": day.strftime("%Y%m%d")},
        {"name": time, "value": f"{instant.isoformat()} 00:00:00"},
    ]


def view_trees() -> dict[str, exp.Create]:
    """View name -> the parsed CREATE VIEW of views.sql (copies)."""
    views: dict[str, exp.Create] = {}
    for statement in _parsed(VIEWS_FILE):
        assert isinstance(statement, exp.Create) and statement.kind == "VIEW", statement
        views[statement.this.name] = statement.copy()
    return views


def setup_statements(
    external_schema: str, catalog_database: str, iam_role: str, views_schema: str = VIEWS_SCHEMA
) -> list[Statement]:
    """Everything `energy-lake redshift setup` runs, in order (each statement idempotent)."""
    statements = [
        external_schema_statement(external_schema, catalog_database, iam_role),
        Statement(f"CREATE SCHEMA IF NOT EXISTS {identifier(views_schema, 'views schema')}"),
    ]
    for view in view_trees().values():
        view.this.set("db", exp.to_identifier(views_schema))
        qualify_tables(view.expression, identifier(external_schema, "external schema"))
        statements.append(Statement(view.sql(DataApiRedshift, comments=False)))
    return statements
