"""Environment config: chosen by name, validated, principals from context."""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk import RemovalPolicy

from stacks.config import DEV, PROD, load_config

ADMIN = "arn:aws:iam::111111111111:role/Admin"


def test_known_environments_and_a_helpful_error_for_others() -> None:
    assert load_config("dev") is DEV
    assert load_config("prod") is PROD
    with pytest.raises(ValueError, match="-c env=dev or -c env=prod"):
        load_config("staging")


def test_only_an_environment_that_says_so_destroys_data() -> None:
    assert DEV.removal_policy is RemovalPolicy.DESTROY
    assert PROD.removal_policy is RemovalPolicy.RETAIN
    with pytest.raises(ValueError, match="prod retains"):
        dataclasses.replace(PROD, destroy_data_on_delete=True)


def test_lifecycle_periods_are_checked_against_s3_rules() -> None:
    with pytest.raises(ValueError, match="30 days in Standard-IA"):
        dataclasses.replace(DEV, raw_glacier_ir_after_days=DEV.raw_infrequent_access_after_days)
    with pytest.raises(ValueError, match="no earlier than 30 days"):
        dataclasses.replace(DEV, raw_infrequent_access_after_days=10)


def test_principals_and_emails_come_from_context() -> None:
    config = load_config(
        "prod",
        {
            "lakeAdminArns": f"{ADMIN}, arn:aws:iam::111111111111:role/B",
            "analystPrincipalArns": ["arn:aws:iam::111111111111:role/Analyst"],
            "notificationEmails": "ops@example.com",
        },
    )
    assert config.lake_admin_arns == (
        ADMIN,
        "arn:aws:iam::111111111111:role/B",
    )
    assert config.analyst_principal_arns == ("arn:aws:iam::111111111111:role/Analyst",)
    assert config.engineer_principal_arns == ()
    assert config.notification_emails == ("ops@example.com",)
    assert PROD.lake_admin_arns == ()  # the module-level config is not mutated


def test_a_principal_that_is_not_an_arn_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an IAM ARN"):
        load_config("dev", {"engineerPrincipalArns": "alice"})


def test_both_environments_build_the_warehouse_path() -> None:
    """Synth tests exercise the warehouse stack in both environments."""
    assert DEV.warehouse and PROD.warehouse
    assert PROD.redshift_number_of_nodes >= DEV.redshift_number_of_nodes
    assert not PROD.drop_external_schema_on_delete


def test_a_prefix_too_long_for_bucket_names_is_rejected() -> None:
    with pytest.raises(ValueError, match="exceed 63"):
        dataclasses.replace(DEV, project="energy-lake-with-a-long-name")
