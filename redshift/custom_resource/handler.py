"""CloudFormation custom resource: create (or drop) the Spectrum external schema.

Runs as a Lambda behind the CDK provider framework. The SQL template, names and connection come
from the resource properties; every name is validated before it is put into the DDL (identifiers
cannot be bound as Data API parameters). Create/Update submit the statement through the Redshift
Data API and poll DescribeStatement until it finishes: FAILED or ABORTED raise with Redshift's
error message, which the provider framework reports to CloudFormation, failing the deploy. An
update that points the same schema at another database or role recreates it; one that renames
it creates the new schema and CloudFormation's follow-up Delete drops the old one (if
configured).
Self-contained (boto3 only): the Lambda asset is this folder alone.
"""

from __future__ import annotations

import re
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

POLL_SECONDS = 2.0
SAFETY_MARGIN_MS = 30_000  # stop polling (and cancel) this long before the Lambda times out
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
FINAL = {"FINISHED", "FAILED", "ABORTED"}


class StatementError(RuntimeError):
    """A statement Redshift did not finish; the message carries Redshift's own error."""


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    props = event["ResourceProperties"]
    schema = identifier(props["SchemaName"], "SchemaName")
    request = event["RequestType"]
    if request in ("Create", "Update"):
        sql = render(
            props["Sql"],
            schema=schema,
            catalog_database=identifier(props["CatalogDatabase"], "CatalogDatabase"),
            iam_role=role_arn(props["IamRoleArn"]),
        )
        if request == "Update" and _points_elsewhere(event, schema):
            # CREATE ... IF NOT EXISTS would keep the old database or role: recreate the schema
            # (external schemas hold no data; USAGE grants on it must be given again).
            run(props, f"DROP SCHEMA IF EXISTS {schema}", context)
        run(props, sql, context)
        data = {
            "SchemaName": schema,
            "CatalogDatabase": props["CatalogDatabase"],
            "IamRoleArn": props["IamRoleArn"],
        }
        return {"PhysicalResourceId": schema, "Data": data}
    if request != "Delete":
        raise ValueError(f"unknown request type {request!r}")
    physical_id = event.get("PhysicalResourceId", "")
    # Only drop what this resource created: a failed create leaves another physical id.
    if props.get("DropOnDelete") == "true" and physical_id == schema:
        try:
            run(props, f"DROP SCHEMA IF EXISTS {schema}", context)
        except ClientError as error:
            # The Data API refused the call (cluster paused, already gone): nothing reachable
            # to drop, and a stuck stack deletion helps nobody. A statement that ran and failed
            # still raises.
            print(f"schema {schema} left in place: {error}")
    return {"PhysicalResourceId": physical_id}


def _points_elsewhere(event: dict[str, Any], schema: str) -> bool:
    """An update that keeps the schema name but changes its catalog database or role."""
    old = event.get("OldResourceProperties", {})
    return old.get("SchemaName") == schema and any(
        old.get(key) != event["ResourceProperties"][key]
        for key in ("CatalogDatabase", "IamRoleArn")
    )


def identifier(value: str, name: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{name} {value!r} is not a plain lower-case SQL identifier")
    return value


def role_arn(value: str) -> str:
    if not ROLE_ARN.match(value):
        raise ValueError(f"IamRoleArn {value!r} is not an IAM role ARN")
    return value


def render(template: str, **values: str) -> str:
    """The template's statement with placeholders filled, comments and final `;` removed."""
    lines = [line for line in template.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip().format(**values)


def run(props: dict[str, Any], sql: str, context: Any, client: Any = None) -> str:
    """Submit one statement and wait for it; returns the statement id."""
    client = client or boto3.client("redshift-data")
    statement_id = client.execute_statement(
        ClusterIdentifier=props["ClusterIdentifier"],
        Database=props["Database"],
        SecretArn=props["SecretArn"],
        Sql=sql,
        StatementName="energy-lake-external-schema",
    )["Id"]
    while True:
        described = client.describe_statement(Id=statement_id)
        status = described["Status"]
        if status == "FINISHED":
            return statement_id
        if status in FINAL:
            raise StatementError(
                f"Redshift statement {statement_id} {status}: "
                f"{described.get('Error') or 'no error message'} (SQL: {sql})"
            )
        if context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS:
            client.cancel_statement(Id=statement_id)
            raise StatementError(
                f"Redshift statement {statement_id} still {status} when the handler ran out "
                f"of time; cancelled (SQL: {sql})"
            )
        time.sleep(POLL_SECONDS)
