"""The Data API helper against moto: submission, waiting, errors, paging and typing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from redshift_data_fixture import Script, column

from redshift import data_api
from redshift.data_api import Connection, RedshiftError, StatementError, StatementTimeout

CONNECTION = Connection(
    cluster_identifier="energy-lake-dev-warehouse",
    database="lake",
    secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!admin-AbCdEf",
)


def no_sleep(_seconds: float) -> None:
    return None


def test_run_submits_to_the_cluster_database_and_secret_with_named_parameters(redshift_data):
    sql = "SELECT 1 WHERE :day = :day"
    described = data_api.run(
        redshift_data.client, CONNECTION, sql, {"day": dt.date(2025, 3, 7)}, sleep=no_sleep
    )

    (statement,) = redshift_data.statements()
    assert statement.cluster_identifier == CONNECTION.cluster_identifier
    assert statement.database == CONNECTION.database
    assert statement.secret_arn == CONNECTION.secret_arn
    assert statement.query_string == sql
    assert statement.query_parameters == [{"name": "day", "value": "2025-03-07"}]
    assert described["Status"] == "FINISHED"
    assert described["Id"] == statement.id


def test_run_polls_until_the_statement_finishes(redshift_data):
    redshift_data.will(Script(statuses=("SUBMITTED", "PICKED", "STARTED", "STARTED", "FINISHED")))
    sleeps: list[float] = []
    data_api.run(redshift_data.client, CONNECTION, "SELECT 1", poll=0.5, sleep=sleeps.append)
    assert sleeps == [0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("status", ["FAILED", "ABORTED"])
def test_a_statement_that_does_not_finish_raises_with_redshifts_message(redshift_data, status):
    message = 'relation "energy_lake_dev_curated.transactions" does not exist'
    redshift_data.will(Script(statuses=("STARTED", status), error=message))

    with pytest.raises(StatementError) as raised:
        data_api.run(redshift_data.client, CONNECTION, "SELECT 1", sleep=no_sleep)

    assert raised.value.status == status
    assert raised.value.error == message
    assert message in str(raised.value)
    assert "SELECT 1" in str(raised.value)


def test_a_statement_past_the_deadline_is_cancelled(redshift_data):
    redshift_data.will(Script(statuses=("STARTED",)))  # never finishes
    now = iter(range(0, 1000, 10))

    with pytest.raises(StatementTimeout, match="cancelled"):
        data_api.run(
            redshift_data.client,
            CONNECTION,
            "SELECT 1",
            timeout=25,
            sleep=no_sleep,
            clock=lambda: float(next(now)),
        )

    (statement,) = redshift_data.statements()
    assert statement.status == "ABORTED"  # moto's CancelStatement ran


def test_query_pages_all_results_into_one_typed_frame(redshift_data):
    columns = [
        column("energy_type", "varchar"),
        column("transactions", "int8"),
        column("total_kwh", "numeric", 38, 3),
        column("avg_price_per_kwh", "float8"),
        column("month", "date"),
        column("ingested_at", "timestamp"),
        column("active", "bool"),
    ]
    first = [
        [
            {"stringValue": "wind"},
            {"longValue": 3},
            {"stringValue": "1500.250"},
            {"doubleValue": 0.125},
            {"stringValue": "2025-03-01"},
            {"stringValue": "2025-03-07 10:15:00"},
            {"booleanValue": True},
        ]
    ]
    second = [
        [
            {"stringValue": "solar"},
            {"longValue": 1},
            {"stringValue": "20.000"},
            {"isNull": True},
            {"stringValue": "2025-04-01"},
            {"isNull": True},
            {"booleanValue": False},
        ]
    ]
    redshift_data.will(
        Script(
            pages=(
                {"ColumnMetadata": columns, "Records": first, "TotalNumRows": 2},
                {"ColumnMetadata": columns, "Records": second, "TotalNumRows": 2},
            )
        )
    )

    frame = data_api.query(redshift_data.client, CONNECTION, "SELECT ...", sleep=no_sleep)

    assert [c["NextToken"] for c in redshift_data.result_calls] == [None, "1"]
    assert list(frame.columns) == [c["name"] for c in columns]
    assert frame["energy_type"].tolist() == ["wind", "solar"]
    assert frame["transactions"].tolist() == [3, 1]
    assert frame["total_kwh"].tolist() == [Decimal("1500.250"), Decimal("20.000")]
    assert frame["avg_price_per_kwh"].iloc[0] == 0.125
    assert pd.isna(frame["avg_price_per_kwh"].iloc[1])
    assert frame["month"].tolist() == [dt.date(2025, 3, 1), dt.date(2025, 4, 1)]
    assert frame["ingested_at"].iloc[0] == pd.Timestamp("2025-03-07 10:15:00")
    assert frame["active"].tolist() == [True, False]
    assert frame.dtypes.to_dict() == {
        "energy_type": pd.ArrowDtype(pa.string()),
        "transactions": pd.ArrowDtype(pa.int64()),
        "total_kwh": pd.ArrowDtype(pa.decimal128(38, 3)),
        "avg_price_per_kwh": pd.ArrowDtype(pa.float64()),
        "month": pd.ArrowDtype(pa.date32()),
        "ingested_at": pd.ArrowDtype(pa.timestamp("us")),
        "active": pd.ArrowDtype(pa.bool_()),
    }


def test_an_empty_result_is_an_empty_typed_frame(redshift_data):
    columns = [column("client_id", "varchar"), column("revenue", "numeric", 38, 4)]
    redshift_data.will(Script(pages=({"ColumnMetadata": columns, "Records": []},)))
    frame = data_api.query(redshift_data.client, CONNECTION, "SELECT ...", sleep=no_sleep)
    assert frame.empty
    assert frame.dtypes["revenue"] == pd.ArrowDtype(pa.decimal128(38, 4))


def test_query_of_a_statement_without_rows_says_so(redshift_data):
    redshift_data.will(Script(has_result_set=False))
    with pytest.raises(RedshiftError, match="no result set"):
        data_api.query(redshift_data.client, CONNECTION, "CREATE SCHEMA x", sleep=no_sleep)


def test_timestamptz_values_are_utc():
    frame = data_api.to_frame(
        [column("at", "timestamptz")], [[{"stringValue": "2025-03-07 10:15:00+01"}]]
    )
    assert frame["at"].iloc[0] == pd.Timestamp("2025-03-07 09:15:00", tz="UTC")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"day; DROP TABLE x": "1"}, "not a plain identifier"),
        ({"day": None}, "cannot bind NULL"),
    ],
)
def test_parameters_are_validated_before_anything_is_sent(values, message):
    with pytest.raises(ValueError, match=message):
        data_api.parameters_of(values)
