"""The four analyses' SQL: loaded from `athena/sql/*.sql` (Athena's dialect, Trino), rendered.

Each analysis is written once, full range, in its own SQL file. The optional date range is one
more SQL file (`transaction_date_range.sql`) whose conjuncts, written with named placeholders,
are appended to the WHERE of the analysis' scan of transactions. Rendering turns the named
placeholders into positional `?` parameters and returns the values to bind, in order, so no
user value is ever formatted into SQL text. The only value rendered as a literal is the row
limit (Athena accepts `?` only in WHERE), and only as a validated int > 0.

Table and column names in the SQL files are the contract's: `check_against_contract` qualifies
every file against a schema built from `energy_lake.contract` and fails on any name it does not
know (the tests run it on every file). Output columns and their types are declared once, in the
SQL: every projection of an analysis' outer SELECT is `CAST(... AS <type>) AS <name>`, and both
backends type their DataFrames from that declaration (`Analysis.output_columns`).

`bind` is the extension point for another engine: the same query before its named placeholders
become positional, with the value of each (the Redshift helper transpiles it and binds by name).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from energy_lake import contract

DIALECT = "trino"  # Athena engine v3
DEFAULT_TOP_N = 10
RANGE_FILE = "transaction_date_range.sql"
FACT = contract.TRANSACTIONS  # the table every analysis scans and the range filters
FACT_ALIAS = "t"  # the alias the analyses and the range file give it


@dataclass(frozen=True)
class AnalysisSpec:
    name: str  # CLI name
    file: str  # SQL file in athena/sql
    title: str  # for humans (demo output, view comments)


SPECS: tuple[AnalysisSpec, ...] = (
    AnalysisSpec("energy-by-type", "energy_by_type.sql", "Energy sold by type"),
    AnalysisSpec("top-clients", "top_clients.sql", "Top clients by consumption"),
    AnalysisSpec("provider-performance", "provider_performance.sql", "Provider performance"),
    AnalysisSpec("monthly-price-trend", "monthly_price_trend.sql", "Monthly price trend"),
)
ANALYSES: tuple[str, ...] = tuple(s.name for s in SPECS)


class ArgumentError(ValueError):
    """A bad analysis name, date range or limit: the caller's to fix."""


@dataclass(frozen=True)
class OutputColumn:
    name: str
    type: exp.DataType  # as declared by the CAST in the SQL file

    @property
    def sql_type(self) -> str:
        return self.type.sql(DIALECT).lower()


@dataclass(frozen=True)
class Analysis:
    spec: AnalysisSpec
    tree: exp.Select  # the parsed full-range query (never mutated: always copied)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def view_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def output_columns(self) -> tuple[OutputColumn, ...]:
        return _output_columns(self.tree, self.name)


@dataclass(frozen=True)
class Param:
    """One positional parameter: its name in the range file and its (validated) value."""

    name: str
    value: int | dt.datetime

    def athena_literal(self) -> str:
        """The value as an Athena execution parameter (a typed SQL literal of a safe value)."""
        if isinstance(self.value, dt.datetime):
            return f"TIMESTAMP '{self.value:%Y-%m-%d %H:%M:%S}'"
        return str(int(self.value))


@dataclass(frozen=True)
class RenderedQuery:
    analysis: Analysis
    tree: exp.Expression  # with positional placeholders
    params: tuple[Param, ...]

    def sql(self, dialect: str = DIALECT, pretty: bool = True) -> str:
        return self.tree.sql(dialect=dialect, pretty=pretty)


SQL_DIR = Path(__file__).resolve().parent / "sql"  # next to this module, however installed


def _read_sql(file: str) -> str:
    return (SQL_DIR / file).read_text(encoding="utf-8")


def parse_sql_file(file: str) -> exp.Select:
    tree = sqlglot.parse_one(_read_sql(file), read=DIALECT)
    if not isinstance(tree, exp.Select):
        raise ValueError(f"athena/sql/{file}: expected one SELECT statement")
    return tree


def analysis(name: str) -> Analysis:
    return _analyses()[_check_name(name)]


def analyses() -> tuple[Analysis, ...]:
    return tuple(_analyses().values())


@cache
def _analyses() -> dict[str, Analysis]:
    out = {}
    for spec in SPECS:
        tree = parse_sql_file(spec.file)
        _output_columns(tree, spec.name)  # fail at load on an undeclared output type
        _fact_scan(tree, spec.file)
        out[spec.name] = Analysis(spec, tree)
    return out


def _check_name(name: str) -> str:
    if name not in ANALYSES:
        raise ArgumentError(f"unknown analysis {name!r}; expected one of {', '.join(ANALYSES)}")
    return name


def _output_columns(tree: exp.Select, name: str) -> tuple[OutputColumn, ...]:
    columns = []
    for projection in tree.expressions:
        if not (isinstance(projection, exp.Alias) and isinstance(projection.this, exp.Cast)):
            raise ValueError(
                f"{name}: every output column must be `CAST(... AS type) AS name`, "
                f"got {projection.sql(DIALECT)}"
            )
        columns.append(OutputColumn(projection.alias, projection.this.to))
    return tuple(columns)


def _fact_scan(tree: exp.Expression, where: str) -> exp.Select:
    """The one SELECT that reads the fact table, aliased FACT_ALIAS."""
    scans = [
        table
        for table in tree.find_all(exp.Table)
        if table.name == FACT.name and not table.args.get("db")
    ]
    if len(scans) != 1 or scans[0].alias != FACT_ALIAS:
        raise ValueError(f"{where}: expected one scan of {FACT.name} AS {FACT_ALIAS}")
    select = scans[0].find_ancestor(exp.Select)
    assert select is not None
    return select


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        for label, value in (("start", self.start), ("end", self.end)):
            if value is not None and (
                not isinstance(value, dt.date) or isinstance(value, dt.datetime)
            ):
                raise ArgumentError(f"{label} must be a datetime.date, got {value!r}")
        if self.end is not None and self.end >= dt.date.max:
            raise ArgumentError(f"end {self.end} is out of range")
        if self.start and self.end and self.end < self.start:
            raise ArgumentError(f"end {self.end} is before start {self.start}")

    def values(self) -> dict[str, int | dt.datetime]:
        """Values of the range file's placeholders that this range binds."""
        out: dict[str, int | dt.datetime] = {}
        if self.start is not None:
            s = self.start
            out |= {"start_year": s.year, "start_month": s.month, "start_day": s.day}
            out["start_time"] = dt.datetime.combine(s, dt.time())
        if self.end is not None:
            e = self.end
            out |= {"end_year": e.year, "end_month": e.month, "end_day": e.day}
            out["end_time"] = dt.datetime.combine(e + dt.timedelta(days=1), dt.time())
        if self.start is not None and self.end is not None and self.start.year == self.end.year:
            out |= {"first_month": self.start.month, "last_month": self.end.month}
            if self.start.month == self.end.month:
                out |= {"first_day": self.start.day, "last_day": self.end.day}
        return out


def parse_date(value: str, label: str) -> dt.date:
    """`YYYY-MM-DD` -> date, with an error a user can act on."""
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentError(f"{label} must be a date YYYY-MM-DD, got {value!r}") from None


def check_limit(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ArgumentError(f"the limit must be an integer > 0, got {n!r}")
    return n


def parse_limit(text: str | None) -> int | None:
    """A `--limit` as typed on a command line -> a checked int (None when not given)."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ArgumentError(f"--limit must be an integer > 0, got {text!r}") from None
    return check_limit(value)


@cache
def _range_conjuncts() -> tuple[exp.Expression, ...]:
    tree = parse_sql_file(RANGE_FILE)
    _fact_scan(tree, RANGE_FILE)
    where = tree.args.get("where")
    assert where is not None, f"{RANGE_FILE}: expected a WHERE clause"
    return tuple(where.this.flatten()) if isinstance(where.this, exp.And) else (where.this,)


def _placeholder_names(node: exp.Expression) -> set[str]:
    return {p.name for p in node.find_all(exp.Placeholder)}


@dataclass(frozen=True)
class BoundQuery:
    """An analysis for a date range, limit and qualifier, its placeholders still named.

    The extension point for other engines (the Redshift helper): they transpile `tree` and bind
    `values` their own way. `render` turns it into Athena's positional `?` parameters.
    """

    analysis: Analysis
    tree: exp.Select  # named placeholders (`:start_year`); a copy the caller may change
    values: dict[str, int | dt.datetime]  # the value of every placeholder in `tree`, by name


def bind(
    name: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
    database: str | None = None,
) -> BoundQuery:
    """The analysis with the range conjuncts of the bounds given, its limit and qualifier.

    `limit` replaces the file's LIMIT (top-clients: N, default 10) or adds one, as a literal
    (a validated int > 0). `database` qualifies the contract's tables (a Glue database on
    Athena, a schema elsewhere).
    """
    chosen = analysis(name)
    date_range = DateRange(start, end)
    if limit is not None:
        check_limit(limit)
    tree = chosen.tree.copy()
    values = date_range.values()
    conjuncts = [c.copy() for c in _range_conjuncts() if _placeholder_names(c) <= values.keys()]
    scan = _fact_scan(tree, chosen.spec.file)
    if conjuncts:
        _and_where(scan, conjuncts)
    if limit is not None:
        tree = tree.limit(exp.Literal.number(limit), copy=False)
    if database is not None:
        for table in tree.find_all(exp.Table):
            if table.name in contract.DATASETS and not table.args.get("db"):
                table.set("db", exp.to_identifier(database))
    used = _placeholder_names(tree)
    return BoundQuery(chosen, tree, {k: v for k, v in values.items() if k in used})


def render(
    name: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
    database: str | None = None,
) -> RenderedQuery:
    """The analysis' SQL for a date range (None: unbounded), row limit and database.

    `limit` replaces the file's LIMIT (top-clients: N, default 10) or adds one. `database`
    qualifies the contract's tables (views and named queries need it; queries run with a
    database context do not).
    """
    bound = bind(name, start=start, end=end, limit=limit, database=database)
    tree = bound.tree
    params = []
    for placeholder in list(tree.find_all(exp.Placeholder, bfs=False)):
        params.append(Param(placeholder.name, bound.values[placeholder.name]))
        placeholder.replace(exp.Placeholder())
    return RenderedQuery(bound.analysis, tree, tuple(params))


def _and_where(select: exp.Select, conjuncts: list[exp.Expression]) -> None:
    """AND conjuncts onto a SELECT's WHERE as one flat chain (readable SQL, no nesting)."""
    where = select.args.get("where")
    condition = where.this if where is not None else None
    if isinstance(condition, exp.Or):
        condition = exp.Paren(this=condition)
    for conjunct in conjuncts:
        condition = conjunct if condition is None else exp.And(this=condition, expression=conjunct)
    select.set("where", exp.Where(this=condition))


def named_query_sql(name: str, database: str) -> str:
    """Full-range SQL of an analysis over `database`, with its default limit (Athena dialect).

    Used for the Athena views and the CDK named queries; it has no parameters.
    """
    return render(name, database=database).sql()


def create_view_sql(name: str, database: str) -> str:
    """`CREATE OR REPLACE VIEW <database>.<view> AS <full-range SQL>` (Athena dialect)."""
    chosen = analysis(name)
    view = exp.Table(this=exp.to_identifier(chosen.view_name), db=exp.to_identifier(database))
    body = render(name, database=database).tree
    statement = exp.Create(this=view, kind="VIEW", replace=True, expression=body)
    return statement.sql(dialect=DIALECT, pretty=True)


def contract_schema() -> dict[str, dict[str, str]]:
    """{table: {column: type}} of the curated tables, partition columns included."""
    return {
        d.name: dict(d.curated_columns) | dict(d.partition_types)
        for d in contract.DATASETS.values()
    }


def check_against_contract(file: str) -> None:
    """Fail unless every table, column and enum literal in a SQL file is the contract's."""
    tree = parse_sql_file(file)
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name not in contract.DATASETS and table.name not in ctes:
            raise ValueError(f"{file}: table {table.name!r} is not a contract dataset")
    try:
        qualified = qualify(
            tree.copy(),
            schema=contract_schema(),
            dialect=DIALECT,
            validate_qualify_columns=True,
            expand_stars=True,
        )
    except OptimizeError as error:
        raise ValueError(f"{file}: {error}") from None
    for comparison in qualified.find_all(exp.EQ):
        column, literal = comparison.this, comparison.expression
        if isinstance(column, exp.Column) and isinstance(literal, exp.Literal):
            _check_enum_literal(file, column, literal.this)


def _check_enum_literal(file: str, column: exp.Column, value: str) -> None:
    """A literal compared with an enum column must be one of its canonical values."""
    enumerations = {
        c.name: c.enumeration
        for d in contract.DATASETS.values()
        for c in d.columns
        if c.enumeration is not None
    }
    enumeration = enumerations.get(column.name)
    if enumeration is None:
        raise ValueError(f"{file}: {column.sql(DIALECT)} = {value!r} compares a non-enum column")
    if value not in enumeration.canonical_values:
        raise ValueError(
            f"{file}: {value!r} is not a canonical {enumeration.name} "
            f"({', '.join(enumeration.canonical_values)})"
        )
