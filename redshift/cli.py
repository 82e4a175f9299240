"""`energy-lake redshift setup|query NAME`: the warehouse from a shell, through the Data API.

    energy-lake redshift setup --env dev
    energy-lake redshift query top-clients --env dev --start 2025-01-01 --end 2025-01-31 --limit 5

The cluster, database, admin secret, external schema, Spectrum role and curated Glue database
are read from the outputs of the deployed warehouse stack (`<prefix>-warehouse`, or
`--stack-name`); `--cluster-id`, `--database` and `--secret-arn` override them. `setup` runs the
external-schema DDL (the deploy already did: it is idempotent) and creates the four views;
`query` runs one analysis and prints it. A bad argument is one line on stderr and exit code 2;
an AWS or Redshift failure is one line and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from athena import queries as shared
from energy_lake import naming
from redshift import queries
from redshift.queries import ANALYSES, ArgumentError

FORMATS = ("table", "csv", "json")
# Outputs of the warehouse stack (stacks/warehouse.py) the CLI reads.
OUTPUTS = (
    "ClusterIdentifier",
    "DatabaseName",
    "SecretArn",
    "ExternalSchema",
    "SpectrumRoleArn",
    "CatalogDatabase",
)


def stack_name(env: str) -> str:
    return f"{naming.name_prefix(env)}-warehouse"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `redshift setup` and `redshift query NAME` to a console script's subcommands."""
    redshift = subparsers.add_parser(
        "redshift", help="the Redshift warehouse: Spectrum schema, views and analyses"
    )
    commands = redshift.add_subparsers(dest="redshift_command", metavar="{setup,query}")
    commands.required = True
    setup = commands.add_parser(
        "setup", help="create the Spectrum external schema (if missing) and the analyses' views"
    )
    _add_target_arguments(setup)
    setup.add_argument(
        "--print-sql", action="store_true", help="print the statements instead of running them"
    )
    setup.set_defaults(func=setup_command)

    query = commands.add_parser("query", help="run one of the four analyses on Redshift")
    query.add_argument("analysis", metavar="{" + ",".join(ANALYSES) + "}")
    _add_target_arguments(query)
    query.add_argument("--start", help="first day, YYYY-MM-DD (inclusive)")
    query.add_argument("--end", help="last day, YYYY-MM-DD (inclusive)")
    query.add_argument("--limit", help=f"top-clients: N rows (default {queries.DEFAULT_TOP_N})")
    query.add_argument("--format", default="table", help="table (default), csv or json")
    query.set_defaults(func=query_command)


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help=f"deployed environment (default {naming.DEFAULT_ENV})")
    parser.add_argument("--stack-name", help="warehouse stack (default <prefix>-warehouse)")
    parser.add_argument("--cluster-id", help="cluster identifier (default: stack output)")
    parser.add_argument("--database", help="Redshift database (default: stack output)")
    parser.add_argument("--secret-arn", help="admin secret ARN (default: stack output)")
    parser.add_argument("--region", help="AWS region (default: the SDK's)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait per statement (300)"
    )


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """`{OutputKey: OutputValue}` of a deployed stack."""
    stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _target(args: argparse.Namespace, session: Any) -> tuple[Any, dict[str, str]]:
    """(Data API connection, stack outputs): the stack's outputs, overridden by flags."""
    from redshift.data_api import Connection

    name = args.stack_name or stack_name(args.env or naming.DEFAULT_ENV)
    outputs = stack_outputs(session.client("cloudformation"), name)
    missing = [k for k in OUTPUTS if k not in outputs]
    if missing:
        raise ArgumentError(f"stack {name} has no output {', '.join(missing)}")
    connection = Connection(
        cluster_identifier=args.cluster_id or outputs["ClusterIdentifier"],
        database=args.database or outputs["DatabaseName"],
        secret_arn=args.secret_arn or outputs["SecretArn"],
    )
    return connection, outputs


def _session(args: argparse.Namespace) -> Any:
    import boto3

    return boto3.Session(region_name=args.region)


def _fail(command: str, error: Exception, code: int) -> int:
    message = " ".join(str(error).split())
    print(f"energy-lake redshift {command}: error: {message}", file=sys.stderr)
    return code


def setup_command(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from redshift.data_api import RedshiftError, run

    try:
        session = _session(args)
        connection, outputs = _target(args, session)
        statements = queries.setup_statements(
            outputs["ExternalSchema"], outputs["CatalogDatabase"], outputs["SpectrumRoleArn"]
        )
        if args.print_sql:
            for statement in statements:
                print(f"{statement.sql};")
            return 0
        client = session.client("redshift-data")
        for statement in statements:
            run(client, connection, statement.sql, statement.parameters, timeout=args.timeout)
            print(f"ok: {statement.sql.split(' AS ')[0][:100]}")
    except ArgumentError as error:
        return _fail("setup", error, 2)
    except (RedshiftError, ClientError, BotoCoreError) as error:
        return _fail("setup", error, 1)
    return 0


def query_command(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from redshift.data_api import RedshiftError, query

    try:
        if args.format not in FORMATS:
            raise ArgumentError(f"--format must be one of {', '.join(FORMATS)}")
        queries.spec(args.analysis)
        start = shared.parse_date(args.start, "--start") if args.start is not None else None
        end = shared.parse_date(args.end, "--end") if args.end is not None else None
        limit = shared.parse_limit(args.limit)
        session = _session(args)
        connection, outputs = _target(args, session)
        statement = queries.analysis_statement(
            args.analysis, outputs["ExternalSchema"], start=start, end=end, limit=limit
        )
        frame = query(
            session.client("redshift-data"),
            connection,
            statement.sql,
            statement.parameters,
            timeout=args.timeout,
        )
    except (ArgumentError, shared.ArgumentError) as error:
        return _fail("query", error, 2)
    except (RedshiftError, ClientError, BotoCoreError) as error:
        return _fail("query", error, 1)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", default_handler=str))
    else:
        print(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`redshift ...` on its own (the console script wires `register` into `energy-lake`)."""
    parser = argparse.ArgumentParser(prog="energy-lake")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
