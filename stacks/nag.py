"""Narrow cdk-nag acknowledgments: one rule (or one finding of a rule) on one construct."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, Aws, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: Iterable[str] = ()) -> None:
    """Acknowledge `rule` on `scope` (and its children), or only the listed findings of it.

    cdk-nag v3 matches acknowledgments exactly: `AwsSolutions-IAM5[Resource::*]` covers that
    one finding and nothing else, so every wildcard a reviewer accepts is spelled out.
    """
    ids = [f"{rule}[{finding}]" for finding in findings] or [rule]
    Validations.of(scope).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))


def resource(arn: str) -> str:
    """The IAM5 finding of a literal ARN built from pseudo parameters (`<AWS::Region>`...)."""
    return "Resource::" + (
        arn.replace(Aws.PARTITION, "<AWS::Partition>")
        .replace(Aws.REGION, "<AWS::Region>")
        .replace(Aws.ACCOUNT_ID, "<AWS::AccountId>")
    )
