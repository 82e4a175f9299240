"""Lake Formation grants: who may see which database, table and column of the lake.

Every principal gets the least it needs, derived from the contract and the zone layout:

| principal | grants |
|---|---|
| Glue job role | DESCRIBE on every zone database; SELECT on raw tables; SELECT, INSERT, ALTER on
  processed and curated tables; DATA_LOCATION_ACCESS on the governed locations |
| crawler role of a zone | CREATE_TABLE, ALTER on its database; SELECT, INSERT, ALTER on its tables;
  DATA_LOCATION_ACCESS on its location when governed |
| analysts | DESCRIBE on the curated database; SELECT on the curated columns minus PII |
| data engineers | DESCRIBE on processed and curated; SELECT on all their tables |
| Redshift Spectrum | DESCRIBE on the curated database; SELECT on the curated tables |

Lake Formation rejects concurrent grants on one resource (ConcurrentModificationException), so
the grants of this stack form one chain: each waits for the previous one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3
from constructs import Construct

from energy_lake import contract, naming
from stacks.config import EnvConfig
from stacks.nag import acknowledge
from stacks.nag_refs import resource_finding

DESCRIBE = "DESCRIBE"
SELECT = "SELECT"
READ_TABLE = (SELECT, DESCRIBE)
WRITE_TABLE = (SELECT, DESCRIBE, "INSERT", "ALTER")
CRAWL_DATABASE = ("CREATE_TABLE", "ALTER", DESCRIBE)
DATA_LOCATION_ACCESS = "DATA_LOCATION_ACCESS"

# What the Glue jobs do per zone: raw_to_processed reads raw and writes processed,
# processed_to_curated reads processed and writes curated (they share one role).
JOB_TABLE_ACCESS: Mapping[str, tuple[str, ...]] = {
    "raw": READ_TABLE,
    "processed": WRITE_TABLE,
    "curated": WRITE_TABLE,
}
ENGINEER_ZONES = ("processed", "curated")
ANALYST_ZONE = "curated"


def curated_table_columns(dataset: contract.Dataset) -> tuple[str, ...]:
    """Every column of the curated Glue table of a dataset: data columns, then partitions."""
    return tuple(n for n, _ in dataset.curated_columns) + tuple(
        n for n, _ in dataset.partition_types
    )


def analyst_columns(dataset: contract.Dataset) -> tuple[str, ...]:
    """The curated columns an analyst may select: all but the contract's PII columns."""
    pii = set(dataset.pii_columns)
    return tuple(c for c in curated_table_columns(dataset) if c not in pii)


@dataclass(frozen=True)
class Principal:
    """A grantee: a construct-id-safe name and an IAM ARN."""

    name: str
    arn: str

    @classmethod
    def external(cls, persona: str, arn: str) -> Principal:
        """A configured principal, named after its ARN (not its position in the config list).

        A grant whose logical id changes is replaced: CloudFormation creates the new one (a
        no-op, the permission exists) and then deletes the old one, revoking the permission.
        Ids derived from the ARN stay put when the list is reordered or extended.
        """
        digest = hashlib.sha256(arn.encode()).hexdigest()[:8].upper()
        return cls(f"{persona}{digest}", arn)


class GrantsStack(Stack):
    """Lake Formation permissions of one environment, plus the persona and Spectrum roles.

    Attributes:
        spectrum_role: role the Redshift cluster assumes for Spectrum (curated only).
        analyst_role / engineer_role: created when the config names no external principals,
            else None.
        grants: every `AWS::LakeFormation::PrincipalPermissions`, in chain order.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        key: kms.IKey,
        athena_results_bucket: s3.IBucket,
        databases: Mapping[str, glue.CfnDatabase],
        tables: Mapping[tuple[str, str], glue.CfnTable],
        job_role: iam.IRole,
        crawler_roles: Mapping[str, iam.IRole],
        location_arns: Mapping[str, str],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self._databases = databases
        self._tables = tables
        self._location_arns = location_arns
        self.grants: list[lf.CfnPrincipalPermissions] = []

        self.spectrum_role = self._spectrum_role()
        self.analyst_role: iam.Role | None = None
        self.engineer_role: iam.Role | None = None
        analysts = [Principal.external("Analyst", a) for a in config.analyst_principal_arns]
        if not analysts:
            self.analyst_role = self._persona_role(
                "Analyst", "analyst", (ANALYST_ZONE,), key, athena_results_bucket
            )
            analysts = [Principal("Analyst", self.analyst_role.role_arn)]
        engineers = [Principal.external("Engineer", a) for a in config.engineer_principal_arns]
        if not engineers:
            self.engineer_role = self._persona_role(
                "Engineer", "data-engineer", ENGINEER_ZONES, key, athena_results_bucket
            )
            engineers = [Principal("Engineer", self.engineer_role.role_arn)]

        self._grant_job(Principal("GlueJob", job_role.role_arn))
        for zone, role in crawler_roles.items():
            self._grant_crawler(Principal(f"{zone.capitalize()}Crawler", role.role_arn), zone)
        for analyst in analysts:
            self._grant_analyst(analyst)
        for engineer in engineers:
            self._grant_engineer(engineer)
        self._grant_spectrum(Principal("Spectrum", self.spectrum_role.role_arn))

        CfnOutput(self, "SpectrumRoleArn", value=self.spectrum_role.role_arn)
        for role, label in ((self.analyst_role, "Analyst"), (self.engineer_role, "Engineer")):
            if role is not None:
                CfnOutput(self, f"{label}RoleArn", value=role.role_arn)

    # -- grants ------------------------------------------------------------------------------

    def _grant_job(self, job: Principal) -> None:
        for zone, permissions in JOB_TABLE_ACCESS.items():
            self._grant_database(job, zone, (DESCRIBE,))
            for dataset in self._datasets(zone):
                self._grant_table(job, zone, dataset, permissions)
        for zone in self._location_arns:
            self._grant_location(job, zone)

    def _grant_crawler(self, crawler: Principal, zone: str) -> None:
        self._grant_database(crawler, zone, CRAWL_DATABASE)
        self._grant_all_tables(crawler, zone, WRITE_TABLE)
        if zone in self._location_arns:
            self._grant_location(crawler, zone)

    def _grant_analyst(self, analyst: Principal) -> None:
        self._grant_database(analyst, ANALYST_ZONE, (DESCRIBE,))
        for dataset in self._datasets(ANALYST_ZONE):
            self._grant_columns(analyst, ANALYST_ZONE, dataset, analyst_columns(dataset))

    def _grant_engineer(self, engineer: Principal) -> None:
        for zone in ENGINEER_ZONES:
            self._grant_database(engineer, zone, (DESCRIBE,))
            self._grant_all_tables(engineer, zone, READ_TABLE)

    def _grant_spectrum(self, spectrum: Principal) -> None:
        self._grant_database(spectrum, ANALYST_ZONE, (DESCRIBE,))
        for dataset in self._datasets(ANALYST_ZONE):
            self._grant_table(spectrum, ANALYST_ZONE, dataset, READ_TABLE)

    def _datasets(self, zone: str) -> list[contract.Dataset]:
        return [contract.dataset(name) for z, name in self._tables if z == zone]

    def _database_name(self, zone: str) -> str:
        try:
            return self._databases[zone].ref
        except KeyError:
            raise ValueError(f"no Glue database for zone {zone!r}") from None

    def _grant_database(self, who: Principal, zone: str, permissions: Sequence[str]) -> None:
        self._grant(
            f"{who.name}{zone.capitalize()}Database",
            who,
            lf.CfnPrincipalPermissions.ResourceProperty(
                database=lf.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID, name=self._database_name(zone)
                )
            ),
            permissions,
        )

    def _grant_table(
        self, who: Principal, zone: str, dataset: contract.Dataset, permissions: Sequence[str]
    ) -> None:
        self._grant(
            f"{who.name}{zone.capitalize()}{dataset.name.capitalize()}",
            who,
            lf.CfnPrincipalPermissions.ResourceProperty(
                table=lf.CfnPrincipalPermissions.TableResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID,
                    database_name=self._database_name(zone),
                    name=self._tables[(zone, dataset.name)].ref,
                )
            ),
            permissions,
        )

    def _grant_all_tables(self, who: Principal, zone: str, permissions: Sequence[str]) -> None:
        self._grant(
            f"{who.name}{zone.capitalize()}AllTables",
            who,
            lf.CfnPrincipalPermissions.ResourceProperty(
                table=lf.CfnPrincipalPermissions.TableResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID,
                    database_name=self._database_name(zone),
                    table_wildcard={},
                )
            ),
            permissions,
        )

    def _grant_columns(
        self, who: Principal, zone: str, dataset: contract.Dataset, columns: Sequence[str]
    ) -> None:
        self._grant(
            f"{who.name}{zone.capitalize()}{dataset.name.capitalize()}Columns",
            who,
            lf.CfnPrincipalPermissions.ResourceProperty(
                table_with_columns=lf.CfnPrincipalPermissions.TableWithColumnsResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID,
                    database_name=self._database_name(zone),
                    name=self._tables[(zone, dataset.name)].ref,
                    column_names=list(columns),
                )
            ),
            (SELECT,),
        )

    def _grant_location(self, who: Principal, zone: str) -> None:
        self._grant(
            f"{who.name}{zone.capitalize()}Location",
            who,
            lf.CfnPrincipalPermissions.ResourceProperty(
                data_location=lf.CfnPrincipalPermissions.DataLocationResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID, resource_arn=self._location_arns[zone]
                )
            ),
            (DATA_LOCATION_ACCESS,),
        )

    def _grant(
        self,
        construct_id: str,
        who: Principal,
        resource: lf.CfnPrincipalPermissions.ResourceProperty,
        permissions: Sequence[str],
    ) -> None:
        grant = lf.CfnPrincipalPermissions(
            self,
            construct_id,
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(
                data_lake_principal_identifier=who.arn
            ),
            resource=resource,
            permissions=list(permissions),
            permissions_with_grant_option=[],
        )
        if self.grants:
            grant.node.add_dependency(self.grants[-1])
        self.grants.append(grant)

    # -- roles -------------------------------------------------------------------------------

    def _tables_arn(self, zone: str) -> str:
        """ARN of every table of one zone database (what catalog reads of its tables act on)."""
        glue_arn = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        return f"{glue_arn}:table/{self._database_name(zone)}/*"

    def _table_findings(self, zones: Iterable[str]) -> list[str]:
        return [resource_finding(self, self._tables_arn(zone)) for zone in zones]

    def _glue_read_statement(self, zones: Iterable[str]) -> iam.PolicyStatement:
        glue_arn = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        resources = [f"{glue_arn}:catalog"]
        for zone in zones:
            database = self._database_name(zone)
            resources += [f"{glue_arn}:database/{database}", self._tables_arn(zone)]
        return iam.PolicyStatement(
            sid="ReadGovernedCatalog",
            actions=[
                "glue:GetDatabase",
                "glue:GetDatabases",
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
            ],
            resources=resources,
        )

    @staticmethod
    def _lake_formation_data_access() -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid="LakeFormationCredentialVending",
            actions=["lakeformation:GetDataAccess"],
            resources=["*"],
        )

    def _spectrum_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "SpectrumRole",
            role_name=f"{self.config.prefix}-redshift-spectrum",
            description="Redshift Spectrum: catalog read and Lake Formation access, curated only",
            assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"),
        )
        role.add_to_policy(self._glue_read_statement((ANALYST_ZONE,)))
        role.add_to_policy(self._lake_formation_data_access())
        self._suppress_role_wildcards(role, self._table_findings((ANALYST_ZONE,)))
        return role

    def _persona_role(
        self,
        construct_id: str,
        persona: str,
        zones: Sequence[str],
        key: kms.IKey,
        results: s3.IBucket,
    ) -> iam.Role:
        """A role people of the account assume to query the lake through Athena."""
        role = iam.Role(
            self,
            f"{construct_id}Role",
            role_name=f"{self.config.prefix}-{persona}",
            description=f"{persona} of {self.config.prefix}: Athena over Lake Formation grants",
            assumed_by=iam.AccountRootPrincipal(),
        )
        role.add_to_policy(self._glue_read_statement(zones))
        role.add_to_policy(self._lake_formation_data_access())
        workgroup = naming.workgroup_name(self.config.env_name, self.config.project)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryInLakeWorkgroup",
                actions=[
                    "athena:GetWorkGroup",
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:StopQueryExecution",
                ],
                resources=[
                    f"arn:{Aws.PARTITION}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{workgroup}"
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AthenaResultsBucket",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[results.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AthenaResultsObjects",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[results.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AthenaResultsKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        self._suppress_role_wildcards(
            role,
            [
                *self._table_findings(zones),
                resource_finding(self, results.arn_for_objects("*")),
            ],
        )
        return role

    @staticmethod
    def _suppress_role_wildcards(role: iam.Role, findings: Sequence[str]) -> None:
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "lakeformation:GetDataAccess has no resource-level permissions (Resource *); data "
            "access is decided by the Lake Formation grants of this stack. Catalog reads cover "
            "the tables of the named databases only (Lake Formation narrows them to tables and "
            "columns); Athena writes result objects under keys it chooses, in the results bucket "
            "of this environment only.",
            findings=["Resource::*", *findings],
        )
