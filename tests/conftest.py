"""Shared fixtures: one local SparkSession per test process, small lakes on tmp paths."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("ENERGY_LAKE_DRIVER_MEMORY", "1500m")
os.environ.setdefault("ENERGY_LAKE_SPARK_MASTER", "local[2]")
# moto and boto3 must never find real credentials or reach AWS from the tests.
for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[key] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def spark():
    """The one SparkSession of this test process (the jobs reuse the active session)."""
    from glue_jobs.shell import spark_session

    session = spark_session("energy-lake-tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
