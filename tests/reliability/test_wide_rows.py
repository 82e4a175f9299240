"""A record wider than Spark's CSV parser allows by default must not crash the job.

Spark's CSV reader (univocity) fails the whole task on a record of more than `maxColumns`
(default 20480) fields, so one such line in one file would fail raw_to_processed for every
file of the dataset. The header check refuses over-wide headers (`too_many_columns`); data rows
are only seen by Spark, which `read_raw` runs with a far higher `maxColumns`, so the record is an
ordinary `malformed_row`.
"""

from __future__ import annotations

import pytest

from energy_lake import contract as c
from energy_lake.ingest import ingest_file
from tests.core.lakes import run, table
from tests.reliability.corpus import tx, utf8

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
FIELDS = 30_000
T = c.TRANSACTIONS


def test_a_record_of_30000_fields_is_one_malformed_row(spark, tmp_path):
    body = utf8(T.source_header, [tx("W-1"), ["x"] * FIELDS, tx("W-3")])
    source = tmp_path / "transactions_20260301.csv"
    source.write_bytes(body)
    lake = tmp_path / "lake"
    ingest_file(str(lake), source)
    (report,) = run(lake, "raw_to_processed")
    load = report["datasets"][T.name]["loads"]["2026-03-01"]
    assert (load["rows_read"], load["rows_processed"], load["rows_rejected"]) == (3, 2, 1)
    assert load["rejections"] == {c.MALFORMED_ROW: 1}
    (rejected,) = table(lake, "rejected", T.name)
    assert rejected["source_row"] == 2 and rejected["raw_record"].count(",") == FIELDS - 1
