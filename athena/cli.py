"""`energy-lake query ...` and `energy-lake athena create-views`: the analyses from a shell.

    energy-lake query top-clients --lake .lake/demo --start 2025-01-01 --end 2025-01-31 --limit 5
    energy-lake query energy-by-type --athena --env prod --format csv
    energy-lake athena create-views --env dev

`register(subparsers)` adds both commands to the main console script; `main(argv)` runs them on
their own. Every argument is validated in the handler, so a bad one (unknown analysis, a date
that is not YYYY-MM-DD, end before start, a limit <= 0, a lake without a curated zone) is one
line on stderr and exit code 2; an AWS failure is one line and exit code 1.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import TextIO

import pandas as pd

from athena import queries
from athena.queries import ANALYSES, ArgumentError
from energy_lake import naming

FORMATS = ("table", "csv", "json")
DEFAULT_LAKE = ".lake/demo"
LAKE_ENV = "ENERGY_LAKE_DIR"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `query` and `athena create-views` to a console script's subcommands."""
    query = subparsers.add_parser(
        "query",
        help="run one of the four analyses (local lake or Athena)",
        description="Run an analysis over the curated zone: locally with DuckDB (default) or "
        "on Athena. Dates are transaction_date's UTC day, both ends inclusive.",
    )
    query.add_argument("analysis", metavar="{" + ",".join(ANALYSES) + "}")
    query.add_argument(
        "--lake", help=f"local lake directory (default ${LAKE_ENV} or {DEFAULT_LAKE})"
    )
    query.add_argument("--athena", action="store_true", help="run on Athena instead of --lake")
    _add_aws_arguments(query)
    query.add_argument("--start", help="first day, YYYY-MM-DD (inclusive)")
    query.add_argument("--end", help="last day, YYYY-MM-DD (inclusive)")
    query.add_argument(
        "--limit", help=f"at most N rows (top-clients: N, default {queries.DEFAULT_TOP_N})"
    )
    query.add_argument("--format", default="table", help="table (default), csv or json")
    query.add_argument(
        "--print-sql",
        action="store_true",
        help="print the Athena SQL and its ExecutionParameters instead of running it",
    )
    query.add_argument(
        "--profile",
        action="store_true",
        help="local only: also print the transactions files and bytes the query read (stderr)",
    )
    query.set_defaults(func=query_command)

    athena = subparsers.add_parser("athena", help="manage the analyses' Athena objects")
    athena_commands = athena.add_subparsers(dest="athena_command", metavar="{create-views}")
    athena_commands.required = True
    views = athena_commands.add_parser(
        "create-views",
        help="CREATE OR REPLACE the four analyses' views in the curated Glue database",
    )
    _add_aws_arguments(views)
    views.add_argument(
        "--print-sql", action="store_true", help="print the statements instead of running them"
    )
    views.set_defaults(func=create_views_command)


def _add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help=f"deployed environment (default {naming.DEFAULT_ENV})")
    parser.add_argument("--workgroup", help="Athena workgroup (default: the env's)")
    parser.add_argument("--database", help="curated Glue database (default: the env's)")
    parser.add_argument("--region", help="AWS region (default: the SDK's)")


def _target(args: argparse.Namespace):
    from athena.aws import AthenaTarget

    env = args.env or naming.DEFAULT_ENV
    return AthenaTarget(
        workgroup=args.workgroup or naming.workgroup_name(env),
        database=args.database or naming.database_name("curated", env),
        region=args.region,
    )


def _fail(command: str, error: Exception, code: int) -> int:
    message = " ".join(str(error).split())  # one line, whatever the message held
    print(f"energy-lake {command}: error: {message}", file=sys.stderr)
    return code


def query_command(args: argparse.Namespace) -> int:
    from athena.aws import AthenaError

    try:
        frame = _run_query(args)
    except ArgumentError as error:
        return _fail("query", error, 2)
    except AthenaError as error:
        return _fail("query", error, 1)
    if frame is not None:
        sys.stdout.write(format_frame(frame, args.format))
    return 0


def _run_query(args: argparse.Namespace) -> pd.DataFrame | None:
    from athena import aws, local

    queries.analysis(args.analysis)  # unknown name -> ArgumentError
    if args.format not in FORMATS:
        raise ArgumentError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
    start = queries.parse_date(args.start, "--start") if args.start is not None else None
    end = queries.parse_date(args.end, "--end") if args.end is not None else None
    queries.DateRange(start, end)  # end before start -> ArgumentError
    limit = queries.parse_limit(args.limit)
    if args.athena and args.lake is not None:
        raise ArgumentError("choose --lake or --athena, not both")
    if args.print_sql:
        rendered = queries.render(args.analysis, start=start, end=end, limit=limit)
        literals = [p.athena_literal() for p in rendered.params]
        print(f"-- {args.analysis}: Athena (Trino) SQL; ExecutionParameters, in order: {literals}")
        print(rendered.sql() + ";")
        return None
    if not args.athena:
        aws_flags = [f for f in ("env", "workgroup", "database", "region") if getattr(args, f)]
        if aws_flags:
            raise ArgumentError(f"--{aws_flags[0]} needs --athena")
        lake = args.lake or os.environ.get(LAKE_ENV, DEFAULT_LAKE)
        frame = local.run(args.analysis, lake, start=start, end=end, limit=limit)
        if args.profile:
            stats = local.scan_stats(args.analysis, lake, start=start, end=end, limit=limit)
            print(
                f"profile: read {stats.fact_files_read} of {stats.fact_files_total} "
                f"{queries.FACT.name} files, {stats.bytes_read} bytes in total",
                file=sys.stderr,
            )
        return frame
    if args.profile:
        raise ArgumentError("--profile is for the local lake (Athena reports bytes scanned)")
    return aws.run(args.analysis, _target(args), start=start, end=end, limit=limit)


def create_views_command(args: argparse.Namespace) -> int:
    from athena import aws

    try:
        target = _target(args)
        if args.print_sql:
            for analysis in queries.analyses():
                print(queries.create_view_sql(analysis.name, target.database) + ";\n")
            return 0
        for view in aws.create_views(target):
            print(f"created view {view}")
    except ArgumentError as error:
        return _fail("athena create-views", error, 2)
    except aws.AthenaError as error:
        return _fail("athena create-views", error, 1)
    return 0


def _text(value: object, *, table: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6f}" if table else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _records(frame: pd.DataFrame) -> list[list[object]]:
    return [
        [None if v is pd.NA else v for v in row]
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def format_frame(frame: pd.DataFrame, fmt: str) -> str:
    """A result for humans (aligned table) or machines (exact csv / json)."""
    names = [str(c) for c in frame.columns]
    rows = _records(frame)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_text(v, table=False) for v in row] for row in rows)
        return buffer.getvalue()
    if fmt == "json":
        return _json(names, rows) + "\n"
    return _table(frame, names, rows)


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # an exact JSON number
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    return json.dumps(value)


def _json(names: Sequence[str], rows: list[list[object]]) -> str:
    records = [
        "{"
        + ", ".join(f"{json.dumps(n)}: {_json_value(v)}" for n, v in zip(names, row, strict=True))
        + "}"
        for row in rows
    ]
    return "[" + ",\n ".join(records) + "]"


def _table(frame: pd.DataFrame, names: Sequence[str], rows: list[list[object]]) -> str:
    cells = [[_text(v, table=True) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [
        pd.api.types.is_numeric_dtype(dtype) or "decimal" in str(dtype) for dtype in frame.dtypes
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(names), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out) + "\n"


def print_analyses(lake_root: str, out: TextIO | None = None, max_rows: int = 12) -> None:
    """The four analyses over a local lake, full range, as tables (the end of `make demo`).

    Long results show their first `max_rows` rows and say how to see the rest.
    """
    from athena import local

    out = out or sys.stdout
    for analysis in queries.analyses():
        frame = local.run(analysis.name, lake_root)  # top-clients: its default N
        out.write(f"\n== {analysis.title} ({analysis.name}) ==\n")
        out.write(format_frame(frame.head(max_rows), "table"))
        if len(frame) > max_rows:
            out.write(
                f"... {len(frame) - max_rows} more rows: "
                f"energy-lake query {analysis.name} --lake {lake_root}\n"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Just these commands, as their own console script (tests, or `python -m athena.cli`)."""
    parser = argparse.ArgumentParser(prog="energy-lake")
    subparsers = parser.add_subparsers(dest="command", metavar="{query,athena}")
    subparsers.required = True
    register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
