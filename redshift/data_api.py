"""Run SQL on the warehouse through the Redshift Data API; results as typed DataFrames.

No driver, no network path into the VPC: the Data API authenticates with the cluster's admin
secret (Secrets Manager) and runs the statement asynchronously. `run` submits, polls
DescribeStatement until the statement finishes (cancelling it on timeout) and raises
`StatementError` with Redshift's own message when it FAILED or was ABORTED. `fetch` pages
GetStatementResult (NextToken) into a DataFrame typed from the result's ColumnMetadata, with the
same Arrow-backed dtypes as the Athena helper: exact decimals, int64, double, date32, string.
Values are bound as named parameters (`:name`), never formatted into the SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

DEFAULT_TIMEOUT_SECONDS = 300.0
DEFAULT_POLL_SECONDS = 1.0
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RUNNING = {"SUBMITTED", "PICKED", "STARTED"}

_INTEGERS = {"int2", "int4", "int8", "smallint", "integer", "bigint", "oid"}
_FLOATS = {"float4", "float8", "real", "float", "double precision"}
_DECIMALS = {"numeric", "decimal"}
_TIMESTAMPS = {"timestamp", "timestamp without time zone"}
_TIMESTAMPS_TZ = {"timestamptz", "timestamp with time zone"}


class RedshiftError(RuntimeError):
    """A Data API call that did not give the caller what it asked for."""


class StatementError(RedshiftError):
    """A statement Redshift FAILED or ABORTED; the message carries Redshift's error."""

    def __init__(self, statement_id: str, status: str, error: str, sql: str) -> None:
        self.statement_id = statement_id
        self.status = status
        self.error = error
        super().__init__(f"Redshift statement {statement_id} {status}: {error}\nSQL: {sql}")


class StatementTimeout(RedshiftError):
    """A statement still running at the deadline (it has been cancelled)."""


@dataclass(frozen=True)
class Connection:
    """Where statements run: a provisioned cluster, a database and the secret to log in with."""

    cluster_identifier: str
    database: str
    secret_arn: str


def parameters_of(values: Mapping[str, object] | Iterable[Mapping[str, str]]) -> list[dict]:
    """Data API parameters from `{name: value}` (or already `[{"name", "value"}]`)."""
    if isinstance(values, Mapping):
        pairs = [{"name": k, "value": v} for k, v in values.items()]
    else:
        pairs = [dict(p) for p in values]
    out = []
    for pair in pairs:
        name, value = pair["name"], pair["value"]
        if not PARAMETER_NAME.match(str(name)):
            raise ValueError(f"parameter name {name!r} is not a plain identifier")
        if value is None:
            raise ValueError(f"parameter {name!r} has no value (the Data API cannot bind NULL)")
        out.append({"name": str(name), "value": _text(value)})
    return out


def _text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def run(
    client: Any,
    connection: Connection,
    sql: str,
    parameters: Mapping[str, object] | Sequence[Mapping[str, str]] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    poll: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Execute one statement and wait for it; returns its final DescribeStatement."""
    request: dict[str, Any] = {
        "ClusterIdentifier": connection.cluster_identifier,
        "Database": connection.database,
        "SecretArn": connection.secret_arn,
        "Sql": sql,
    }
    bound = parameters_of(parameters)
    if bound:
        request["Parameters"] = bound
    statement_id = client.execute_statement(**request)["Id"]
    deadline = clock() + timeout
    while True:
        described = client.describe_statement(Id=statement_id)
        status = described["Status"]
        if status == "FINISHED":
            return described
        if status not in RUNNING:
            raise StatementError(
                statement_id, status, described.get("Error") or "(no error message)", sql
            )
        if clock() >= deadline:
            client.cancel_statement(Id=statement_id)
            raise StatementTimeout(
                f"Redshift statement {statement_id} still {status} after {timeout:g}s; "
                f"cancelled.\nSQL: {sql}"
            )
        sleep(poll)


def fetch(client: Any, statement_id: str) -> pd.DataFrame:
    """All result pages of a finished statement as one typed DataFrame."""
    columns: list[dict[str, Any]] | None = None
    records: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        page = client.get_statement_result(
            Id=statement_id, **({"NextToken": token} if token else {})
        )
        if columns is None:
            columns = page["ColumnMetadata"]
        records.extend(page["Records"])
        token = page.get("NextToken")
        if not token:
            break
    return to_frame(columns or [], records)


def query(
    client: Any,
    connection: Connection,
    sql: str,
    parameters: Mapping[str, object] | Sequence[Mapping[str, str]] = (),
    **options: Any,
) -> pd.DataFrame:
    """Run a query and return its rows (an empty, typed frame when it has none)."""
    described = run(client, connection, sql, parameters, **options)
    if not described.get("HasResultSet", False):
        raise RedshiftError(f"statement {described['Id']} returned no result set.\nSQL: {sql}")
    return fetch(client, described["Id"])


def arrow_type(column: Mapping[str, Any]) -> pa.DataType:
    """The Arrow type of a result column, from its ColumnMetadata."""
    name = str(column.get("typeName", "")).lower()
    if name in _INTEGERS:
        return pa.int64()
    if name in _FLOATS:
        return pa.float64()
    if name in _DECIMALS:
        precision, scale = int(column.get("precision") or 0), int(column.get("scale") or 0)
        if not 0 < precision <= 38:
            precision = 38
        return pa.decimal128(precision, min(scale, precision))
    if name == "bool" or name == "boolean":
        return pa.bool_()
    if name == "date":
        return pa.date32()
    if name in _TIMESTAMPS:
        return pa.timestamp("us")
    if name in _TIMESTAMPS_TZ:
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _value(field: Mapping[str, Any], type_: pa.DataType) -> object:
    if field.get("isNull"):
        return None
    if "longValue" in field:
        raw: object = field["longValue"]
    elif "doubleValue" in field:
        raw = field["doubleValue"]
    elif "booleanValue" in field:
        raw = field["booleanValue"]
    elif "stringValue" in field:
        raw = field["stringValue"]
    elif "blobValue" in field:
        raw = field["blobValue"]
    else:
        return None
    if pa.types.is_decimal(type_):
        return Decimal(str(raw))
    if pa.types.is_integer(type_):
        return int(raw)  # type: ignore[arg-type]
    if pa.types.is_floating(type_):
        return float(raw)  # type: ignore[arg-type]
    if pa.types.is_boolean(type_):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("t", "true", "1")
    if pa.types.is_date(type_):
        return dt.date.fromisoformat(str(raw))
    if pa.types.is_timestamp(type_):
        stamp = dt.datetime.fromisoformat(str(raw))
        if type_.tz is not None:
            stamp = stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp
            return stamp.astimezone(dt.UTC)
        return stamp
    return raw if isinstance(raw, str) else str(raw)


def to_frame(
    columns: Sequence[Mapping[str, Any]], records: Iterable[Sequence[Mapping[str, Any]]]
) -> pd.DataFrame:
    """Data API records -> a DataFrame with one Arrow-backed dtype per column."""
    names = [str(c.get("label") or c["name"]) for c in columns]
    types = [arrow_type(c) for c in columns]
    values: list[list[object]] = [[] for _ in columns]
    for row in records:
        if len(row) != len(columns):
            raise RedshiftError(f"a result row has {len(row)} fields, expected {len(columns)}")
        for column, field, type_ in zip(values, row, types, strict=True):
            column.append(_value(field, type_))
    table = pa.Table.from_arrays(
        [pa.array(v, type=t) for v, t in zip(values, types, strict=True)],
        schema=pa.schema([pa.field(n, t) for n, t in zip(names, types, strict=True)]),
    )
    return table.to_pandas(types_mapper=pd.ArrowDtype)
