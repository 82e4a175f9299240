"""The AWS backend: the analyses on Athena, over the curated Glue database, in the project's
workgroup.

How a query runs, and why:
- Pre-flight: the workgroup must exist, be enabled and have a result location (its own or
  managed results), and the Glue database must exist. Each failure is one clear error naming
  the resource and region, instead of an opaque failure later (or awswrangler quietly creating
  a default `aws-athena-query-results-*` bucket in the account when a workgroup has no result
  location).
- Start: `awswrangler.athena.start_query_execution` with `paramstyle="qmark"`: the date range
  travels as Athena `ExecutionParameters` (typed literals of validated values), never formatted
  into the SQL text; awswrangler honours a workgroup that enforces its own result location and
  encryption (it sends no client-side override then) and retries throttling.
- Wait: a polling loop with a timeout (stopping the query on timeout); FAILED and CANCELLED
  raise `AthenaError` carrying Athena's StateChangeReason.
- Results: the `GetQueryResults` paginator, not awswrangler's readers. The analyses return a
  handful of aggregated rows, so paging through the API is cheap, needs no read access to the
  result bucket's objects nor its KMS key in the client, and the text values are typed from
  the analysis' declared output (`athena.frames`), exactly as the local backend's are, so the
  two backends return identical dtypes.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from athena import frames, queries
from energy_lake import naming

DEFAULT_CATALOG = "AwsDataCatalog"
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
_RUNNING = ("QUEUED", "RUNNING")


class AthenaError(RuntimeError):
    """Athena or Glue refused or failed a query; the message says which and why."""


@dataclass(frozen=True)
class AthenaTarget:
    """Where the analyses run on AWS: the project's workgroup and curated database."""

    workgroup: str = field(default_factory=naming.workgroup_name)
    database: str = field(default_factory=lambda: naming.database_name("curated"))
    region: str | None = None  # None: the AWS SDK's default (AWS_REGION, profile)
    catalog: str = DEFAULT_CATALOG
    poll_seconds: float = 0.5
    timeout_seconds: float = 900.0

    @classmethod
    def for_env(cls, env: str = naming.DEFAULT_ENV, region: str | None = None) -> AthenaTarget:
        return cls(naming.workgroup_name(env), naming.database_name("curated", env), region)

    def __post_init__(self) -> None:
        if not _GLUE_NAME.match(self.database):
            raise queries.ArgumentError(
                f"database {self.database!r} is not a Glue database name (a-z, 0-9, _)"
            )
        if not self.workgroup:
            raise queries.ArgumentError("the Athena workgroup name is empty")


def _message(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Message") or str(error)
    return str(error)


def session_for(target: AthenaTarget) -> boto3.Session:
    return boto3.Session(region_name=target.region)


def check_target(session: boto3.Session, target: AthenaTarget) -> None:
    """Fail with one clear error unless the workgroup and database are usable."""
    if not session.region_name:
        raise AthenaError("no AWS region: pass --region (or region=) or set AWS_REGION")
    where = f"in region {session.region_name}"
    try:
        workgroup = session.client("athena").get_work_group(WorkGroup=target.workgroup)
    except (ClientError, BotoCoreError) as error:
        raise AthenaError(
            f"Athena workgroup {target.workgroup!r} not found or not accessible {where}: "
            f"{_message(error)}"
        ) from None
    details = workgroup.get("WorkGroup") or {}
    if not details:
        raise AthenaError(f"Athena workgroup {target.workgroup!r} not found {where}")
    if details.get("State", "ENABLED") != "ENABLED":
        raise AthenaError(f"Athena workgroup {target.workgroup!r} is {details['State']} {where}")
    config = details.get("Configuration") or {}
    managed = (config.get("ManagedQueryResultsConfiguration") or {}).get("Enabled", False)
    output = (config.get("ResultConfiguration") or {}).get("OutputLocation")
    if not managed and not output:
        raise AthenaError(
            f"Athena workgroup {target.workgroup!r} has no query result location {where}; "
            "use the project's workgroup (it enforces one) or configure one"
        )
    try:
        session.client("glue").get_database(Name=target.database)
    except (ClientError, BotoCoreError) as error:
        raise AthenaError(
            f"Glue database {target.database!r} not found or not accessible {where}: "
            f"{_message(error)}"
        ) from None


def start_query(
    session: boto3.Session, target: AthenaTarget, sql: str, params: Sequence[str] = ()
) -> str:
    """Start one statement in the target's workgroup and database; its execution id."""
    import awswrangler as wr  # heavy: loaded when a query is actually sent

    try:
        return wr.athena.start_query_execution(
            sql=sql,
            database=target.database,
            workgroup=target.workgroup,
            data_source=target.catalog,
            params=list(params) or None,
            paramstyle="qmark",
            boto3_session=session,
        )
    except (ClientError, BotoCoreError) as error:
        raise AthenaError(f"Athena refused the query: {_message(error)}") from None


def wait_for(session: boto3.Session, target: AthenaTarget, execution_id: str) -> dict:
    """Poll until the query ends; its QueryExecution, or AthenaError with Athena's reason."""
    client = session.client("athena")
    deadline = time.monotonic() + target.timeout_seconds
    while True:
        execution = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        status = execution["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            return execution
        if state not in _RUNNING:
            reason = status.get("StateChangeReason") or (status.get("AthenaError") or {}).get(
                "ErrorMessage", "no reason given"
            )
            raise AthenaError(f"Athena query {execution_id} {state}: {reason}")
        if time.monotonic() > deadline:
            client.stop_query_execution(QueryExecutionId=execution_id)
            raise AthenaError(
                f"Athena query {execution_id} still {state} after {target.timeout_seconds:g}s; "
                "stopped it"
            )
        time.sleep(target.poll_seconds)


def result_rows(
    session: boto3.Session, execution_id: str, expected: Sequence[str]
) -> Iterator[list[str | None]]:
    """Data rows of a finished query, page by page, the header row skipped."""
    pages = session.client("athena").get_paginator("get_query_results")
    first = True
    for page in pages.paginate(QueryExecutionId=execution_id):
        result = page["ResultSet"]
        names = [c["Name"] for c in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
        if names and names != list(expected):
            raise AthenaError(
                f"Athena query {execution_id} returned columns {names}, expected {list(expected)}"
            )
        rows = [[cell.get("VarCharValue") for cell in row["Data"]] for row in result["Rows"]]
        if first and rows and rows[0] == list(expected):
            rows = rows[1:]  # a SELECT's first result row is the header
        first = False
        yield from rows


def run(
    name: str,
    target: AthenaTarget | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
    session: boto3.Session | None = None,
) -> pd.DataFrame:
    """One analysis on Athena, as the typed frame (same dtypes as the local backend)."""
    target = target or AthenaTarget()
    rendered = queries.render(name, start=start, end=end, limit=limit)
    session = session or session_for(target)
    check_target(session, target)
    execution_id = start_query(
        session, target, rendered.sql(), [p.athena_literal() for p in rendered.params]
    )
    wait_for(session, target, execution_id)
    expected = [c.name for c in rendered.analysis.output_columns]
    try:
        rows = list(result_rows(session, execution_id, expected))
    except (ClientError, BotoCoreError) as error:
        raise AthenaError(
            f"reading the results of Athena query {execution_id}: {_message(error)}"
        ) from None
    return frames.rows_to_frame(rendered.analysis, rows)


def create_views(
    target: AthenaTarget | None = None, *, session: boto3.Session | None = None
) -> list[str]:
    """CREATE OR REPLACE the four analyses' views in the curated database; their names."""
    target = target or AthenaTarget()
    session = session or session_for(target)
    check_target(session, target)
    created = []
    for analysis in queries.analyses():
        execution_id = start_query(
            session, target, queries.create_view_sql(analysis.name, target.database)
        )
        wait_for(session, target, execution_id)
        created.append(f"{target.database}.{analysis.view_name}")
    return created
