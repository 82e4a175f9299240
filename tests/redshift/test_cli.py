"""`energy-lake redshift setup|query` against moto's Data API and a stubbed stack lookup."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from redshift_data_fixture import Script, column

from energy_lake import naming
from redshift import cli, queries

OUTPUTS = {
    "ClusterIdentifier": "energy-lake-dev-warehouse",
    "DatabaseName": "lake",
    "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!admin-AbCdEf",
    "ExternalSchema": naming.external_schema_name("dev"),
    "SpectrumRoleArn": "arn:aws:iam::123456789012:role/energy-lake-dev-redshift-spectrum",
    "CatalogDatabase": naming.database_name("curated", "dev"),
}


@pytest.fixture
def stack(monkeypatch):
    """The deployed warehouse stack's outputs; records which stack was asked for."""
    asked: list[str] = []

    def outputs(_cloudformation, name):
        asked.append(name)
        return dict(OUTPUTS)

    monkeypatch.setattr(cli, "stack_outputs", outputs)
    return asked


def test_query_runs_the_analysis_on_the_stacks_cluster_and_prints_it(redshift_data, stack, capsys):
    columns = [column("energy_type", "varchar"), column("total_kwh", "numeric", 38, 3)]
    records = [[{"stringValue": "wind"}, {"stringValue": "1500.250"}]]
    redshift_data.will(Script(pages=({"ColumnMetadata": columns, "Records": records},)))

    code = cli.main(
        ["redshift", "query", "energy-by-type", "--start", "2025-03-01", "--end", "2025-03-31"]
    )

    assert code == 0
    assert stack == ["energy-lake-dev-warehouse"]
    (statement,) = redshift_data.statements()
    assert statement.cluster_identifier == OUTPUTS["ClusterIdentifier"]
    assert statement.secret_arn == OUTPUTS["SecretArn"]
    assert f"{OUTPUTS['ExternalSchema']}.transactions" in statement.query_string
    parameters = {p["name"]: p["value"] for p in statement.query_parameters}
    assert parameters["end_time"] == "2025-04-01 00:00:00"  # the end day is inclusive
    out = capsys.readouterr().out
    assert "wind" in out
    assert "1500.250" in out


def test_flags_override_the_stack_outputs(redshift_data, stack):
    redshift_data.will(Script(pages=({"ColumnMetadata": [column("n", "int8")], "Records": []},)))
    arguments = ["top-clients", "--env", "prod", "--cluster-id", "other", "--limit", "3"]
    code = cli.main(["redshift", "query", *arguments, "--format", "csv"])
    assert code == 0
    assert stack == ["energy-lake-prod-warehouse"]
    (statement,) = redshift_data.statements()
    assert statement.cluster_identifier == "other"
    assert statement.query_string.endswith("LIMIT 3")


@pytest.mark.parametrize(
    "arguments",
    [
        ["revenue-by-moon"],
        ["energy-by-type", "--start", "2025-13-01"],
        ["energy-by-type", "--start", "2025-03-02", "--end", "2025-03-01"],
        ["top-clients", "--limit", "0"],
        ["energy-by-type", "--format", "xml"],
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2_before_any_statement(
    redshift_data, stack, capsys, arguments
):
    assert cli.main(["redshift", "query", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("energy-lake redshift query: error:")
    assert error.count("\n") == 1
    assert redshift_data.statements() == []


def test_a_redshift_failure_is_one_line_and_exit_1(redshift_data, stack, capsys):
    redshift_data.will(Script(statuses=("FAILED",), error="Spectrum Scan Error: access denied"))
    assert cli.main(["redshift", "query", "energy-by-type"]) == 1
    error = capsys.readouterr().err
    assert "Spectrum Scan Error: access denied" in error
    assert error.count("\n") == 1


def test_setup_runs_the_schema_and_the_views_in_order(redshift_data, stack, capsys):
    redshift_data.will(*(Script(has_result_set=False) for _ in range(6)))
    assert cli.main(["redshift", "setup"]) == 0
    expected = queries.setup_statements(
        OUTPUTS["ExternalSchema"], OUTPUTS["CatalogDatabase"], OUTPUTS["SpectrumRoleArn"]
    )
    assert [s.query_string for s in redshift_data.statements()] == [s.sql for s in expected]


def test_setup_print_sql_runs_nothing(redshift_data, stack, capsys):
    assert cli.main(["redshift", "setup", "--print-sql"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CREATE EXTERNAL SCHEMA IF NOT EXISTS")
    assert out.count("CREATE OR REPLACE VIEW") == len(queries.SPECS)
    assert redshift_data.statements() == []


def test_stack_outputs_reads_the_deployed_stack():
    client = boto3.client("cloudformation", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "energy-lake-dev-warehouse",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()],
                }
            ]
        },
        {"StackName": "energy-lake-dev-warehouse"},
    )
    with stubber:
        assert cli.stack_outputs(client, "energy-lake-dev-warehouse") == OUTPUTS


def test_a_stack_without_the_outputs_is_the_callers_to_fix(monkeypatch, redshift_data, capsys):
    monkeypatch.setattr(cli, "stack_outputs", lambda _cf, _name: {"DatabaseName": "lake"})
    assert cli.main(["redshift", "query", "energy-by-type"]) == 2
    assert "has no output ClusterIdentifier" in capsys.readouterr().err
