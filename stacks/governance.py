"""Governance: Lake Formation settings and the registration of the governed lake locations.

Order inside the stack (explicit, so one deploy works from scratch):
data lake settings -> data-access role -> location registrations. The catalog stack (databases,
tables) deploys after this one and the grants stack after the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import EnvConfig
from stacks.nag import acknowledge
from stacks.nag_refs import resource_finding

# Zones whose S3 locations Lake Formation governs (credential vending to Athena, Spectrum and
# crawlers). Raw and rejected stay IAM-only: only the pipeline touches them.
GOVERNED_ZONES = ("processed", "curated")


def deployment_role_arn(stack: Stack) -> str | None:
    """ARN of the CloudFormation execution role of the CDK bootstrap, or None.

    The role that creates Lake Formation resources must itself be a data lake admin. With the
    default synthesizer its ARN follows the bootstrap qualifier; the `${AWS::...}` placeholders
    are resolved by `Fn::Sub`, so no account or region is written into the template.
    """
    synthesizer = stack.synthesizer
    if not isinstance(synthesizer, DefaultStackSynthesizer):
        return None
    return Fn.sub(synthesizer.cloud_formation_execution_role_arn)


class GovernanceStack(Stack):
    """Lake Formation data lake settings and registered locations of one environment.

    Attributes:
        settings: the data lake settings (admins appended, never replaced).
        data_access_role: the role Lake Formation assumes to read/write the governed locations.
        registrations: zone -> registered location (`AWS::LakeFormation::Resource`).
        location_arns: zone -> S3 ARN registered for that zone.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        key: kms.IKey,
        buckets: Mapping[str, s3.IBucket],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        missing = [z for z in GOVERNED_ZONES if z not in buckets]
        if missing:
            raise ValueError(f"governance needs the buckets of zones {', '.join(missing)}")
        self.location_arns = {zone: buckets[zone].bucket_arn for zone in GOVERNED_ZONES}
        self.settings = self._settings(config.lake_admin_arns)
        self.data_access_role = self._data_access_role(key, [buckets[z] for z in GOVERNED_ZONES])
        self.registrations: dict[str, lf.CfnResource] = {}
        for zone in GOVERNED_ZONES:
            registration = lf.CfnResource(
                self,
                f"{zone.capitalize()}Location",
                resource_arn=self.location_arns[zone],
                use_service_linked_role=False,
                role_arn=self.data_access_role.role_arn,
                hybrid_access_enabled=False,
            )
            # settings -> registration; the role's policy must be in place before Lake Formation
            # uses the role (its ARN already orders the role itself).
            registration.node.add_dependency(self.settings)
            registration.node.add_dependency(self.data_access_role.node.find_child("DefaultPolicy"))
            self.registrations[zone] = registration
        CfnOutput(
            self,
            "DataAccessRoleArn",
            value=self.data_access_role.role_arn,
            description="Role Lake Formation uses to access the governed locations",
        )

    def _settings(self, extra_admins: Sequence[str]) -> lf.CfnDataLakeSettings:
        admins = [arn for arn in (deployment_role_arn(self), *extra_admins) if arn]
        if not admins:
            raise ValueError(
                "no data lake admin: use the default synthesizer or set lake_admin_arns"
            )
        return lf.CfnDataLakeSettings(
            self,
            "DataLakeSettings",
            # APPEND adds our admins to the account's; REPLACE would remove existing admins.
            mutation_type="APPEND",
            admins=[
                lf.CfnDataLakeSettings.DataLakePrincipalProperty(data_lake_principal_identifier=arn)
                for arn in admins
            ],
            # New databases and tables get no IAMAllowedPrincipals grant: access to what this
            # app creates is decided by Lake Formation grants alone. (How APPEND merges these
            # lists into the account's is not documented; the governed databases also declare
            # `CreateTableDefaultPermissions: []` themselves, in the catalog stack.)
            create_database_default_permissions=[],
            create_table_default_permissions=[],
        )

    def _data_access_role(self, key: kms.IKey, buckets: Sequence[s3.IBucket]) -> iam.Role:
        role = iam.Role(
            self,
            "DataAccessRole",
            role_name=f"{self.config.prefix}-lf-data-access",
            description="Lake Formation data access to the processed and curated locations",
            assumed_by=iam.ServicePrincipal("lakeformation.amazonaws.com"),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListGovernedBuckets",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[b.bucket_arn for b in buckets],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadWriteGovernedObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[b.arn_for_objects("*") for b in buckets],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseLakeKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "Lake Formation vends credentials for any object of the registered locations; the "
            "wildcard is the object keys of the two governed buckets only.",
            findings=[resource_finding(self, b.arn_for_objects("*")) for b in buckets],
        )
        return role
