"""Analytics stack: an enforced, encrypted, capped Athena workgroup and the named analyses."""

from __future__ import annotations

import pytest
from cdk_harness import Synth, render

from athena import queries
from energy_lake import naming

pytestmark = pytest.mark.xdist_group("cdk")


def workgroup(synth: Synth) -> dict:
    (resource,) = synth.resources("analytics", "AWS::Athena::WorkGroup").values()
    return resource["Properties"]


def test_workgroup_enforces_engine_v3_encrypted_results_and_a_scan_cutoff(synth: Synth) -> None:
    properties = workgroup(synth)
    assert properties["Name"] == naming.workgroup_name(synth.env_name)
    assert properties["State"] == "ENABLED"
    configuration = properties["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["PublishCloudWatchMetricsEnabled"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == synth.config.athena_bytes_scanned_cutoff
    assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    results = configuration["ResultConfiguration"]
    bucket_id = synth.logical_id(synth.stacks["storage"].buckets["athena_results"])
    location = render(results["OutputLocation"])
    assert location.startswith("s3://${Import:") and bucket_id in location
    encryption = results["EncryptionConfiguration"]
    assert encryption["EncryptionOption"] == "SSE_KMS"
    assert synth.logical_id(synth.stacks["storage"].key) in render(encryption["KmsKey"])


def test_cutoff_is_tighter_in_dev_than_in_prod(dev: Synth, prod: Synth) -> None:
    dev_cutoff = workgroup(dev)["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"]
    prod_cutoff = workgroup(prod)["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"]
    assert dev_cutoff < prod_cutoff


def test_only_dev_deletes_saved_queries_with_the_workgroup(dev: Synth, prod: Synth) -> None:
    assert workgroup(dev)["RecursiveDeleteOption"] is True
    assert workgroup(prod)["RecursiveDeleteOption"] is False


def test_named_queries_are_the_helper_sql_over_the_curated_database(synth: Synth) -> None:
    database = naming.database_name("curated", synth.env_name)
    named = {
        q["Properties"]["Name"]: q["Properties"]
        for q in synth.resources("analytics", "AWS::Athena::NamedQuery").values()
    }
    assert set(named) == {f"{synth.config.prefix}-{name}" for name in queries.ANALYSES}
    for name in queries.ANALYSES:
        query = named[f"{synth.config.prefix}-{name}"]
        assert query["Database"] == database
        assert query["QueryString"] == queries.named_query_sql(name, database)
        assert query["WorkGroup"] == {"Ref": synth.logical_id(synth.stacks["analytics"].workgroup)}
