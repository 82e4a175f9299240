"""Storage stack: every bucket encrypted, private, TLS-only, logged, with lifecycle rules."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match
from cdk_harness import Synth, render

from stacks.storage import BUCKETS, DATA_ZONES

pytestmark = pytest.mark.xdist_group("cdk")


def bucket(synth: Synth, name: str) -> dict:
    logical_id = synth.logical_id(synth.stacks["storage"].buckets[name])
    return synth.templates["storage"]["Resources"][logical_id]


def rules_by_id(synth: Synth, name: str) -> dict[str, dict]:
    rules = bucket(synth, name)["Properties"]["LifecycleConfiguration"]["Rules"]
    return {rule["Id"]: rule for rule in rules}


def test_one_bucket_per_zone_and_service(synth: Synth) -> None:
    assert set(synth.stacks["storage"].buckets) == set(BUCKETS)
    assert len(synth.resources("storage", "AWS::S3::Bucket")) == len(BUCKETS)


def test_key_is_customer_managed_with_rotation(synth: Synth) -> None:
    synth.template("storage").has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    assert len(synth.resources("storage", "AWS::KMS::Key")) == 1


@pytest.mark.parametrize("name", [b for b in BUCKETS if b != "access_logs"])
def test_buckets_use_the_lake_key_with_bucket_keys(synth: Synth, name: str) -> None:
    key_id = synth.logical_id(synth.stacks["storage"].key)
    (rule,) = bucket(synth, name)["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }


def test_access_log_bucket_uses_s3_managed_encryption(synth: Synth) -> None:
    """S3 server access logging cannot deliver into an SSE-KMS bucket."""
    (rule,) = bucket(synth, "access_logs")["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


@pytest.mark.parametrize("name", BUCKETS)
def test_buckets_block_public_access_and_enforce_tls(synth: Synth, name: str) -> None:
    assert bucket(synth, name)["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    logical_id = synth.logical_id(synth.stacks["storage"].buckets[name])
    policies = [
        p
        for p in synth.resources("storage", "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    (policy,) = policies
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }.items() <= next(s for s in statements if s["Effect"] == "Deny").items()


@pytest.mark.parametrize("name", BUCKETS)
def test_versioning_only_on_data_buckets(synth: Synth, name: str) -> None:
    versioning = bucket(synth, name)["Properties"].get("VersioningConfiguration")
    if name in DATA_ZONES:
        assert versioning == {"Status": "Enabled"}
        rule = rules_by_id(synth, name)["expire-noncurrent-versions"]
        days = synth.config.noncurrent_versions_expire_after_days
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": days}
    else:
        assert versioning is None


@pytest.mark.parametrize("name", [b for b in BUCKETS if b != "access_logs"])
def test_server_access_logs_go_to_the_log_bucket(synth: Synth, name: str) -> None:
    logs_id = synth.logical_id(synth.stacks["storage"].buckets["access_logs"])
    assert bucket(synth, name)["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs_id},
        "LogFilePrefix": f"{name}/",
    }


@pytest.mark.parametrize("name", BUCKETS)
def test_every_bucket_aborts_incomplete_uploads(synth: Synth, name: str) -> None:
    rules = bucket(synth, name)["Properties"]["LifecycleConfiguration"]["Rules"]
    days = synth.config.abort_incomplete_upload_after_days
    assert any(
        r.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": days} for r in rules
    )


def test_raw_moves_to_cheaper_tiers_after_the_configured_periods(synth: Synth) -> None:
    rule = rules_by_id(synth, "raw")["raw-to-cheaper-tiers"]
    assert rule["Transitions"] == [
        {
            "StorageClass": "STANDARD_IA",
            "TransitionInDays": synth.config.raw_infrequent_access_after_days,
        },
        {"StorageClass": "GLACIER_IR", "TransitionInDays": synth.config.raw_glacier_ir_after_days},
    ]


def test_query_results_and_logs_expire(synth: Synth) -> None:
    results = rules_by_id(synth, "athena_results")["expire-query-results"]
    assert results["ExpirationInDays"] == synth.config.athena_results_expire_after_days
    logs = rules_by_id(synth, "access_logs")["expire-access-logs"]
    assert logs["ExpirationInDays"] == synth.config.access_logs_expire_after_days


def test_raw_bucket_sends_events_to_eventbridge(synth: Synth) -> None:
    assert bucket(synth, "raw")["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert "NotificationConfiguration" not in bucket(synth, "processed")["Properties"]


@pytest.mark.parametrize("name", BUCKETS)
def test_bucket_names_are_derived_not_hard_coded(synth: Synth, name: str) -> None:
    rendered = render(bucket(synth, name)["Properties"]["BucketName"])
    expected = (
        f"{synth.config.prefix}-{name.replace('_', '-')}-${{AWS::AccountId}}-${{AWS::Region}}"
    )
    assert rendered == expected


def test_dev_destroys_its_data_on_delete_because_its_config_says_so(dev: Synth) -> None:
    assert dev.config.destroy_data_on_delete
    template = dev.template("storage")
    template.all_resources("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    template.all_resources("AWS::KMS::Key", {"DeletionPolicy": "Delete"})
    # Emptied first, or CloudFormation could not delete a non-empty bucket.
    assert len(template.find_resources("Custom::S3AutoDeleteObjects")) == len(BUCKETS)


def test_prod_retains_buckets_and_key(prod: Synth) -> None:
    assert not prod.config.destroy_data_on_delete
    template = prod.template("storage")
    template.all_resources(
        "AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )
    template.all_resources("AWS::KMS::Key", {"DeletionPolicy": "Retain"})
    assert template.find_resources("Custom::S3AutoDeleteObjects") == {}


def test_key_policy_lets_logs_encrypt_only_glue_log_groups(synth: Synth) -> None:
    synth.template("storage").has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowCloudWatchLogsForGlueLogGroups",
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": Match.any_value()
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )
