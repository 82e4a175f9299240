"""Storage: the lake buckets and the one customer-managed KMS key that encrypts them."""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from energy_lake import naming
from stacks.config import EnvConfig
from stacks.nag import acknowledge

DATA_ZONES = naming.STORAGE_ZONES  # raw, processed, curated, rejected: versioned data buckets
SERVICE_BUCKETS = ("athena_results", "glue_assets")
BUCKETS = (*DATA_ZONES, *SERVICE_BUCKETS, "access_logs")


class StorageStack(Stack):
    """Buckets and key of one environment.

    Attributes:
        config: the environment config.
        key: the customer-managed KMS key (rotation on) encrypting every bucket but the
            access-logs one (S3 server access logging cannot deliver to SSE-KMS buckets), the
            Glue logs and bookmarks, the Athena results and the notification topic.
        buckets: bucket by name — "raw", "processed", "curated", "rejected" (data zones,
            versioned), "athena_results", "glue_assets" (scripts' temp dir, Spark UI logs, run
            reports) and "access_logs" (server access logs of all the others).
        bucket_names: bucket by name -> its physical name,
            `<prefix>-<name>-<account>-<region>` (account and region as pseudo parameters), so
            IAM policies in later stacks can name exact bucket ARNs without cross-stack imports.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.key = self._key()
        self.bucket_names = {
            name: f"{config.prefix}-{name.replace('_', '-')}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
            for name in BUCKETS
        }
        self.buckets: dict[str, s3.Bucket] = {}
        self.buckets["access_logs"] = self._access_logs_bucket()
        for name in (*DATA_ZONES, *SERVICE_BUCKETS):
            self.buckets[name] = self._bucket(name)
        for name, bucket in self.buckets.items():
            CfnOutput(
                self,
                f"{_camel(name)}BucketName",
                value=bucket.bucket_name,
                description=f"S3 bucket of the {name.replace('_', ' ')}",
            )
        CfnOutput(self, "LakeKeyArn", value=self.key.key_arn, description="KMS key of the lake")

    def bucket_arn(self, name: str, objects: bool = False) -> str:
        """ARN of a bucket (or of its objects), from its physical name: no cross-stack import."""
        arn = f"arn:{Aws.PARTITION}:s3:::{self.bucket_names[name]}"
        return f"{arn}/*" if objects else arn

    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            "LakeKey",
            alias=f"alias/{self.config.prefix}-lake",
            description=f"{self.config.prefix}: lake buckets, Glue logs/bookmarks, Athena results",
            enable_key_rotation=True,
            removal_policy=self.config.removal_policy,
            pending_window=Duration.days(7 if self.config.destroy_data_on_delete else 30),
        )
        # Glue writes its continuous logs to CloudWatch Logs encrypted with this key (security
        # configuration); Logs must be allowed to use it for Glue's log groups of this account.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForGlueLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}"
                            ":log-group:/aws-glue/*"
                        )
                    }
                },
            )
        )
        # EventBridge publishes failure notifications to the SSE-KMS topic encrypted with it.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeToPublishToEncryptedTopics",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        return key

    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            bucket_name=self.bucket_names["access_logs"],
            # Server access log delivery supports SSE-S3 only, not SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=self.config.removal_policy,
            auto_delete_objects=self.config.destroy_data_on_delete,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(self.config.access_logs_expire_after_days),
                    abort_incomplete_multipart_upload_after=Duration.days(
                        self.config.abort_incomplete_upload_after_days
                    ),
                )
            ],
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "This is the server access log bucket of the lake; logging its own access would "
            "loop. Access to it is recorded by CloudTrail.",
        )
        return bucket

    def _bucket(self, name: str) -> s3.Bucket:
        versioned = name in DATA_ZONES
        bucket = s3.Bucket(
            self,
            f"{_camel(name)}Bucket",
            bucket_name=self.bucket_names[name],
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=versioned,
            server_access_logs_bucket=self.buckets["access_logs"],
            server_access_logs_prefix=f"{name}/",
            removal_policy=self.config.removal_policy,
            auto_delete_objects=self.config.destroy_data_on_delete,
            lifecycle_rules=self._lifecycle_rules(name, versioned),
        )
        if name == "raw":
            # Landed files start the pipeline through EventBridge. Set natively on the bucket
            # (`event_bridge_enabled` would add a notification custom resource and its Lambda).
            cfn_bucket: s3.CfnBucket = bucket.node.default_child
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        return bucket

    def _lifecycle_rules(self, name: str, versioned: bool) -> list[s3.LifecycleRule]:
        c = self.config
        rules = [
            s3.LifecycleRule(
                id="abort-incomplete-uploads",
                abort_incomplete_multipart_upload_after=Duration.days(
                    c.abort_incomplete_upload_after_days
                ),
            )
        ]
        if versioned:
            rules.append(
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(
                        c.noncurrent_versions_expire_after_days
                    ),
                    expired_object_delete_marker=True,
                )
            )
        if name == "raw":
            # Glacier Instant Retrieval, not Flexible: a full rebuild and the raw crawler must
            # still read old loads without a restore.
            rules.append(
                s3.LifecycleRule(
                    id="raw-to-cheaper-tiers",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(c.raw_infrequent_access_after_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(c.raw_glacier_ir_after_days),
                        ),
                    ],
                )
            )
        if name == "athena_results":
            rules.append(
                s3.LifecycleRule(
                    id="expire-query-results",
                    expiration=Duration.days(c.athena_results_expire_after_days),
                )
            )
        if name == "glue_assets":
            rules.append(
                s3.LifecycleRule(
                    id="expire-glue-temp",
                    prefix="temp/",
                    expiration=Duration.days(c.glue_temp_expire_after_days),
                )
            )
        return rules


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
