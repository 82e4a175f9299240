#!/usr/bin/env python3
"""The energy-lake CDK app: `cdk synth -c env=dev|prod` (default dev).

The stacks form one linear chain, each taking the constructs it needs from the ones before:

    1 storage -> 2 governance -> 3 catalog -> 4 grants -> 5 etl -> 6 analytics -> 7 warehouse

Governance (Lake Formation settings, location registration), grants and the warehouse are
plugged in at the marked places. Account and region come from the CDK CLI environment
(`CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`); with none, the templates are
environment-agnostic, so `cdk synth` works offline without credentials.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.analytics import AnalyticsStack
from stacks.catalog import CatalogStack
from stacks.config import load_config
from stacks.etl import EtlStack
from stacks.governance import GovernanceStack
from stacks.grants import GrantsStack
from stacks.storage import StorageStack
from stacks.warehouse import WarehouseStack


def build_app(app: cdk.App, env_name: str) -> dict[str, cdk.Stack]:
    """Add the stacks of one environment to `app`; returns them by role, in chain order."""
    config = load_config(env_name, _context(app))
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    prefix = config.prefix
    stacks: dict[str, cdk.Stack] = {}

    # 1. Storage: buckets + KMS key.
    storage = StorageStack(app, f"{prefix}-storage", config=config, env=env)
    stacks["storage"] = storage

    # 2. Governance: Lake Formation settings (admins appended), data-access role, registration
    #    of the processed and curated locations.
    governance = GovernanceStack(
        app,
        f"{prefix}-governance",
        config=config,
        key=storage.key,
        buckets=storage.buckets,
        env=env,
    )
    governance.add_stack_dependency(storage)
    stacks["governance"] = governance

    # 3. Catalog: Glue databases and contract-typed tables, the job and crawler roles.
    catalog = CatalogStack(app, f"{prefix}-catalog", config=config, storage=storage, env=env)
    catalog.add_stack_dependency(storage)
    catalog.add_stack_dependency(governance)  # databases after settings and registration
    stacks["catalog"] = catalog

    # 4. Grants: Lake Formation permissions of the job, crawler, persona and Spectrum roles.
    grants = GrantsStack(
        app,
        f"{prefix}-grants",
        config=config,
        key=storage.key,
        athena_results_bucket=storage.buckets["athena_results"],
        databases=catalog.databases,
        tables=catalog.tables,
        job_role=catalog.job_role,
        crawler_roles=catalog.crawler_roles,
        location_arns=governance.location_arns,
        env=env,
    )
    grants.add_stack_dependency(catalog)
    stacks["grants"] = grants

    # 5. ETL: Glue jobs, crawlers, workflow, schedule, landing events, failure notifications.
    etl = EtlStack(app, f"{prefix}-etl", config=config, storage=storage, catalog=catalog, env=env)
    etl.add_stack_dependency(catalog)
    etl.add_stack_dependency(grants)  # crawlers and jobs only run once they are allowed
    stacks["etl"] = etl

    # 6. Analytics: the Athena workgroup and the named analyses.
    analytics = AnalyticsStack(
        app, f"{prefix}-analytics", config=config, storage=storage, catalog=catalog, env=env
    )
    analytics.add_stack_dependency(etl)
    stacks["analytics"] = analytics

    # 7. Warehouse: Redshift + Spectrum over the curated database; optional, it costs money.
    if config.warehouse:
        warehouse = WarehouseStack(
            app,
            f"{prefix}-warehouse",  # redshift/cli.py finds its outputs under this name
            config=config,
            spectrum_role=grants.spectrum_role,
            curated_database=catalog.databases["curated"],
            env=env,
        )
        warehouse.add_stack_dependency(analytics)
        stacks["warehouse"] = warehouse

    for stack in stacks.values():
        cdk.Tags.of(stack).add("project", config.project)
        cdk.Tags.of(stack).add("environment", config.env_name)
    return stacks


def _context(app: cdk.App) -> dict[str, object]:
    keys = ("lakeAdminArns", "analystPrincipalArns", "engineerPrincipalArns", "notificationEmails")
    return {k: app.node.try_get_context(k) for k in keys}


def main() -> None:
    app = cdk.App()
    build_app(app, app.node.try_get_context("env") or "dev")
    # cdk-nag runs as a policy-validation plugin: `cdk synth` fails on any unacknowledged finding.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
