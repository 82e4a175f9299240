"""Warehouse: a private, encrypted Redshift cluster that queries the curated zone via Spectrum.

The Spectrum external schema is created by the deploy itself: a custom resource runs
`redshift/sql/external_schema.sql` through the Redshift Data API once the cluster is up.

Why one synchronous handler (no isComplete waiter): CREATE EXTERNAL SCHEMA is a catalog-only
statement that finishes in seconds. The handler submits it, polls DescribeStatement until it
finishes and fails the deploy with Redshift's own error message; it cancels the statement and
fails if the statement outlives the Lambda's time. A Step Functions waiter would add a state
machine, its logs and roles for a wait that never exceeds a minute.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import (
    Aws,
    CfnOutput,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshift as redshift
from aws_cdk import custom_resources as cr
from constructs import Construct

from energy_lake import naming
from stacks.config import EnvConfig
from stacks.nag import acknowledge
from stacks.nag_refs import resource_finding

REPO = Path(__file__).resolve().parents[1]
CUSTOM_RESOURCE_CODE = REPO / "redshift" / "custom_resource"
EXTERNAL_SCHEMA_SQL = REPO / "redshift" / "sql" / "external_schema.sql"

DATABASE = "lake"
ADMIN_USER = "lake_admin"
PORT = 5449  # not the default 5439: scanners probe the default port first
PARAMETER_GROUP_FAMILY = "redshift-1.0"
AUDIT_LOGS = ("connectionlog", "userlog", "useractivitylog")
# Pause outside working hours (UTC) when the config asks for it: a paused cluster bills storage
# only.
PAUSE_CRON = "cron(0 19 ? * MON-FRI *)"
RESUME_CRON = "cron(0 7 ? * MON-FRI *)"
OUTPUT_KEYS = (
    "ClusterIdentifier",
    "DatabaseName",
    "SecretArn",
    "ExternalSchema",
    "SpectrumRoleArn",
)


class WarehouseStack(Stack):
    """Redshift cluster, its network, Spectrum wiring and the automated external schema.

    Attributes:
        key: KMS key of the cluster and its admin secret.
        vpc: the cluster's own VPC (isolated subnets only, S3/Glue/Lake Formation endpoints).
        cluster: the `AWS::Redshift::Cluster`.
        external_schema: the custom resource creating the Spectrum schema.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        spectrum_role: iam.IRole,
        curated_database: glue.CfnDatabase,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.cluster_identifier = f"{config.prefix}-warehouse"
        self.schema_name = naming.external_schema_name(config.env_name, config.project)
        self.key = kms.Key(
            self,
            "WarehouseKey",
            alias=f"alias/{config.prefix}-warehouse",
            description=f"{config.prefix}: Redshift cluster and admin secret",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        self.vpc = self._vpc()
        self.security_group = ec2.SecurityGroup(
            self,
            "ClusterSecurityGroup",
            vpc=self.vpc,
            description="Redshift cluster: no ingress; egress stays in the isolated subnets",
            # The subnets have no route out: egress reaches the VPC endpoints only.
            allow_all_outbound=True,
        )
        self._interface_endpoints()
        self.cluster = self._cluster(spectrum_role)
        if config.redshift_pause_schedule:
            self._pause_schedule()
        self.external_schema = self._external_schema(spectrum_role, curated_database)

        # What `energy-lake redshift ...` reads to find the warehouse (redshift/cli.py OUTPUTS).

        # The schema's own attributes, not the imported values: what the schema was created with.
        outputs = {
            "ClusterIdentifier": self.cluster.ref,
            "DatabaseName": DATABASE,
            "SecretArn": self.cluster.attr_master_password_secret_arn,
            "ExternalSchema": self.external_schema.get_att_string("SchemaName"),
            "SpectrumRoleArn": self.external_schema.get_att_string("IamRoleArn"),
            "CatalogDatabase": self.external_schema.get_att_string("CatalogDatabase"),
        }
        for key, value in outputs.items():
            output = CfnOutput(self, f"{key}Output", value=value)
            output.override_logical_id(key)

    # -- network -----------------------------------------------------------------------------

    def _vpc(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="warehouse", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                # Enhanced VPC routing sends COPY/UNLOAD and Spectrum's S3 traffic through it.
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs)
        )
        return vpc

    def _interface_endpoints(self) -> None:
        """Glue and Lake Formation endpoints, reachable from the cluster only (HTTPS).

        With enhanced VPC routing, Spectrum reaches the catalog and Lake Formation from the
        cluster's subnets, which have no route out.
        """
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Glue and Lake Formation endpoints: HTTPS from the cluster only",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(
            self.security_group, ec2.Port.tcp(443), "HTTPS from the Redshift cluster"
        )
        for name, service in (
            ("Glue", ec2.InterfaceVpcEndpointAwsService.GLUE),
            ("LakeFormation", ec2.InterfaceVpcEndpointAwsService.LAKE_FORMATION),
        ):
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                security_groups=[endpoint_sg],
                open=False,
            )

    # -- cluster -----------------------------------------------------------------------------

    def _cluster(self, spectrum_role: iam.IRole) -> redshift.CfnCluster:
        subnets = redshift.CfnClusterSubnetGroup(
            self,
            "SubnetGroup",
            description=f"{self.config.prefix} warehouse: isolated subnets",
            subnet_ids=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
        )
        parameters = redshift.CfnClusterParameterGroup(
            self,
            "ParameterGroup",
            description=f"{self.config.prefix} warehouse: SSL only, user activity logged",
            parameter_group_family=PARAMETER_GROUP_FAMILY,
            parameters=[
                redshift.CfnClusterParameterGroup.ParameterProperty(
                    parameter_name="require_ssl", parameter_value="true"
                ),
                redshift.CfnClusterParameterGroup.ParameterProperty(
                    parameter_name="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )
        nodes = self.config.redshift_number_of_nodes
        if nodes < 1:
            raise ValueError("redshift_number_of_nodes must be at least 1")
        cluster = redshift.CfnCluster(
            self,
            "Cluster",
            cluster_identifier=self.cluster_identifier,
            node_type=self.config.redshift_node_type,
            cluster_type="multi-node" if nodes > 1 else "single-node",
            number_of_nodes=nodes if nodes > 1 else None,
            db_name=DATABASE,
            master_username=ADMIN_USER,
            # Redshift generates the admin password into Secrets Manager, encrypted with our key,
            # and rotates it on demand or on the secret's schedule.
            manage_master_password=True,
            master_password_secret_kms_key_id=self.key.key_arn,
            encrypted=True,
            kms_key_id=self.key.key_arn,
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            port=PORT,
            cluster_subnet_group_name=subnets.ref,
            vpc_security_group_ids=[self.security_group.security_group_id],
            cluster_parameter_group_name=parameters.ref,
            iam_roles=[spectrum_role.role_arn],
            allow_version_upgrade=True,
            automated_snapshot_retention_period=7,
            logging_properties=redshift.CfnCluster.LoggingPropertiesProperty(
                log_destination_type="cloudwatch", log_exports=list(AUDIT_LOGS)
            ),
        )
        # A data-keeping environment leaves a final snapshot behind when the cluster goes.
        cluster.apply_removal_policy(
            RemovalPolicy.DESTROY if self.config.destroy_data_on_delete else RemovalPolicy.SNAPSHOT
        )
        return cluster

    def _cluster_arn(self) -> str:
        return (
            f"arn:{Aws.PARTITION}:redshift:{Aws.REGION}:{Aws.ACCOUNT_ID}"
            f":cluster:{self.cluster_identifier}"
        )

    def _pause_schedule(self) -> None:
        role = iam.Role(
            self,
            "SchedulerRole",
            description="Redshift scheduler: pause and resume the warehouse cluster",
            assumed_by=iam.ServicePrincipal("scheduler.redshift.amazonaws.com"),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["redshift:PauseCluster", "redshift:ResumeCluster"],
                resources=[self._cluster_arn()],
            )
        )
        for action, cron in (("Pause", PAUSE_CRON), ("Resume", RESUME_CRON)):
            target = {"cluster_identifier": self.cluster.ref}
            scheduled = redshift.CfnScheduledAction(
                self,
                f"{action}Schedule",
                scheduled_action_name=f"{self.cluster_identifier}-{action.lower()}",
                scheduled_action_description=f"{action} the warehouse cluster",
                schedule=cron,
                iam_role=role.role_arn,
                enable=True,
                target_action=redshift.CfnScheduledAction.ScheduledActionTypeProperty(
                    pause_cluster=redshift.CfnScheduledAction.PauseClusterMessageProperty(**target)
                    if action == "Pause"
                    else None,
                    resume_cluster=redshift.CfnScheduledAction.ResumeClusterMessageProperty(
                        **target
                    )
                    if action == "Resume"
                    else None,
                ),
            )
            scheduled.node.add_dependency(role.node.find_child("DefaultPolicy"))

    # -- external schema ---------------------------------------------------------------------

    def _external_schema(
        self, spectrum_role: iam.IRole, curated_database: glue.CfnDatabase
    ) -> CustomResource:
        log_group = logs.LogGroup(
            self,
            "ExternalSchemaLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        handler_role = iam.Role(
            self,
            "ExternalSchemaHandlerRole",
            description="Runs the Spectrum external schema DDL through the Redshift Data API",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        handler_role.add_to_policy(
            iam.PolicyStatement(
                sid="Logs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        handler_role.add_to_policy(
            iam.PolicyStatement(
                sid="ExecuteOnWarehouse",
                actions=["redshift-data:ExecuteStatement"],
                resources=[self._cluster_arn()],
            )
        )
        handler_role.add_to_policy(
            iam.PolicyStatement(
                sid="FollowOwnStatements",
                actions=["redshift-data:DescribeStatement", "redshift-data:CancelStatement"],
                resources=["*"],
            )
        )
        handler_role.add_to_policy(
            iam.PolicyStatement(
                sid="AdminSecret",
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.cluster.attr_master_password_secret_arn],
            )
        )
        handler_role.add_to_policy(
            iam.PolicyStatement(
                sid="AdminSecretKey", actions=["kms:Decrypt"], resources=[self.key.key_arn]
            )
        )
        handler = lambda_.Function(
            self,
            "ExternalSchemaHandler",
            description="CloudFormation custom resource: Spectrum external schema",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="handler.on_event",
            code=lambda_.Code.from_asset(
                str(CUSTOM_RESOURCE_CODE), exclude=["__pycache__", "*.pyc"]
            ),
            timeout=Duration.minutes(5),
            memory_size=256,
            role=handler_role,
            log_group=log_group,
        )
        provider = cr.Provider(self, "ExternalSchemaProvider", on_event_handler=handler)
        resource = CustomResource(
            self,
            "SpectrumSchema",
            service_token=provider.service_token,
            resource_type="Custom::RedshiftExternalSchema",
            properties={
                "ClusterIdentifier": self.cluster.ref,
                "Database": DATABASE,
                "SecretArn": self.cluster.attr_master_password_secret_arn,
                "Sql": EXTERNAL_SCHEMA_SQL.read_text(encoding="utf-8"),
                "SchemaName": self.schema_name,
                "CatalogDatabase": curated_database.ref,
                "IamRoleArn": spectrum_role.role_arn,
                "DropOnDelete": "true" if self.config.drop_external_schema_on_delete else "false",
            },
        )
        # The statement needs the cluster up with the Spectrum role attached (the Ref and GetAtt
        # above order it after the cluster, whose IamRoles name the role; the stack deploys after
        # the grants) and the handler's permissions in place.
        resource.node.add_dependency(handler_role.node.find_child("DefaultPolicy"))
        self._suppress_custom_resource_findings(handler, handler_role, provider)
        return resource

    def _suppress_custom_resource_findings(
        self, handler: lambda_.Function, handler_role: iam.Role, provider: cr.Provider
    ) -> None:
        acknowledge(
            handler_role,
            "AwsSolutions-IAM5",
            "DescribeStatement/CancelStatement take a statement id, not an ARN: the Data API has "
            "no resource-level permissions for them; a caller only sees its own statements.",
            findings=["Resource::*"],
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM4",
            "CDK's custom resource provider framework function logs with "
            "AWSLambdaBasicExecutionRole; aws-cdk-lib does not make it configurable.",
            findings=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole"
            ],
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM5",
            "The provider framework invokes any version of its one handler function "
            "(<function ARN>:*), as aws-cdk-lib generates it.",
            findings=[resource_finding(self, f"{handler.function_arn}:*")],
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "The provider framework function's runtime is chosen by aws-cdk-lib, not by this "
            "app; the handler itself runs a current Python runtime.",
        )
