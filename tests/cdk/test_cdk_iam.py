"""Least privilege, read from the synthesised IAM policies of every stack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cdk_harness import Synth, as_list, render

from energy_lake import naming

pytestmark = pytest.mark.xdist_group("cdk")

S3_WRITES = ("s3:put", "s3:delete", "s3:abort", "s3:restore", "s3:replicate")


@dataclass(frozen=True)
class Statement:
    principals: tuple[str, ...]  # rendered role references the policy is attached to
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: str

    def attached_to(self, logical_id: str) -> bool:
        return any(logical_id in p for p in self.principals)


def statements(synth: Synth) -> Iterator[Statement]:
    """Every identity-policy statement of the app, with the roles it is attached to."""
    for _, logical_id, resource in synth.all_resources():
        documents: list[tuple[tuple[str, ...], dict]] = []
        if resource["Type"] == "AWS::IAM::Policy":
            roles = tuple(render(r) for r in resource["Properties"].get("Roles", []))
            documents.append((roles, resource["Properties"]["PolicyDocument"]))
        elif resource["Type"] == "AWS::IAM::Role":
            for inline in resource["Properties"].get("Policies", []):
                documents.append((("${" + logical_id + "}",), inline["PolicyDocument"]))
        for principals, document in documents:
            for statement in document["Statement"]:
                yield Statement(
                    principals=principals,
                    actions=tuple(a.lower() for a in as_list(statement["Action"])),
                    resources=tuple(render(r) for r in as_list(statement.get("Resource", []))),
                    effect=statement["Effect"],
                )


def role_statements(synth: Synth, role) -> list[Statement]:
    logical_id = synth.logical_id(role)
    found = [s for s in statements(synth) if s.attached_to(logical_id)]
    assert found, f"no policy attached to {logical_id}"
    return found


def bucket_prefix(synth: Synth, name: str) -> str:
    """The rendered ARN prefix of one bucket (physical name from the storage stack)."""
    return f":s3:::{synth.config.prefix}-{name.replace('_', '-')}-"


def test_nothing_grants_every_action_on_every_resource(synth: Synth) -> None:
    for statement in statements(synth):
        if statement.effect != "Allow":
            continue
        everything = "*" in statement.resources
        assert not (everything and "*" in statement.actions), statement
        assert not any(a.endswith(":*") and everything for a in statement.actions), statement


def test_job_role_cannot_write_raw(synth: Synth) -> None:
    raw = bucket_prefix(synth, "raw")
    touching_raw = [
        s
        for s in role_statements(synth, synth.stacks["catalog"].job_role)
        if any(raw in r for r in s.resources)
    ]
    assert touching_raw, "the jobs must be able to read raw"
    for statement in touching_raw:
        assert not any(a.startswith(S3_WRITES) or a == "s3:*" for a in statement.actions)
    actions = {a for s in touching_raw for a in s.actions}
    assert "s3:getobject" in actions
    assert "s3:listbucket" in actions


def test_job_role_has_nothing_on_athena_results(synth: Synth) -> None:
    results = bucket_prefix(synth, "athena_results")
    for statement in role_statements(synth, synth.stacks["catalog"].job_role):
        assert not any(results in r for r in statement.resources), statement
        if any(a.startswith("s3:") for a in statement.actions):
            assert "*" not in statement.resources, statement  # no bucket-agnostic S3 access


def test_job_role_writes_the_zones_it_produces(synth: Synth) -> None:
    writes = {
        resource
        for s in role_statements(synth, synth.stacks["catalog"].job_role)
        if "s3:putobject" in s.actions
        for resource in s.resources
    }
    for name in ("processed", "curated", "rejected", "glue_assets"):
        assert any(bucket_prefix(synth, name) in r for r in writes), name


@pytest.mark.parametrize("zone", naming.ZONES)
def test_crawler_role_reads_only_its_zone(synth: Synth, zone: str) -> None:
    role = synth.stacks["catalog"].crawler_roles[zone]
    s3_statements = [
        s for s in role_statements(synth, role) if any(a.startswith("s3:") for a in s.actions)
    ]
    assert s3_statements
    own = bucket_prefix(synth, zone)
    for statement in s3_statements:
        assert statement.resources and all(own in r for r in statement.resources), statement
        assert not any(a.startswith(S3_WRITES) or a == "s3:*" for a in statement.actions)


@pytest.mark.parametrize("zone", naming.ZONES)
def test_crawler_role_catalog_access_is_limited_to_its_database(synth: Synth, zone: str) -> None:
    role = synth.stacks["catalog"].crawler_roles[zone]
    database = naming.database_name(zone, synth.env_name)
    glue = [
        s for s in role_statements(synth, role) if any(a.startswith("glue:") for a in s.actions)
    ]
    assert glue
    for statement in glue:
        assert not any("delete" in a for a in statement.actions)
        for resource in statement.resources:
            assert resource.endswith(":catalog") or f"/{database}" in resource, resource


def test_glue_principals_may_get_lake_formation_data_access(synth: Synth) -> None:
    catalog = synth.stacks["catalog"]
    for role in (catalog.job_role, *catalog.crawler_roles.values()):
        assert any("lakeformation:getdataaccess" in s.actions for s in role_statements(synth, role))


def test_job_role_reads_exactly_the_shipped_code(synth: Synth) -> None:
    code = synth.stacks["etl"].code
    reads = [
        s
        for s in role_statements(synth, synth.stacks["catalog"].job_role)
        if "cdk-" in " ".join(s.resources)
    ]
    (statement,) = reads
    assert statement.actions == ("s3:getobject",)
    hashes = sorted(r.rsplit("/", 1)[-1].split(".")[0] for r in statement.resources)
    assert hashes == sorted(a.asset_hash for a in code.assets)
