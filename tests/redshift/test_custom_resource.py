"""The deploy-time custom resource that creates the Spectrum schema, against moto's Data API."""

from __future__ import annotations

import pytest
from redshift_data_fixture import Script

from redshift import queries
from redshift.custom_resource import handler

ROLE = "arn:aws:iam::123456789012:role/energy-lake-dev-redshift-spectrum"
PROPERTIES = {
    "ClusterIdentifier": "energy-lake-dev-warehouse",
    "Database": "lake",
    "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!admin-AbCdEf",
    "Sql": queries.sql_text(queries.EXTERNAL_SCHEMA_FILE),
    "SchemaName": "energy_lake_dev_curated",
    "CatalogDatabase": "energy_lake_dev_curated",
    "IamRoleArn": ROLE,
    "DropOnDelete": "true",
}


class LambdaContext:
    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(handler, "POLL_SECONDS", 0)


def event(request: str, physical_id: str | None = None, **overrides: str) -> dict:
    out = {"RequestType": request, "ResourceProperties": PROPERTIES | overrides}
    if physical_id is not None:
        out["PhysicalResourceId"] = physical_id
    return out


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_runs_the_spectrum_ddl_on_the_cluster_and_waits(redshift_data, request_type):
    redshift_data.will(Script(statuses=("SUBMITTED", "STARTED", "FINISHED")))

    response = handler.on_event(event(request_type, "energy_lake_dev_curated"), LambdaContext())

    assert response["PhysicalResourceId"] == "energy_lake_dev_curated"
    (statement,) = redshift_data.statements()
    assert statement.cluster_identifier == PROPERTIES["ClusterIdentifier"]
    assert statement.database == "lake"
    assert statement.secret_arn == PROPERTIES["SecretArn"]
    # The same statement `energy-lake redshift setup` runs: one SQL file for both.
    expected = queries.external_schema_statement(
        "energy_lake_dev_curated", "energy_lake_dev_curated", ROLE
    )
    assert statement.query_string == expected.sql


def test_an_update_to_another_role_recreates_the_schema(redshift_data):
    update = event("Update", "energy_lake_dev_curated")
    update["OldResourceProperties"] = PROPERTIES | {
        "IamRoleArn": "arn:aws:iam::123456789012:role/old-spectrum"
    }
    handler.on_event(update, LambdaContext())
    drop, create = (s.query_string for s in redshift_data.statements())
    assert drop == "DROP SCHEMA IF EXISTS energy_lake_dev_curated"
    assert create.startswith("CREATE EXTERNAL SCHEMA IF NOT EXISTS energy_lake_dev_curated")
    assert ROLE in create


def test_an_update_of_the_sql_text_only_keeps_the_schema(redshift_data):
    update = event("Update", "energy_lake_dev_curated")
    update["OldResourceProperties"] = PROPERTIES | {"Sql": "-- older comment\n" + PROPERTIES["Sql"]}
    handler.on_event(update, LambdaContext())
    (create,) = (s.query_string for s in redshift_data.statements())
    assert create.startswith("CREATE EXTERNAL SCHEMA IF NOT EXISTS")


def test_a_failed_statement_fails_the_deploy_with_redshifts_message(redshift_data):
    message = "permission denied for database lake"
    redshift_data.will(Script(statuses=("STARTED", "FAILED"), error=message))
    with pytest.raises(handler.StatementError, match=message):
        handler.on_event(event("Create"), LambdaContext())


def test_a_statement_outliving_the_lambda_is_cancelled_and_fails(redshift_data):
    redshift_data.will(Script(statuses=("STARTED",)))
    with pytest.raises(handler.StatementError, match="ran out of time; cancelled"):
        handler.on_event(event("Create"), LambdaContext(remaining_ms=1_000))
    (statement,) = redshift_data.statements()
    assert statement.status == "ABORTED"


def test_delete_drops_the_schema_when_configured(redshift_data):
    response = handler.on_event(event("Delete", "energy_lake_dev_curated"), LambdaContext())
    assert response["PhysicalResourceId"] == "energy_lake_dev_curated"
    (statement,) = redshift_data.statements()
    assert statement.query_string == "DROP SCHEMA IF EXISTS energy_lake_dev_curated"


@pytest.mark.parametrize(
    ("physical_id", "drop"),
    [
        ("energy_lake_dev_curated", "false"),  # the config keeps the schema
        ("a1b2c3-failed-create", "true"),  # this resource never created the schema
    ],
)
def test_delete_leaves_the_schema_otherwise(redshift_data, physical_id, drop):
    response = handler.on_event(event("Delete", physical_id, DropOnDelete=drop), LambdaContext())
    assert response["PhysicalResourceId"] == physical_id
    assert redshift_data.statements() == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"SchemaName": "curated; DROP SCHEMA public"},
        {"CatalogDatabase": "x' IAM_ROLE 'y"},
        {"IamRoleArn": "arn:aws:iam::123456789012:role/x' --"},
    ],
)
def test_names_are_validated_before_any_sql_is_sent(redshift_data, overrides):
    with pytest.raises(ValueError, match="not"):
        handler.on_event(event("Create", **overrides), LambdaContext())
    assert redshift_data.statements() == []
