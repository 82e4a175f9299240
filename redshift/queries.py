"""The warehouse's SQL for the Data API: the Athena analyses (`athena/sql`) transpiled to Redshift.

The four analyses and the optional date range are written once, in Athena's dialect, and loaded
by `athena.queries`; `athena.queries.bind` returns an analysis with the range conjuncts of the
bounds given, its placeholders still named (`:start_year`) and the values to bind. This module
qualifies the curated tables with the Spectrum external schema, rewrites what Redshift reads
differently (row comparisons, unbounded VARCHAR, untyped parameters: see `to_redshift`) and
generates Redshift SQL with the Data API's named parameters, so no caller value is ever
formatted into SQL. The only literal the caller chooses is the top-N limit, a validated int > 0
(Redshift's leader node rejects a parameter there unless the driver types it int4, which the
Data API's string parameters cannot). The views are the same analyses over the full range,
without ORDER BY and LIMIT. Only the Spectrum DDL is Redshift's own: `redshift/sql/`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift

from athena import queries as shared

DIALECT = "redshift"
DEFAULT_TOP_N = shared.DEFAULT_TOP_N
VIEWS_SCHEMA = "analyses"  # local schema of the views mirroring the analyses
EXTERNAL_SCHEMA_FILE = "external_schema.sql"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
SPECS = shared.SPECS
ANALYSES = shared.ANALYSES
AnalysisSpec = shared.AnalysisSpec
# SQL type of a bound value: the Data API sends every value as text.
PARAMETER_TYPES: tuple[tuple[type, str], ...] = ((dt.datetime, "TIMESTAMP"), (int, "INTEGER"))


class DataApiRedshift(Redshift):
    """Redshift SQL with named parameters as the Data API binds them (`:name`, not `%(name)s`)."""

    class Generator(Redshift.Generator):
        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f":{expression.name}"


class ArgumentError(ValueError):
    """A bad analysis name, schema name, date range or limit: the caller's to fix."""


@dataclass(frozen=True)
class Statement:
    """SQL for ExecuteStatement and its named parameters (`[{"name":..., "value":...}]`)."""

    sql: str
    parameters: tuple[dict[str, str], ...] = ()


def sql_text(file: str) -> str:
    return resources.files("redshift").joinpath("sql", file).read_text(encoding="utf-8")


def spec(name: str) -> AnalysisSpec:
    for s in SPECS:
        if s.name == name:
            return s
    raise ArgumentError(f"unknown analysis {name!r}; expected one of {', '.join(ANALYSES)}")


def identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ArgumentError(f"{what} {value!r} is not a plain lower-case SQL identifier")
    return value


@contextmanager
def _callers_errors() -> Iterator[None]:
    """The shared helper's argument errors, as this module's (what the Redshift CLI catches)."""
    try:
        yield
    except shared.ArgumentError as error:
        raise ArgumentError(str(error)) from None


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


def to_redshift(tree: exp.Expression, values: dict[str, object]) -> exp.Expression:
    """Rewrite an Athena analysis tree (in place; returned) for what Redshift reads differently.

    - Row comparisons `(a, b) >= (x, y)`: Redshift documents none, and PostgreSQL before 8.2 (its
      ancestor) compared element-wise; they become the lexicographic OR/AND they mean.
    - `VARCHAR` without a length is VARCHAR(256) on Redshift, which would cut longer strings:
      it becomes `VARCHAR(MAX)`.
    - Each named parameter is cast to its value's type (the Data API sends text).
    """
    for comparison in list(tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE)):
        left, right = comparison.this, comparison.expression
        if isinstance(left, exp.Tuple) and isinstance(right, exp.Tuple):
            comparison.replace(exp.Paren(this=_lexicographic(comparison)))
    for data_type in list(tree.find_all(exp.DataType)):
        if data_type.this == exp.DataType.Type.VARCHAR and not data_type.expressions:
            data_type.replace(exp.DataType.build("VARCHAR(MAX)", dialect=DIALECT))
    for placeholder in list(tree.find_all(exp.Placeholder)):
        placeholder.replace(exp.cast(placeholder.copy(), _sql_type(values[placeholder.name])))
    return tree


def _lexicographic(comparison: exp.Binary) -> exp.Expression:
    """`(a, b, c) >= (x, y, z)` as `a > x OR (a = x AND b > y) OR (a = x AND b = y AND c >= z)`."""
    left, right = comparison.this.expressions, comparison.expression.expressions
    if len(left) != len(right):
        raise ValueError(f"row comparison of unequal widths: {comparison.sql(DIALECT)}")
    strict = exp.GT if isinstance(comparison, exp.GT | exp.GTE) else exp.LT
    pairs = list(zip(left, right, strict=True))
    disjuncts = []
    for i, (a, x) in enumerate(pairs):
        last = type(comparison) if i == len(pairs) - 1 else strict
        terms = [exp.EQ(this=b.copy(), expression=y.copy()) for b, y in pairs[:i]]
        terms.append(last(this=a.copy(), expression=x.copy()))
        disjuncts.append(exp.and_(*terms) if len(terms) > 1 else terms[0])
    return exp.or_(*disjuncts)


def _sql_type(value: object) -> str:
    for python_type, sql_type in PARAMETER_TYPES:
        if isinstance(value, python_type) and not isinstance(value, bool):
            return sql_type
    raise TypeError(f"no Redshift type for a parameter value {value!r}")


def _text(value: object) -> str:
    """A bound value as Data API text (the form its cast reads)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _sql(tree: exp.Expression) -> str:
    return tree.sql(DataApiRedshift, comments=False)


def analysis_statement(
    name: str,
    external_schema: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
) -> Statement:
    """The analysis over `external_schema`, for the UTC days start..end (both inclusive)."""
    chosen = spec(name)
    schema = identifier(external_schema, "external schema")
    with _callers_errors():
        if limit is not None and not shared.analysis(chosen.name).tree.args.get("limit"):
            raise ArgumentError(f"{name} takes no limit")
        bound = shared.bind(name, start=start, end=end, limit=limit, database=schema)
    tree = to_redshift(bound.tree, bound.values)
    names = dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder, bfs=False))
    parameters = tuple({"name": n, "value": _text(bound.values[n])} for n in names)
    return Statement(_sql(tree), parameters)


def view_tree(name: str, external_schema: str, views_schema: str = VIEWS_SCHEMA) -> exp.Create:
    """`CREATE OR REPLACE VIEW <views_schema>.<view> AS <analysis> WITH NO SCHEMA BINDING`.

    The analysis over the full range, without ORDER BY and LIMIT (a view has no order; top-N is
    the reader's). Late-binding: Redshift requires it for views over external tables.
    """
    chosen = spec(name)
    bound = shared.bind(chosen.name, database=identifier(external_schema, "external schema"))
    query = to_redshift(bound.tree, bound.values)
    query.set("order", None)
    query.set("limit", None)
    view = exp.Table(
        this=exp.to_identifier(shared.analysis(chosen.name).view_name),
        db=exp.to_identifier(identifier(views_schema, "views schema")),
    )
    return exp.Create(
        this=view, kind="VIEW", replace=True, expression=query, no_schema_binding=True
    )


def setup_statements(
    external_schema: str, catalog_database: str, iam_role: str, views_schema: str = VIEWS_SCHEMA
) -> list[Statement]:
    """Everything `energy-lake redshift setup` runs, in order (each statement idempotent)."""
    statements = [
        external_schema_statement(external_schema, catalog_database, iam_role),
        Statement(f"CREATE SCHEMA IF NOT EXISTS {identifier(views_schema, 'views schema')}"),
    ]
    for name in ANALYSES:
        statements.append(Statement(_sql(view_tree(name, external_schema, views_schema))))
    return statements
