"""Lake Formation settings and location registration, in the synthesised app."""

from __future__ import annotations

import json

import pytest
from cdk_harness import Synth, render

from stacks.governance import GOVERNED_ZONES

pytestmark = pytest.mark.xdist_group("cdk")


def only(resources: dict) -> dict:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def test_settings_append_admins_and_never_replace_them(app_dev: Synth) -> None:
    settings = only(app_dev.resources("governance", "AWS::LakeFormation::DataLakeSettings"))
    assert settings["Properties"]["MutationType"] == "APPEND"
    (admin,) = [render(a["DataLakePrincipalIdentifier"]) for a in settings["Properties"]["Admins"]]
    # The bootstrap's CloudFormation execution role, written with pseudo parameters only.
    assert admin == (
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
        "cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
    )
    assert "Fn::Sub" in settings["Properties"]["Admins"][0]["DataLakePrincipalIdentifier"]


def test_configured_admins_are_appended_after_the_deployment_role(variant) -> None:
    extra = "arn:aws:iam::123456789012:role/data-platform-admin"
    synth = variant("dev", lake_admin_arns=(extra,))
    settings = synth.templates["governance"]["Resources"]["DataLakeSettings"]["Properties"]
    admins = [render(a["DataLakePrincipalIdentifier"]) for a in settings["Admins"]]
    assert len(admins) == 2
    assert "cfn-exec-role" in admins[0]
    assert admins[1] == extra
    assert settings["MutationType"] == "APPEND"


def test_new_databases_and_tables_get_no_iam_allowed_principals(app_dev: Synth) -> None:
    settings = only(app_dev.resources("governance", "AWS::LakeFormation::DataLakeSettings"))
    assert settings["Properties"]["CreateDatabaseDefaultPermissions"] == []
    assert settings["Properties"]["CreateTableDefaultPermissions"] == []
    databases = app_dev.resources("catalog", "AWS::Glue::Database")
    assert len(databases) == 3
    for database in databases.values():
        assert database["Properties"]["DatabaseInput"]["CreateTableDefaultPermissions"] == []
    # ...and nothing in the whole app grants to IAMAllowedPrincipals.
    everything = json.dumps(app_dev.templates).upper()
    assert "IAM_ALLOWED_PRINCIPALS" not in everything
    assert "IAMALLOWEDPRINCIPALS" not in everything


def test_processed_and_curated_are_registered_with_the_data_access_role(app_dev: Synth) -> None:
    registrations = app_dev.resources("governance", "AWS::LakeFormation::Resource")
    storage = app_dev.stacks["storage"]
    expected = {
        render(app_dev.stacks["governance"].resolve(storage.buckets[z].bucket_arn))
        for z in GOVERNED_ZONES
    }
    role_id = app_dev.logical_id(app_dev.stacks["governance"].data_access_role)
    registered = set()
    for registration in registrations.values():
        properties = registration["Properties"]
        assert properties["UseServiceLinkedRole"] is False
        assert properties["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert properties["HybridAccessEnabled"] is False
        # settings -> registration: the location is registered once the admins are in place.
        assert "DataLakeSettings" in registration["DependsOn"]
        # ...and once the role may read the buckets (its ARN orders the role itself).
        assert any(d.startswith("DataAccessRoleDefaultPolicy") for d in registration["DependsOn"])
        registered.add(render(properties["ResourceArn"]))
    assert len(registrations) == len(GOVERNED_ZONES)
    assert registered == expected
    assert sorted("processed" in r.lower() for r in registered) == [False, True]


def test_the_data_access_role_is_lake_formations_and_reaches_only_governed_data(
    app_dev: Synth,
) -> None:
    role_id = app_dev.logical_id(app_dev.stacks["governance"].data_access_role)
    role = app_dev.templates["governance"]["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lakeformation.amazonaws.com"}
    policy = only(app_dev.resources("governance", "AWS::IAM::Policy"))
    resources = [
        render(r)
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    buckets = [r for r in resources if "Bucket" in r and "Key" not in r]
    assert buckets and all("Processed" in r or "Curated" in r for r in buckets), buckets
    actions = {
        a
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not any(a.endswith("*") for a in actions), actions
