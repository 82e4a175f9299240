"""Analytics: the Athena workgroup and the four analyses as named queries.

The named queries are rendered from the same SQL files the `athena` helper runs
(`athena.queries.named_query_sql`), so the console and the CLI answer the same question.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_athena as athena
from constructs import Construct

from athena import queries
from stacks.catalog import CatalogStack
from stacks.config import EnvConfig
from stacks.storage import StorageStack

ENGINE_VERSION = "Athena engine version 3"


class AnalyticsStack(Stack):
    """Athena access to the curated zone.

    Attributes:
        config: the environment config.
        workgroup: the CfnWorkGroup `naming.workgroup_name(env)`: engine v3, configuration
            enforced (clients cannot move or unencrypt results), results SSE-KMS in the
            Athena-results bucket, a bytes-scanned cutoff per query, CloudWatch metrics.
        named_queries: analysis name (`athena.queries.ANALYSES`) -> CfnNamedQuery over the
            curated database.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        storage: StorageStack,
        catalog: CatalogStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.add_stack_dependency(catalog)  # the queries name the curated database
        self.config = config
        results = storage.buckets["athena_results"]
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=config.workgroup_name,
            description=f"energy-lake {config.env_name}: analyses over the curated zone",
            state="ENABLED",
            recursive_delete_option=config.destroy_data_on_delete,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff,
                requester_pays_enabled=False,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{results.bucket_name}/results/",
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=storage.key.key_arn
                    ),
                ),
            ),
        )
        self.named_queries: dict[str, athena.CfnNamedQuery] = {}
        for name in queries.ANALYSES:
            query = athena.CfnNamedQuery(
                self,
                f"{''.join(p.capitalize() for p in name.split('-'))}Query",
                name=f"{config.prefix}-{name}",
                description=f"energy-lake analysis '{name}' over the curated zone (full range)",
                database=config.database_name("curated"),
                work_group=self.workgroup.ref,
                query_string=queries.named_query_sql(name, config.database_name("curated")),
            )
            self.named_queries[name] = query
        CfnOutput(self, "WorkGroupName", value=self.workgroup.ref, description="Athena workgroup")
