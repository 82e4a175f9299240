"""Catalog stack: databases per zone and Glue tables typed exactly as the contract says."""

from __future__ import annotations

import pytest
from cdk_harness import Synth, render

from energy_lake import contract, naming

pytestmark = pytest.mark.xdist_group("cdk")

TYPED = [(zone, name) for zone in ("processed", "curated") for name in contract.DATASETS]


def table_input(synth: Synth, zone: str, name: str) -> dict:
    table = synth.stacks["catalog"].tables[(zone, name)]
    return synth.templates["catalog"]["Resources"][synth.logical_id(table)]["Properties"][
        "TableInput"
    ]


def test_one_database_per_zone_without_default_iam_permissions(synth: Synth) -> None:
    databases = synth.resources("catalog", "AWS::Glue::Database")
    inputs = {d["Properties"]["DatabaseInput"]["Name"]: d["Properties"] for d in databases.values()}
    assert set(inputs) == {naming.database_name(z, synth.env_name) for z in naming.ZONES}
    for properties in inputs.values():
        # Lake Formation grants decide access, not IAMAllowedPrincipals.
        assert properties["DatabaseInput"]["CreateTableDefaultPermissions"] == []
        assert properties["CatalogId"] == {"Ref": "AWS::AccountId"}


def test_only_processed_and_curated_tables_are_declared(synth: Synth) -> None:
    """Raw tables are the raw crawler's to discover."""
    assert set(synth.stacks["catalog"].tables) == set(TYPED)
    assert len(synth.resources("catalog", "AWS::Glue::Table")) == len(TYPED)


@pytest.mark.parametrize(("zone", "name"), TYPED)
def test_table_columns_equal_the_contract(synth: Synth, zone: str, name: str) -> None:
    dataset = contract.dataset(name)
    table = table_input(synth, zone, name)
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    partitions = [(c["Name"], c["Type"]) for c in table.get("PartitionKeys", [])]
    if zone == "processed":
        assert columns == list(dataset.processed_columns)
        assert partitions == list(dataset.processed_partition_types)
        assert {n for n, _ in columns} | {n for n, _ in partitions} >= {contract.LOAD_COLUMN}
    else:
        assert columns == list(dataset.curated_columns)
        assert partitions == list(dataset.partition_types)
    assert table["Name"] == name


def test_fact_tables_are_partitioned_by_event_day_and_dimensions_are_not(synth: Synth) -> None:
    for dataset in contract.DATASETS.values():
        keys = [k["Name"] for k in table_input(synth, "curated", dataset.name)["PartitionKeys"]]
        expected = list(contract.EVENT_PARTITIONS) if dataset in contract.FACTS else []
        assert keys == expected


@pytest.mark.parametrize(("zone", "name"), TYPED)
def test_tables_are_parquet_at_the_dataset_folder_of_their_zone(
    synth: Synth, zone: str, name: str
) -> None:
    table = table_input(synth, zone, name)
    descriptor = table["StorageDescriptor"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    assert "ParquetHiveSerDe" in descriptor["SerdeInfo"]["SerializationLibrary"]
    bucket_id = synth.logical_id(synth.stacks["storage"].buckets[zone])
    location = render(descriptor["Location"])
    assert location.startswith("s3://${Import:")
    assert bucket_id in location
    assert location.endswith(f"/{name}/")
