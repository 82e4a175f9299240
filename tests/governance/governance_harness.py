"""A small CDK app around the governance, grants and warehouse stacks, for tests.

It stands in for the storage and catalog stacks with the few resources the stacks under test
read (key, buckets, Glue databases and tables, job and crawler roles), named and shaped like
theirs, so these tests do not depend on how the other stacks are built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from energy_lake import contract, naming
from stacks.config import CONFIGS, EnvConfig
from stacks.governance import GovernanceStack
from stacks.grants import GrantsStack
from stacks.nag import acknowledge
from stacks.warehouse import WarehouseStack

ZONE_BUCKETS = ("raw", "processed", "curated", "rejected", "athena_results")
TYPED_ZONES = ("processed", "curated")


class LakeFixtureStack(cdk.Stack):
    """Key, buckets, databases, tables and roles of a lake (storage + catalog stand-in)."""

    def __init__(self, scope, construct_id: str, *, config: EnvConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(self, "Key", enable_key_rotation=True)
        self.buckets = {
            name: s3.Bucket(
                self,
                f"{name}Bucket",
                encryption=s3.BucketEncryption.KMS,
                encryption_key=self.key,
                enforce_ssl=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            )
            for name in ZONE_BUCKETS
        }
        self.databases = {
            zone: glue.CfnDatabase(
                self,
                f"{zone}Database",
                catalog_id=self.account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=config.database_name(zone)
                ),
            )
            for zone in naming.ZONES
        }
        self.tables = {}
        for zone in TYPED_ZONES:  # raw tables are discovered by the raw crawler
            database = self.databases[zone]
            for name in contract.DATASETS:
                table = glue.CfnTable(
                    self,
                    f"{zone}{name}Table",
                    catalog_id=self.account,
                    database_name=database.ref,
                    table_input=glue.CfnTable.TableInputProperty(name=name),
                )
                self.tables[(zone, name)] = table
        glue_principal = iam.ServicePrincipal("glue.amazonaws.com")
        self.job_role = iam.Role(self, "JobRole", assumed_by=glue_principal)
        self.crawler_roles = {
            zone: iam.Role(self, f"{zone}CrawlerRole", assumed_by=glue_principal)
            for zone in naming.ZONES
        }
        for rule in ("AwsSolutions-S1", "AwsSolutions-S10"):
            acknowledge(self, rule, "test fixture standing in for the storage stack")


@dataclass
class Synthesized:
    app: cdk.App
    config: EnvConfig
    lake: LakeFixtureStack
    governance: GovernanceStack
    grants: GrantsStack
    warehouse: WarehouseStack | None
    templates: dict[str, dict]  # "governance", "grants", "warehouse" -> template JSON


def build(env_name: str = "dev", **overrides) -> Synthesized:
    """The stacks under test in one app, with cdk-nag's AwsSolutions checks applied.

    Account and region are concrete here (the app's own tests cover environment-agnostic
    templates), so tokens resolve the way a deploy with credentials would.
    """
    config = replace(CONFIGS[env_name], **overrides)
    app = cdk.App()
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    lake = LakeFixtureStack(app, "Lake", config=config, env=env)
    governance = GovernanceStack(
        app, "Governance", config=config, key=lake.key, buckets=lake.buckets, env=env
    )
    grants = GrantsStack(
        app,
        "Grants",
        config=config,
        key=lake.key,
        athena_results_bucket=lake.buckets["athena_results"],
        databases=lake.databases,
        tables=lake.tables,
        job_role=lake.job_role,
        crawler_roles=lake.crawler_roles,
        location_arns=governance.location_arns,
        env=env,
    )
    grants.add_stack_dependency(governance)
    warehouse = None
    if config.warehouse:
        warehouse = WarehouseStack(
            app,
            "Warehouse",
            config=config,
            spectrum_role=grants.spectrum_role,
            curated_database=lake.databases["curated"],
            env=env,
        )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    templates = {
        name: assembly.get_stack_artifact(stack.artifact_id).template
        for name, stack in (
            ("governance", governance),
            ("grants", grants),
            ("warehouse", warehouse),
        )
        if stack is not None
    }
    return Synthesized(app, config, lake, governance, grants, warehouse, templates)
