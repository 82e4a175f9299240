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
from constructs import Construct

from energy_lake import contract, naming
from stacks import nag
from stacks.config import EnvConfig
from stacks.storage import StorageStack

TYPED_ZONES = ("processed", "curated")  # tables declared from the contract
GLUE_LOG_GROUPS = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"
# S3 actions, spelled out (no wildcards): reading a zone, and rewriting one (Spark overwrites
# partitions: list, put, multipart, delete).
S3_READ_BUCKET = ("s3:ListBucket", "s3:GetBucketLocation")
S3_READ_OBJECTS = ("s3:GetObject",)
S3_WRITE_BUCKET = (*S3_READ_BUCKET, "s3:ListBucketMultipartUploads")
S3_WRITE_OBJECTS = (
    *S3_READ_OBJECTS,
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
KMS_DECRYPT = ("kms:Decrypt", "kms:DescribeKey")
KMS_ENCRYPT_DECRYPT = (*KMS_DECRYPT, "kms:Encrypt", "kms:GenerateDataKey")
JOB_READS = ("raw",)
JOB_WRITES = ("processed", "curated", "rejected", "glue_assets")
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
    """(name, type) of partition columns: processed facts by event day, dimensions by load."""
    if zone == "processed":
        return dataset.processed_partition_types
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
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[GLUE_LOG_GROUPS, f"{GLUE_LOG_GROUPS}:log-stream:*"],
            )
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5",
            "Glue names its log groups under /aws-glue/ at run time after the security "
            "configuration and the role. Resource '*' only for actions without resource-level "
            "permissions: lakeformation:GetDataAccess (Lake Formation decides what the vended "
            "credentials reach) and, for the job role, cloudwatch:PutMetricData (limited to the "
            "'Glue' namespace by condition).",
            [
                nag.resource(GLUE_LOG_GROUPS),
                nag.resource(f"{GLUE_LOG_GROUPS}:log-stream:*"),
                "Resource::*",
            ],
        )
        return role

    def _allow_s3(self, role: iam.Role, sid: str, names: tuple[str, ...], *, write: bool) -> None:
        """Bucket- and object-level access to exactly these buckets, and their key."""
        storage = self.storage
        role.add_to_policy(
            iam.PolicyStatement(
                sid=f"{sid}Buckets",
                actions=list(S3_WRITE_BUCKET if write else S3_READ_BUCKET),
                resources=[storage.bucket_arn(n) for n in names],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid=f"{sid}Objects",
                actions=list(S3_WRITE_OBJECTS if write else S3_READ_OBJECTS),
                resources=[storage.bucket_arn(n, objects=True) for n in names],
            )
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5",
            f"Object-level access inside the {', '.join(names)} bucket(s) only: the jobs and "
            "crawlers address objects by key under dataset/partition prefixes decided at run "
            "time.",
            [nag.resource(storage.bucket_arn(n, objects=True)) for n in names],
        )

    def _job_role(self) -> iam.Role:
        role = self._glue_role(
            "GlueJobRole",
            f"{self.config.prefix}: the raw_to_processed and processed_to_curated jobs",
        )
        self._allow_s3(role, "ReadRaw", JOB_READS, write=False)
        self._allow_s3(role, "WriteZones", JOB_WRITES, write=True)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="LakeKey",
                actions=list(KMS_ENCRYPT_DECRYPT),
                resources=[self.storage.key.key_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="GlueJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resources; scoped by namespace
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )
        return role

    def _crawler_role(self, zone: str) -> iam.Role:
        role = self._glue_role(
            f"{zone.capitalize()}CrawlerRole",
            f"{self.config.prefix}: the {zone} crawler (reads the {zone} bucket only)",
        )
        self._allow_s3(role, f"Read{zone.capitalize()}", (zone,), write=False)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="LakeKeyDecrypt",
                actions=list(KMS_DECRYPT),
                resources=[self.storage.key.key_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="CatalogOfItsZone",
                actions=list(CRAWLER_CATALOG_ACTIONS),
                resources=self.database_arns(zone),
            )
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5",
            f"The crawler adds partitions (and, for raw, tables) to the tables of the {zone} "
            "database only; table names are the datasets, discovered or declared.",
            [nag.resource(self.database_arns(zone)[-1])],
        )
        return role
