"""Catalog: one Glue database per zone, contract-typed tables, and the roles that use them.

Processed and curated tables are declared from the dataset contract, never guessed by a
crawler; crawlers only add partitions to them. Raw tables are discovered by the raw crawler
(the landed CSV is what it is). The Glue job role and the crawler roles live here, before the
Lake Formation grants that name them.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from cdk_nag import NagSuppressions
from constructs import Construct

from energy_lake import contract, naming
from stacks.config import EnvConfig
from stacks.storage import StorageStack

TYPED_ZONES = ("processed", "curated")  # tables declared from the contract
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

# What a crawler does to the catalog: read it, add tables (raw) and partitions (all zones).
# No Delete*: crawlers log deletions instead of applying them.
CRAWLER_CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
)


def table_columns(zone: str, dataset: contract.Dataset) -> tuple[tuple[str, str], ...]:
    """(name, type) of the data columns of a contract-typed table."""
    if zone == "processed":
        return dataset.processed_columns
    if zone == "curated":
        return dataset.curated_columns
    raise ValueError(f"zone {zone!r} has no contract-typed tables")


def table_partition_keys(zone: str, dataset: contract.Dataset) -> tuple[tuple[str, str], ...]:
    """(name, type) of the partition columns: processed adds the load column after the event ones."""
    if zone == "processed":
        load_type = dict(contract.LINEAGE_COLUMNS)[contract.LOAD_COLUMN]
        return (*dataset.partition_types, (contract.LOAD_COLUMN, load_type))
    if zone == "curated":
        return dataset.partition_types
    raise ValueError(f"zone {zone!r} has no contract-typed tables")


class CatalogStack(Stack):
    """Glue databases, tables and the principals of the ETL.

    Attributes:
        config: the environment config.
        databases: zone ("raw", "processed", "curated") -> CfnDatabase; the database name is
            `naming.database_name(zone, env)` and `CreateTableDefaultPermissions` is empty, so
            Lake Formation grants (not IAMAllowedPrincipals) decide who sees new tables.
        tables: (zone, dataset) -> CfnTable for the processed and curated zones, typed from the
            contract (`Dataset.processed_columns` / `curated_columns` / `partition_types`).
        job_role: role of both Glue jobs. Reads raw, reads and writes processed, curated,
            rejected and the Glue-assets bucket; no write on raw, nothing on Athena results.
        crawler_roles: zone -> role of that zone's crawler, reading only that zone's bucket and
            writing only that zone's database.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        storage: StorageStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.storage = storage
        self.databases: dict[str, glue.CfnDatabase] = {
            zone: self._database(zone) for zone in naming.ZONES
        }
        self.tables: dict[tuple[str, str], glue.CfnTable] = {
            (zone, ds.name): self._table(zone, ds)
            for zone in TYPED_ZONES
            for ds in contract.DATASETS.values()
        }
        self.job_role = self._job_role()
        self.crawler_roles: dict[str, iam.Role] = {
            zone: self._crawler_role(zone) for zone in naming.ZONES
        }

    # -- catalog ---------------------------------------------------------------------------

    def _database(self, zone: str) -> glue.CfnDatabase:
        bucket = self.storage.buckets[zone]
        return glue.CfnDatabase(
            self,
            f"{zone.capitalize()}Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.config.database_name(zone),
                description=f"energy-lake {self.config.env_name}: the {zone} zone",
                location_uri=f"s3://{bucket.bucket_name}/",
                # Nothing for IAMAllowedPrincipals: Lake Formation grants decide access.
                create_table_default_permissions=[],
            ),
        )

    def _table(self, zone: str, dataset: contract.Dataset) -> glue.CfnTable:
        database = self.databases[zone]
        bucket = self.storage.buckets[zone]
        table = glue.CfnTable(
            self,
            f"{zone.capitalize()}{dataset.name.capitalize()}Table",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database.ref,
            table_input=glue.CfnTable.TableInputProperty(
                name=dataset.name,
                description=dataset.description,
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "parquet",
                    "EXTERNAL": "TRUE",
                    "parquet.compression": "SNAPPY",
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=name, type=type_)
                    for name, type_ in table_partition_keys(zone, dataset)
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=type_)
                        for name, type_ in table_columns(zone, dataset)
                    ],
                    location=f"s3://{bucket.bucket_name}/{dataset.name}/",
                    input_format=PARQUET_INPUT,
                    output_format=PARQUET_OUTPUT,
                    compressed=False,
                    stored_as_sub_directories=False,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=PARQUET_SERDE,
                        parameters={"serialization.format": "1"},
                    ),
                ),
            ),
        )
        table.add_dependency(database)
        return table

    def database_arns(self, zone: str) -> list[str]:
        """Catalog, database and table ARNs of one zone (what catalog IAM actions act on)."""
        name = self.config.database_name(zone)
        prefix = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        return [
            f"{prefix}:catalog",
            f"{prefix}:database/{name}",
            f"{prefix}:table/{name}/*",
        ]

    # -- principals ------------------------------------------------------------------------

    def _glue_role(self, construct_id: str, description: str) -> iam.Role:
        role = iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=description,
        )
        # Locations are registered with Lake Formation: reads and writes go through vended
        # credentials. GetDataAccess has no resource-level permissions.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="LakeFormationDataAccess",
                actions=["lakeformation:GetDataAccess"],
                resources=["*"],
            )
        )
        # Glue names the log groups after the security configuration and role at run time.
        log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups, f"{log_groups}:log-stream:*"],
            )
        )
        return role

    def _job_role(self) -> iam.Role:
        s = self.storage
        role = self._glue_role(
            "GlueJobRole",
            f"{self.config.prefix}: the raw_to_processed and processed_to_curated jobs",
        )
        s.buckets["raw"].grant_read(role)
        for name in ("processed", "curated", "rejected", "glue_assets"):
            s.buckets[name].grant_read_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resources; scoped by namespace
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Object-level access to the lake buckets the jobs read and write "
                    "(bucket ARN + '/*') with the S3/KMS action groups CDK grants emit "
                    "(GetObject*, List*, Abort*, DeleteObject*, GenerateDataKey*, ReEncrypt*); "
                    "Glue log groups are named at run time under /aws-glue/; "
                    "lakeformation:GetDataAccess and cloudwatch:PutMetricData (namespace "
                    "'Glue' only) have no resource-level permissions.",
                    "appliesTo": [
                        *_GRANT_ACTION_WILDCARDS,
                        *_bucket_object_findings(s, ("raw", "processed", "curated", "rejected")),
                        *_bucket_object_findings(s, ("glue_assets",)),
                        *_GLUE_LOG_FINDINGS,
                        "Resource::*",
                    ],
                }
            ],
            apply_to_children=True,
        )
        return role

    def _crawler_role(self, zone: str) -> iam.Role:
        role = self._glue_role(
            f"{zone.capitalize()}CrawlerRole",
            f"{self.config.prefix}: the {zone} crawler (reads the {zone} bucket only)",
        )
        self.storage.buckets[zone].grant_read(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="CatalogOfItsZone",
                actions=list(CRAWLER_CATALOG_ACTIONS),
                resources=self.database_arns(zone),
            )
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": f"Read access to the objects of the {zone} bucket only (CDK grant "
                    "action groups GetObject*, GetBucket*, List*); partitions are added to "
                    f"every table of the {zone} database only; Glue log groups are named at "
                    "run time under /aws-glue/; lakeformation:GetDataAccess has no "
                    "resource-level permissions.",
                    "appliesTo": [
                        *_GRANT_ACTION_WILDCARDS,
                        *_bucket_object_findings(self.storage, (zone,)),
                        {"regex": "/^Resource::arn:<AWS::Partition>:glue:.*:table/.*/\\*$/g"},
                        *_GLUE_LOG_FINDINGS,
                        "Resource::*",
                    ],
                }
            ],
            apply_to_children=True,
        )
        return role


_GRANT_ACTION_WILDCARDS = (
    "Action::s3:GetObject*",
    "Action::s3:GetBucket*",
    "Action::s3:List*",
    "Action::s3:Abort*",
    "Action::s3:DeleteObject*",
    "Action::kms:GenerateDataKey*",
    "Action::kms:ReEncrypt*",
)
_GLUE_LOG_FINDINGS = (
    {"regex": "/^Resource::arn:<AWS::Partition>:logs:.*:log-group:/aws-glue/\\*.*$/g"},
)


def _bucket_object_findings(storage: StorageStack, names: tuple[str, ...]) -> list[dict[str, str]]:
    """cdk-nag findings for `<bucket ARN>/*` of exactly these buckets (imported cross-stack)."""
    del storage  # the finding names the export of the bucket's logical id
    return [{"regex": f"/^Resource::<.*{_logical_hint(name)}.*>/\\*$/g"} for name in names]


def _logical_hint(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Bucket"
