"""Landing files in the raw zone: names, load dates, immutability, S3."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from energy_lake.cli import main
from energy_lake.ingest import ConflictError, IngestError, classify, ingest_file


def source(tmp_path, name, body=b"client_id\nC1\n"):
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_dataset_and_load_date_come_from_the_name():
    assert classify("transactions_20250131.csv", None, None) == ("transactions", "2025-01-31")
    assert classify("export.csv", "clients", "2025-02-01") == ("clients", "2025-02-01")


@pytest.mark.parametrize(
    ("name", "dataset", "day", "message"),
    [
        ("export.csv", None, None, "cannot tell the dataset and load date"),
        ("transactions_20250231.csv", None, None, "not a valid date"),
        ("clients_20250101.csv", "transactions", None, "the name says dataset 'clients'"),
        ("export.csv", "clients", "01/02/2025", "not a valid date"),
        ("export.csv", "trades", "2025-02-01", "--dataset: unknown dataset 'trades'"),
    ],
)
def test_unrecognised_names_are_clear_errors(name, dataset, day, message):
    with pytest.raises(IngestError, match=message):
        classify(name, dataset, day)


def test_files_land_under_dataset_and_load(tmp_path):
    lake = tmp_path / "lake"
    landed = ingest_file(str(lake), source(tmp_path, "clients_20250102.csv"))
    target = lake / "raw" / "clients" / "ingest_date=2025-01-02" / "clients_20250102.csv"
    assert landed.status == "landed" and landed.target == str(target)
    assert target.read_bytes() == b"client_id\nC1\n"


def test_same_bytes_again_is_a_no_op_and_different_bytes_a_conflict(tmp_path):
    lake = tmp_path / "lake"
    path = source(tmp_path, "clients_20250102.csv")
    ingest_file(str(lake), path)
    assert ingest_file(str(lake), path).status == "unchanged"
    path.write_bytes(b"client_id\nC2\n")
    with pytest.raises(ConflictError, match="already holds a different file"):
        ingest_file(str(lake), path)
    landed = lake / "raw" / "clients" / "ingest_date=2025-01-02" / "clients_20250102.csv"
    assert landed.read_bytes() == b"client_id\nC1\n"  # never overwritten


def test_names_cannot_escape_the_raw_zone(tmp_path):
    with pytest.raises(IngestError, match="not allowed in the raw zone"):
        ingest_file(str(tmp_path / "lake"), tmp_path / ".." / "..")
    weird = source(tmp_path, "clients 2025.csv")
    with pytest.raises(IngestError, match="not allowed"):
        ingest_file(str(tmp_path / "lake"), weird, dataset="clients", ingest_date="2025-01-01")


@mock_aws
def test_s3_raw_bucket_with_conditional_writes(tmp_path):
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    path = source(tmp_path, "providers_20250103.csv")
    landed = ingest_file("s3://raw", path)
    assert landed.target == "s3://raw/providers/ingest_date=2025-01-03/providers_20250103.csv"
    body = s3.get_object(
        Bucket="raw", Key="providers/ingest_date=2025-01-03/providers_20250103.csv"
    )
    assert body["Body"].read() == path.read_bytes()
    assert ingest_file("s3://raw", path).status == "unchanged"
    path.write_bytes(b"provider_id\nP2\n")
    with pytest.raises(ConflictError):
        ingest_file("s3://raw", path)


def test_cli_exit_codes(tmp_path, capsys):
    lake = str(tmp_path / "lake")
    assert main(["ingest", "--lake", lake, str(source(tmp_path, "notes.csv"))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot tell the dataset" in err
    path = source(tmp_path, "clients_20250102.csv")
    assert main(["ingest", "--lake", lake, str(path)]) == 0
    path.write_bytes(b"changed")
    assert main(["ingest", "--lake", lake, str(path)]) == 1
    assert "conflict" in capsys.readouterr().err
