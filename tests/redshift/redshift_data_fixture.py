"""moto's Redshift Data API, scriptable.

moto 5.2.5 keeps every statement STARTED (only CancelStatement moves it, to ABORTED), reports no
Error and answers GetStatementResult with one fixed table, with no way to inject results. The
`redshift_data` fixture scripts, per statement, the status sequence DescribeStatement walks
through, the error message and the result pages, on moto's own backend: requests still go
through botocore's validation and serialization and moto's request handling.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.redshiftdata import models as rd_models
from moto.redshiftdata import responses as rd_responses

REGION = "eu-west-1"


@dataclass
class Script:
    """What the next submitted statement does."""

    statuses: Sequence[str] = ("FINISHED",)
    error: str | None = None
    has_result_set: bool = True
    pages: Sequence[dict[str, Any]] = ()  # GetStatementResult pages, in order


@dataclass
class ScriptedRedshiftData:
    client: Any
    backend: Any
    scripts: list[Script] = field(default_factory=list)
    by_statement: dict[str, Script] = field(default_factory=dict)
    result_calls: list[dict[str, Any]] = field(default_factory=list)

    def will(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def statements(self) -> list[Any]:
        return list(self.backend.statements.values())


@pytest.fixture
def redshift_data(monkeypatch):
    with mock_aws():
        client = boto3.client("redshift-data", region_name=REGION)
        backend = rd_models.redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION]
        scripted = ScriptedRedshiftData(client, backend)
        progress: dict[str, int] = {}

        original_execute = rd_models.RedshiftDataAPIServiceBackend.execute_statement

        def execute_statement(self, **kwargs):
            statement = original_execute(self, **kwargs)
            script = scripted.scripts.pop(0) if scripted.scripts else Script()
            scripted.by_statement[statement.id] = script
            statement.has_result_set = script.has_result_set
            return statement

        def describe_statement(self, statement_id):
            statement = self.statements[statement_id]
            script = scripted.by_statement[statement_id]
            if statement.status != "ABORTED":  # a cancel wins over the script
                step = progress.get(statement_id, 0)
                statement.status = script.statuses[min(step, len(script.statuses) - 1)]
                progress[statement_id] = step + 1
            statement.error = script.error if statement.status in ("FAILED", "ABORTED") else None
            return statement

        original_iter = rd_models.Statement.__iter__

        def statement_iter(self):
            yield from original_iter(self)
            if getattr(self, "error", None):
                yield "Error", self.error

        def get_statement_result(self):
            statement_id = self._get_param("Id")
            token = self._get_param("NextToken")
            scripted.result_calls.append({"Id": statement_id, "NextToken": token})
            pages = scripted.by_statement[statement_id].pages
            index = int(token) if token else 0
            page = dict(pages[index])
            if index + 1 < len(pages):
                page["NextToken"] = str(index + 1)
            return 200, {}, json.dumps(page)

        monkeypatch.setattr(
            rd_models.RedshiftDataAPIServiceBackend, "execute_statement", execute_statement
        )
        monkeypatch.setattr(
            rd_models.RedshiftDataAPIServiceBackend, "describe_statement", describe_statement
        )
        monkeypatch.setattr(rd_models.Statement, "__iter__", statement_iter)
        monkeypatch.setattr(
            rd_responses.RedshiftDataAPIServiceResponse,
            "get_statement_result",
            get_statement_result,
        )
        yield scripted


def column(name: str, type_name: str, precision: int = 0, scale: int = 0) -> dict[str, Any]:
    """One ColumnMetadata entry as the Data API returns it."""
    return {
        "name": name,
        "label": name,
        "typeName": type_name,
        "precision": precision,
        "scale": scale,
        "nullable": 1,
        "isCaseSensitive": False,
        "isSigned": True,
        "isCurrency": False,
        "columnDefault": None,
        "length": 0,
        "schemaName": "",
        "tableName": "",
    }
