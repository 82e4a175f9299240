"""Injection and access: user values never change SQL, ingest never writes outside raw.

Athena: locally (DuckDB over the athena suite's fixture lake) and on AWS (moto), hostile dates
and limits are refused before any SQL runs (exit code 2, one line), and the SQL sent to Athena
is the same text whatever the dates: they travel only as ExecutionParameters. Redshift: the
statement text is constant and the values go in the Data API's Parameters. Ingest: names and
options that try to leave the raw zone are refused and nothing is written outside it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import boto3
import pytest
import sqlglot
from athena_lake_fixture import build_lake
from moto import mock_aws
from redshift_data_fixture import Script, column
from sqlglot import exp

from athena import aws, queries
from athena import cli as athena_cli
from athena import local as athena_local
from energy_lake import contract, naming
from energy_lake.ingest import IngestError, ingest_file
from redshift import cli as redshift_cli
from redshift import data_api
from redshift import queries as redshift_queries
from tests.core.lakes import snapshot

pytestmark = pytest.mark.reliability
HOSTILE_DATES = [
    "2025-01-01'; DROP TABLE transactions; --",
    "2025-01-01' OR '1'='1",
    "2025-01-01 OR 1=1",
    "2025-01-01;",
    "2025-01-01--",
    "2025-01-01/*",
    "'; SELECT * FROM clients; --",
    "2025-01-01\x00",
    "2025-01-01\nUNION SELECT 1",
]
HOSTILE_LIMITS = ["1 OR 1=1", "10; --", "10 /* x */", "10; DROP TABLE clients", "-1", "0", "1e3"]
REGION = "eu-west-1"
WORKGROUP = naming.workgroup_name("test")
DATABASE = naming.database_name("curated", "test")


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    return build_lake(tmp_path_factory.mktemp("injection-lake"))


def _one_line_error(err: str, command: str) -> None:
    assert err.startswith(f"energy-lake {command}: error:")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("flag", ["--start", "--end"])
@pytest.mark.parametrize("value", HOSTILE_DATES)
def test_hostile_dates_are_refused_locally_before_any_sql(lake, capsys, flag, value):
    before = snapshot(lake)
    assert athena_cli.main(["query", "top-clients", "--lake", str(lake), flag, value]) == 2
    out, err = capsys.readouterr()
    _one_line_error(err, "query")
    assert f"{flag} must be a date YYYY-MM-DD" in err and out == ""
    assert snapshot(lake) == before


@pytest.mark.parametrize("value", HOSTILE_LIMITS)
def test_hostile_limits_are_refused(lake, capsys, value):
    assert athena_cli.main(["query", "top-clients", "--lake", str(lake), "--limit", value]) == 2
    out, err = capsys.readouterr()
    _one_line_error(err, "query")
    assert "--limit must be an integer > 0" in err or "the limit must be an integer > 0" in err
    assert out == ""


@pytest.mark.parametrize("value", ["2025-01-01'; --", "1 OR 1=1", 10.5, True, "10"])
def test_the_python_api_takes_only_typed_values(lake, value):
    with pytest.raises(ValueError, match="must be"):
        athena_local.run("top-clients", lake, start=value)
    with pytest.raises(ValueError, match="must be an integer > 0"):
        queries.render("top-clients", limit=value)


def test_local_sql_binds_dates_as_parameters(lake):
    first = queries.render("top-clients", start=dt.date(2025, 1, 1), end=dt.date(2025, 2, 28))
    second = queries.render("top-clients", start=dt.date(2024, 7, 9), end=dt.date(2024, 8, 30))
    assert first.sql() == second.sql()  # values never reach the text
    assert [p.value for p in first.params] != [p.value for p in second.params]
    assert len(list(first.tree.find_all(exp.Placeholder))) == len(first.params)
    frame = athena_local.run("top-clients", lake, start=dt.date(2025, 1, 1))
    assert len(frame) > 0  # the bound query runs


@pytest.fixture
def athena_session():
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        results = f"energy-lake-test-results-{REGION}"
        session.client("s3").create_bucket(
            Bucket=results, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        session.client("athena").create_work_group(
            Name=WORKGROUP,
            Configuration={
                "ResultConfiguration": {"OutputLocation": f"s3://{results}/q/"},
                "EnforceWorkGroupConfiguration": True,
            },
        )
        session.client("glue").create_database(DatabaseInput={"Name": DATABASE})
        yield session


def _executions(session) -> list[dict]:
    client = session.client("athena")
    ids = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def test_athena_gets_the_same_sql_text_and_the_dates_as_execution_parameters(athena_session):
    target = aws.AthenaTarget(WORKGROUP, DATABASE, REGION, poll_seconds=0)
    ranges = [(dt.date(2025, 2, 1), dt.date(2025, 2, 28)), (dt.date(2023, 11, 5), None)]
    for start, end in ranges:
        aws.run("monthly-price-trend", target, start=start, end=end, session=athena_session)
    full, partial = sorted(_executions(athena_session), key=lambda e: -len(e["Query"]))
    for execution in (full, partial):
        tree = sqlglot.parse_one(execution["Query"], read="trino")
        placeholders = list(tree.find_all(exp.Placeholder))
        assert len(placeholders) == len(execution["ExecutionParameters"]) > 0
        literals = {lit.this for lit in tree.find_all(exp.Literal)}
        assert not {"2025", "2023", "2", "28", "11", "5"} & literals
    assert "TIMESTAMP '2025-02-01 00:00:00'" in full["ExecutionParameters"]
    assert "TIMESTAMP '2023-11-05 00:00:00'" in partial["ExecutionParameters"]
    assert full["Query"] == queries.render("monthly-price-trend", start=ranges[0][0],
                                           end=ranges[0][1]).sql()  # fmt: skip


@pytest.mark.parametrize(
    "arguments",
    [["--start", HOSTILE_DATES[0]], ["--end", HOSTILE_DATES[1]], ["--limit", "10; --"]],
)
def test_athena_never_sees_a_hostile_value(athena_session, capsys, monkeypatch, arguments):
    monkeypatch.setattr(aws, "session_for", lambda target: athena_session)
    argv = ["query", "top-clients", "--athena", "--workgroup", WORKGROUP, "--database", DATABASE,
            "--region", REGION, *arguments]  # fmt: skip
    assert athena_cli.main(argv) == 2
    _one_line_error(capsys.readouterr().err, "query")
    assert _executions(athena_session) == []


def test_a_hostile_database_name_never_reaches_athena():
    with pytest.raises(ValueError, match="is not a Glue database name"):
        aws.AthenaTarget(WORKGROUP, "curated; DROP DATABASE x", REGION)


# -------------------------------------------------------------------------------- Redshift

OUTPUTS = {
    "ClusterIdentifier": "energy-lake-test-warehouse",
    "DatabaseName": "lake",
    "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-AbCdEf",
    "ExternalSchema": naming.external_schema_name("test"),
    "SpectrumRoleArn": "arn:aws:iam::123456789012:role/energy-lake-test-spectrum",
    "CatalogDatabase": DATABASE,
}


@pytest.fixture
def stack(monkeypatch) -> dict[str, str]:
    outputs = dict(OUTPUTS)
    monkeypatch.setattr(redshift_cli, "stack_outputs", lambda _cf, _name: outputs)
    return outputs


def _page():
    return {"ColumnMetadata": [column("energy_type", "varchar")], "Records": []}


def test_redshift_statement_text_is_constant_and_values_are_parameters(redshift_data, stack):
    redshift_data.will(Script(pages=(_page(),)), Script(pages=(_page(),)))
    # The text depends on which bounds are given (and whether both ends share a year/month, for
    # the partition bounds), never on the values: two year-crossing ranges share it.
    for start, end in (("2024-12-30", "2025-01-03"), ("2021-12-24", "2022-01-02")):
        argv = ["redshift", "query", "energy-by-type", "--start", start, "--end", end]
        assert redshift_cli.main(argv) == 0
    first, second = redshift_data.statements()
    assert first.query_string == second.query_string
    assert "2024" not in first.query_string and "2021" not in second.query_string
    bound = {p["name"]: p["value"] for p in second.query_parameters}
    assert bound == {
        "start_year": "2021", "start_month": "12", "start_day": "24",
        "start_time": "2021-12-24 00:00:00",
        "end_year": "2022", "end_month": "1", "end_day": "2",
        "end_time": "2022-01-03 00:00:00",
    }  # fmt: skip
    placeholders = {f":{name}" for name in bound}
    assert all(p in first.query_string for p in placeholders)


@pytest.mark.parametrize(
    "arguments",
    [
        ["energy-by-type", "--start", HOSTILE_DATES[0]],
        ["energy-by-type", "--end", HOSTILE_DATES[2]],
        ["top-clients", "--limit", "1 OR 1=1"],
        ["top-clients", "--limit", "10; --"],
    ],
)
def test_redshift_refuses_hostile_values_before_any_statement(
    redshift_data, stack, capsys, arguments
):
    assert redshift_cli.main(["redshift", "query", *arguments]) == 2
    _one_line_error(capsys.readouterr().err, "redshift query")
    assert redshift_data.statements() == []


def test_a_hostile_stack_output_is_refused_not_interpolated(redshift_data, stack, capsys):
    stack["ExternalSchema"] = "spectrum; DROP SCHEMA public CASCADE; --"
    assert redshift_cli.main(["redshift", "query", "energy-by-type"]) == 2
    assert "is not a plain lower-case SQL identifier" in capsys.readouterr().err
    assert redshift_data.statements() == []


@pytest.mark.parametrize(
    ("schema", "database", "role", "message"),
    [
        ("spectrum; DROP SCHEMA x", DATABASE, OUTPUTS["SpectrumRoleArn"], "not a plain lower"),
        ("spectrum", "db' --", OUTPUTS["SpectrumRoleArn"], "not a plain lower"),
        ("spectrum", DATABASE, OUTPUTS["SpectrumRoleArn"] + "' --", "is not an IAM role ARN"),
    ],
)
def test_setup_statements_refuse_hostile_names(schema, database, role, message):
    with pytest.raises(redshift_queries.ArgumentError, match=message):
        redshift_queries.setup_statements(schema, database, role)


def test_the_data_api_helper_sends_values_verbatim_as_parameters(redshift_data):
    redshift_data.will(Script(has_result_set=False))
    connection = data_api.Connection("c", "lake", OUTPUTS["SecretArn"])
    sql = "SELECT 1 FROM t WHERE name = :name"
    hostile = "x'; DROP TABLE t; --"
    data_api.run(redshift_data.client, connection, sql, {"name": hostile}, poll=0)
    (statement,) = redshift_data.statements()
    assert statement.query_string == sql
    assert statement.query_parameters == [{"name": "name", "value": hostile}]
    with pytest.raises(ValueError, match="not a plain identifier"):
        data_api.parameters_of({"name; DROP TABLE t": "1"})


def test_every_redshift_analysis_has_no_caller_value_in_its_text():
    for name in redshift_queries.ANALYSES:
        dated = redshift_queries.analysis_statement(
            name, OUTPUTS["ExternalSchema"], start=dt.date(2024, 5, 6), end=dt.date(2024, 6, 7)
        )
        assert "2024" not in dated.sql and "05-06" not in dated.sql
        values = {p["value"] for p in dated.parameters}
        assert values >= {"2024", "2024-05-06 00:00:00", "2024-06-08 00:00:00"}


# -------------------------------------------------------------------------------- ingest


def _source(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(",".join(contract.CLIENTS.source_header).encode() + b"\nC1\n")
    return path


@pytest.mark.parametrize(
    ("name", "options", "error", "message"),
    [
        ("..", {}, IngestError, "is not allowed in the raw zone"),
        ("..\\..\\clients_20250101.csv", {}, IngestError, "is not allowed in the raw zone"),
        ("clients_20250101.csv\n", {}, IngestError, "is not allowed in the raw zone"),
        ("clients 20250101.csv", {}, IngestError, "is not allowed in the raw zone"),
        (
            "export.csv",
            {"dataset": "../../outside", "ingest_date": "2025-01-01"},
            IngestError,
            "--dataset: unknown dataset '../../outside'",
        ),
        (
            "export.csv",
            {"dataset": "clients", "ingest_date": "2025-01-01/../../../x"},
            IngestError,
            "is not a valid date",
        ),
        (
            "export.csv",
            {"dataset": "clients", "ingest_date": "../2025-01-01"},
            IngestError,
            "is not a valid date",
        ),
    ],
)
def test_ingest_refuses_names_and_options_that_leave_the_raw_zone(
    tmp_path, name, options, error, message
):
    source = tmp_path / "incoming" / name if name != ".." else tmp_path / "incoming" / ".."
    if name != "..":
        _source(source.parent, name)
    before = snapshot(tmp_path)
    with pytest.raises(error, match=re.escape(message)):
        ingest_file(str(tmp_path / "lake"), source, **options)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "lake").exists()


def test_whatever_the_source_path_the_target_is_inside_raw(tmp_path):
    deep = tmp_path / "a" / "b"
    path = _source(deep, "clients_20250101.csv")
    winding = Path(f"{deep}/../b/./clients_20250101.csv")  # relative segments in the source
    landed = ingest_file(str(tmp_path / "lake"), winding)
    raw = (tmp_path / "lake" / "raw").resolve()
    assert Path(landed.target).resolve().is_relative_to(raw)
    assert Path(landed.target).read_bytes() == path.read_bytes()
    absolute = ingest_file(str(tmp_path / "lake"), path.resolve(), ingest_date="2025-01-02")
    assert Path(absolute.target).resolve().is_relative_to(raw)


@mock_aws
def test_ingest_to_s3_stays_under_the_load_prefix(tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="raw", CreateBucketConfiguration={"LocationConstraint": REGION})
    with pytest.raises(IngestError, match="not allowed"):
        ingest_file("s3://raw", _source(tmp_path, "..\\clients_20250101.csv"))
    landed = ingest_file("s3://raw", _source(tmp_path, "clients_20250101.csv"))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="raw")["Contents"]]
    assert keys == ["clients/ingest_date=2025-01-01/clients_20250101.csv"]
    assert landed.target == f"s3://raw/{keys[0]}"
