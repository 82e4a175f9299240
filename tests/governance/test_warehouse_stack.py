"""The Redshift warehouse: private, encrypted, audited, Spectrum wired, schema automated."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import aws_cdk as cdk
import pytest
from cdk_harness import Synth, as_list, cdk_context, render
from cfnlint.api import ManualArgs, lint

import app as cdk_app
from energy_lake import naming
from redshift import cli, queries
from stacks import config as config_module
from stacks.warehouse import CUSTOM_RESOURCE_CODE, PORT

pytestmark = pytest.mark.xdist_group("cdk")


def resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict, type_: str) -> tuple[str, dict]:
    found = resources(template, type_)
    assert len(found) == 1, list(found)
    return next(iter(found.items()))


@pytest.fixture(scope="module")
def warehouse(app_dev: Synth) -> dict:
    return app_dev.templates["warehouse"]


def test_the_cluster_is_private_encrypted_and_ssl_only(warehouse, app_dev: Synth) -> None:
    _, cluster = only(warehouse, "AWS::Redshift::Cluster")
    p = cluster["Properties"]
    assert p["PubliclyAccessible"] is False
    assert p["Encrypted"] is True
    key_id, _ = only(warehouse, "AWS::KMS::Key")
    assert p["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert p["EnhancedVpcRouting"] is True
    assert p["Port"] == PORT != 5439
    assert p["ManageMasterPassword"] is True  # generated into Secrets Manager, rotatable
    assert p["MasterPasswordSecretKmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert "MasterUserPassword" not in p
    assert p["NodeType"] == app_dev.config.redshift_node_type
    assert p["ClusterType"] == "single-node"
    _, parameters = only(warehouse, "AWS::Redshift::ClusterParameterGroup")
    values = {
        x["ParameterName"]: x["ParameterValue"] for x in parameters["Properties"]["Parameters"]
    }
    assert values["require_ssl"] == "true"
    assert values["enable_user_activity_logging"] == "true"
    assert p["LoggingProperties"]["LogDestinationType"] == "cloudwatch"
    assert set(p["LoggingProperties"]["LogExports"]) == {
        "connectionlog",
        "userlog",
        "useractivitylog",
    }
    assert cluster["DeletionPolicy"] == "Delete"  # dev destroys its data on delete


def test_the_cluster_sits_in_isolated_subnets_of_its_own_vpc(warehouse) -> None:
    _, cluster = only(warehouse, "AWS::Redshift::Cluster")
    _, subnet_group = only(warehouse, "AWS::Redshift::ClusterSubnetGroup")
    assert cluster["Properties"]["ClusterSubnetGroupName"] == {
        "Ref": next(iter(resources(warehouse, "AWS::Redshift::ClusterSubnetGroup")))
    }
    vpc_id, _ = only(warehouse, "AWS::EC2::VPC")
    subnets = {r["Ref"] for r in subnet_group["Properties"]["SubnetIds"]}
    assert subnets == set(resources(warehouse, "AWS::EC2::Subnet"))
    for subnet in subnets:
        assert warehouse["Resources"][subnet]["Properties"]["VpcId"] == {"Ref": vpc_id}
        assert warehouse["Resources"][subnet]["Properties"]["MapPublicIpOnLaunch"] is False
    # Isolated: no internet or NAT gateway, no route out of the VPC but the S3 endpoint.
    assert not resources(warehouse, "AWS::EC2::InternetGateway")
    assert not resources(warehouse, "AWS::EC2::NatGateway")
    assert not resources(warehouse, "AWS::EC2::Route")
    endpoints = resources(warehouse, "AWS::EC2::VPCEndpoint").values()
    services = {render(e["Properties"]["ServiceName"]): e["Properties"] for e in endpoints}
    s3 = [p for name, p in services.items() if name.endswith(".s3")]
    assert len(s3) == 1 and s3[0]["VpcEndpointType"] == "Gateway"
    interfaces = {n.rsplit(".", 1)[-1] for n, p in services.items() if not n.endswith(".s3")}
    assert interfaces == {"glue", "lakeformation"}
    assert resources(warehouse, "AWS::EC2::FlowLog")


def test_spectrum_role_is_attached_and_scoped_to_the_curated_database(
    warehouse, app_dev: Synth
) -> None:
    grants = app_dev.stacks["grants"]
    _, cluster = only(warehouse, "AWS::Redshift::Cluster")
    spectrum_arn = render(app_dev.stacks["warehouse"].resolve(grants.spectrum_role.role_arn))
    assert [render(r) for r in cluster["Properties"]["IamRoles"]] == [spectrum_arn]
    role_id = app_dev.logical_id(grants.spectrum_role)
    role = app_dev.templates["grants"]["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "redshift.amazonaws.com"
    }
    policies = [
        p
        for p in resources(app_dev.templates["grants"], "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert actions == {
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchGetPartition",
        "lakeformation:GetDataAccess",
    }
    glue_resources = " ".join(
        render(r)
        for s in statements
        if as_list(s["Action"])[0].startswith("glue:")
        for r in as_list(s["Resource"])
    )
    curated = render(
        app_dev.stacks["grants"].resolve(app_dev.stacks["catalog"].databases["curated"].ref)
    )
    processed = render(
        app_dev.stacks["grants"].resolve(app_dev.stacks["catalog"].databases["processed"].ref)
    )
    assert curated in glue_resources
    assert processed not in glue_resources


def test_the_external_schema_is_created_after_the_cluster_with_the_spectrum_role(
    warehouse, app_dev: Synth
) -> None:
    stack = app_dev.stacks["warehouse"]
    _, schema = only(warehouse, "Custom::RedshiftExternalSchema")
    cluster_id, _ = only(warehouse, "AWS::Redshift::Cluster")
    p = schema["Properties"]
    # Ref and GetAtt of the cluster: CloudFormation creates the schema after the cluster.
    assert p["ClusterIdentifier"] == {"Ref": cluster_id}
    assert p["SecretArn"] == {"Fn::GetAtt": [cluster_id, "MasterPasswordSecretArn"]}
    assert p["Database"] == render(p["Database"])
    assert p["SchemaName"] == naming.external_schema_name("dev")
    assert render(p["IamRoleArn"]) == render(
        stack.resolve(app_dev.stacks["grants"].spectrum_role.role_arn)
    )
    assert render(p["CatalogDatabase"]) == render(
        stack.resolve(app_dev.stacks["catalog"].databases["curated"].ref)
    )
    assert p["Sql"] == queries.sql_text(queries.EXTERNAL_SCHEMA_FILE)  # no hand-run SQL
    assert p["DropOnDelete"] == "true"
    # The warehouse stack deploys after the grants (so the Spectrum role may read curated).
    assert app_dev.stacks["grants"] in _all_dependencies(stack)


def _all_dependencies(stack: cdk.Stack) -> set[cdk.Stack]:
    seen: set[cdk.Stack] = set()
    todo = list(stack.dependencies)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(current.dependencies)
    return seen


def test_the_custom_resource_handler_is_the_plain_asset_folder(warehouse, app_dev: Synth) -> None:
    functions = resources(warehouse, "AWS::Lambda::Function")
    handlers = [
        f for f in functions.values() if f["Properties"].get("Handler") == "handler.on_event"
    ]
    assert len(handlers) == 1
    assert handlers[0]["Properties"]["Runtime"].startswith("python3.")
    asset_hash = handlers[0]["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    shipped = {p.name for p in (app_dev.outdir / f"asset.{asset_hash}").iterdir()}
    assert "handler.py" in shipped
    assert {p.name for p in CUSTOM_RESOURCE_CODE.glob("*.py")} <= shipped


def test_dev_pauses_out_of_hours(warehouse) -> None:
    actions = resources(warehouse, "AWS::Redshift::ScheduledAction").values()
    kinds = {next(iter(a["Properties"]["TargetAction"])) for a in actions}
    assert kinds == {"PauseCluster", "ResumeCluster"}


def test_prod_is_multi_node_always_on_and_keeps_schema_and_snapshot(variant) -> None:
    synth = variant("prod")
    template = synth.templates["warehouse"]
    _, cluster = only(template, "AWS::Redshift::Cluster")
    assert cluster["Properties"]["ClusterType"] == "multi-node"
    assert cluster["Properties"]["NumberOfNodes"] == synth.config.redshift_number_of_nodes == 2
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert not resources(template, "AWS::Redshift::ScheduledAction")
    _, schema = only(template, "Custom::RedshiftExternalSchema")
    assert schema["Properties"]["DropOnDelete"] == "false"


def test_the_stack_outputs_are_what_the_cli_reads(warehouse) -> None:
    assert set(warehouse["Outputs"]) == set(cli.OUTPUTS)
    schema_id, _ = only(warehouse, "Custom::RedshiftExternalSchema")
    # What the schema was created with (the handler's Data), not values imported again.
    for key in ("ExternalSchema", "SpectrumRoleArn", "CatalogDatabase"):
        assert next(iter(warehouse["Outputs"][key]["Value"]["Fn::GetAtt"])) == schema_id


def test_warehouse_false_skips_the_cluster(monkeypatch) -> None:
    monkeypatch.setitem(config_module.CONFIGS, "dev", replace(config_module.DEV, warehouse=False))
    app = cdk.App(context=cdk_context())
    stacks = cdk_app.build_app(app, "dev")
    assert "warehouse" not in stacks
    assert not [c for c in app.node.find_all() if isinstance(c, cdk.aws_redshift.CfnCluster)]


def test_the_stack_chain_makes_one_deploy_work_from_scratch(app_dev: Synth) -> None:
    s = app_dev.stacks
    chain = ["storage", "governance", "catalog", "grants", "etl", "analytics", "warehouse"]
    assert list(s) == chain
    for earlier, later in itertools.pairwise(chain):
        assert s[earlier] in _all_dependencies(s[later]), f"{later} must wait for {earlier}"


@pytest.mark.parametrize("role", ["governance", "grants", "warehouse"])
def test_templates_are_cfn_lint_clean(variant, role) -> None:
    template = variant("prod").templates[role]
    matches = lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"] == []
    # Warnings this code controls: no output re-exporting an import, no redundant DependsOn.
    ours = [m for m in matches if m.rule.id in ("W6001", "W3005") and "Provider" not in str(m)]
    assert [m.message for m in ours if "ExternalSchemaHandler" not in m.message] == []


def test_redshift_sql_ships_with_the_package() -> None:
    # pyproject's package data covers redshift/sql/*.sql: every file must sit there, flat.
    sql = Path(queries.__file__).parent / "sql"
    assert all(p.parent == sql for p in sql.rglob("*.sql"))
