"""The Athena backend under moto (Athena + Glue + S3): workgroup, database, parameters, pages,
failure states. moto runs no SQL: results are queued in its Athena backend, and states moto
cannot produce (FAILED, CANCELLED, a long RUNNING) are put into GetQueryExecution's response
by a botocore hook, exactly where Athena reports them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import boto3
import pandas as pd
import pytest
import sqlglot
from moto import mock_aws
from moto.athena import responses as athena_responses
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from sqlglot import exp

from athena import aws, cli, frames, queries
from athena.aws import AthenaError, AthenaTarget
from energy_lake import contract, naming

REGION = "eu-west-1"
WORKGROUP = naming.workgroup_name("test")
DATABASE = naming.database_name("curated", "test")
RESULTS = "s3://energy-lake-test-athena-results/queries/"
FEB = {"start": dt.date(2025, 2, 1), "end": dt.date(2025, 2, 28)}


@pytest.fixture
def session():
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket="energy-lake-test-athena-results",
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )
        session.client("athena").create_work_group(
            Name=WORKGROUP,
            Configuration={
                "ResultConfiguration": {
                    "OutputLocation": RESULTS,
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                },
                "EnforceWorkGroupConfiguration": True,
            },
        )
        session.client("glue").create_database(DatabaseInput={"Name": DATABASE})
        yield session


@pytest.fixture
def target() -> AthenaTarget:
    return AthenaTarget(WORKGROUP, DATABASE, REGION, poll_seconds=0)


def queue_result(name: str, rows: list[list[str | None]], header: bool = True) -> None:
    """The next query's result, as Athena's GetQueryResults spells it."""
    columns = queries.analysis(name).output_columns
    info = [{"Name": c.name, "Label": c.name, "Type": c.sql_type} for c in columns]
    names = [c.name for c in columns]
    cells = [{"Data": [{"VarCharValue": n} for n in names]}] if header else []
    cells += [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows]
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.query_results_queue.append(QueryResults(rows=cells, column_info=info))


def executions(session: boto3.Session) -> list[dict]:
    client = session.client("athena")
    ids = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def force_state(session: boto3.Session, state: str, reason: str | None = None) -> None:
    def hook(parsed: dict, **_: object) -> None:
        status = parsed["QueryExecution"]["Status"]
        status["State"] = state
        if reason is not None:
            status["StateChangeReason"] = reason

    session.events.register("after-call.athena.GetQueryExecution", hook)


ENERGY_ROWS = [
    ["solar", "3", "850.000", "101.5000", "0.11941176470588236"],
    ["wind", "3", "160.500", "26.1000", "0.16261682242990655"],
]


def test_the_query_runs_in_the_workgroup_and_database_with_bound_parameters(session, target):
    queue_result("energy-by-type", ENERGY_ROWS)
    frame = aws.run("energy-by-type", target, session=session, **FEB)

    (execution,) = executions(session)
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["QueryExecutionContext"]["Database"] == DATABASE
    assert execution["ExecutionParameters"] == [
        "2025", "2025", "2", "1", "TIMESTAMP '2025-02-01 00:00:00'",
        "2025", "2025", "2", "28", "TIMESTAMP '2025-03-01 00:00:00'",
        "2", "2", "1", "28",
    ]  # fmt: skip
    assert "2025" not in execution["Query"]  # user values never reach the SQL text
    # The workgroup enforces its result location and encryption: the query used them.
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(RESULTS)
    config = execution["ResultConfiguration"]["EncryptionConfiguration"]
    assert config["EncryptionOption"] == "SSE_S3"
    assert frame.astype(object).values.tolist() == [
        ["solar", 3, Decimal("850.000"), Decimal("101.5000"), 0.11941176470588236],
        ["wind", 3, Decimal("160.500"), Decimal("26.1000"), 0.16261682242990655],
    ]
    assert isinstance(frame.iloc[0, 2], Decimal)


def test_the_sql_sent_to_athena_carries_the_partition_predicates(session, target):
    queue_result("monthly-price-trend", [])
    aws.run("monthly-price-trend", target, session=session, **FEB)
    (execution,) = executions(session)
    tree = sqlglot.parse_one(execution["Query"], read="trino")
    scan = next(t for t in tree.find_all(exp.Table) if t.name == contract.TRANSACTIONS.name)
    where = scan.find_ancestor(exp.Select).args["where"]
    partitions = set(contract.TRANSACTIONS.partition_columns)
    referenced = {c.name for c in where.find_all(exp.Column)}
    assert partitions <= referenced
    assert len(list(where.find_all(exp.Placeholder))) == len(execution["ExecutionParameters"])


def test_frames_have_the_local_backends_dtypes_even_when_empty(session, target):
    queue_result(
        "monthly-price-trend", [["2025-02-01", "solar", "2", "450.000", "0.1", "0.12", "0.1"]]
    )
    frame = aws.run("monthly-price-trend", target, session=session)
    declared = frames.arrow_schema(queries.analysis("monthly-price-trend"))
    assert [str(t) for t in frame.dtypes] == [str(pd.ArrowDtype(f.type)) for f in declared]
    assert frame.iloc[0, 0] == dt.date(2025, 2, 1)
    empty = aws.run("monthly-price-trend", target, session=session)  # nothing queued: no rows
    assert empty.empty and list(empty.dtypes) == list(frame.dtypes)


def test_results_are_read_across_pages(session, target, monkeypatch: pytest.MonkeyPatch):
    original = athena_responses.AthenaResponse.get_query_results
    served = []

    def paged(self):  # what Athena does and moto does not: 2 rows a page, with NextToken
        body = json.loads(original(self))
        served.append(self._get_param("NextToken"))
        rows = body["ResultSet"]["Rows"]
        offset = int(self._get_param("NextToken") or 0)
        body["ResultSet"]["Rows"] = rows[offset : offset + 2]
        if offset + 2 < len(rows):
            body["NextToken"] = str(offset + 2)
        return json.dumps(body)

    monkeypatch.setattr(athena_responses.AthenaResponse, "get_query_results", paged)
    data = [[f"C{i}", f"name {i}", "residential", "1", f"{10 - i}.000", "1.0000"] for i in range(5)]
    queue_result("top-clients", data)
    frame = aws.run("top-clients", target, session=session)
    assert served == [None, "2", "4"]  # header + 5 rows, 2 a page
    assert frame.iloc[:, 0].tolist() == [f"C{i}" for i in range(5)]  # header skipped once


def test_results_without_a_header_row_lose_no_data(session, target):
    queue_result("energy-by-type", ENERGY_ROWS, header=False)
    assert len(aws.run("energy-by-type", target, session=session)) == len(ENERGY_ROWS)


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_failed_and_cancelled_queries_raise_with_athenas_reason(session, target, state):
    reason = "COLUMN_NOT_FOUND: line 3:5: Column 'x' cannot be resolved"
    force_state(session, state, reason)
    with pytest.raises(AthenaError, match=f"{state}: COLUMN_NOT_FOUND") as caught:
        aws.run("energy-by-type", target, session=session)
    (execution,) = executions(session)
    assert execution["QueryExecutionId"] in str(caught.value)


def test_a_query_running_past_the_timeout_is_stopped(session):
    force_state(session, "RUNNING")
    target = AthenaTarget(WORKGROUP, DATABASE, REGION, poll_seconds=0, timeout_seconds=0)
    with pytest.raises(AthenaError, match="still RUNNING after 0s; stopped it"):
        aws.run("energy-by-type", target, session=session)


def test_a_missing_workgroup_is_a_clear_error(session):
    target = AthenaTarget("no-such-workgroup", DATABASE, REGION)
    with pytest.raises(AthenaError, match="workgroup 'no-such-workgroup' not found"):
        aws.run("energy-by-type", target, session=session)
    assert executions(session) == []


def test_no_region_is_a_clear_error(session, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(AthenaError, match="no AWS region"):
        aws.run("energy-by-type", AthenaTarget(WORKGROUP, DATABASE), session=boto3.Session())


def test_a_missing_database_is_a_clear_error(session):
    target = AthenaTarget(WORKGROUP, "no_such_database", REGION)
    with pytest.raises(AthenaError, match="Glue database 'no_such_database' not found"):
        aws.run("energy-by-type", target, session=session)


def test_a_workgroup_without_a_result_location_is_refused_before_querying(session):
    session.client("athena").create_work_group(
        Name="bare", Configuration={"EnforceWorkGroupConfiguration": False}
    )
    with pytest.raises(AthenaError, match="no query result location"):
        aws.run("energy-by-type", AthenaTarget("bare", DATABASE, REGION), session=session)
    buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("aws-athena-query-results")]


def test_create_views_replaces_one_view_per_analysis(session, target):
    created = aws.create_views(target, session=session)
    assert created == [f"{DATABASE}.{a.replace('-', '_')}" for a in queries.ANALYSES]
    statements = [sqlglot.parse_one(e["Query"], read="trino") for e in executions(session)]
    assert sorted(s.this.name for s in statements) == sorted(
        a.view_name for a in queries.analyses()
    )
    assert all(isinstance(s, exp.Create) and s.kind == "VIEW" for s in statements)


def test_the_cli_queries_athena_and_prints_exact_csv(session, capsys, monkeypatch):
    monkeypatch.setattr(aws, "session_for", lambda target: session)
    queue_result("energy-by-type", ENERGY_ROWS)
    argv = ["query", "energy-by-type", "--athena", "--workgroup", WORKGROUP, "--database",
            DATABASE, "--region", REGION, "--start", "2025-02-01", "--format", "csv"]  # fmt: skip
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [",".join(r) for r in ENERGY_ROWS]


def test_the_cli_reports_a_missing_workgroup_in_one_line(session, capsys, monkeypatch):
    monkeypatch.setattr(aws, "session_for", lambda target: session)
    code = cli.main(["query", "top-clients", "--athena", "--env", "nope", "--region", REGION])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "energy-lake-nope" in err and "Traceback" not in err


def test_create_views_cli_prints_or_runs_the_statements(session, capsys, monkeypatch):
    monkeypatch.setattr(aws, "session_for", lambda target: session)
    assert cli.main(["athena", "create-views", "--env", "test", "--print-sql"]) == 0
    assert capsys.readouterr().out.count("CREATE OR REPLACE VIEW") == 4
    assert executions(session) == []
    assert cli.main(["athena", "create-views", "--env", "test", "--region", REGION]) == 0
    assert capsys.readouterr().out.count("created view") == 4
