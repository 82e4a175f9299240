"""cdk-nag and cfn-lint on the governance, grants and warehouse stacks; what is acknowledged."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from cdk_harness import Synth
from cfnlint.api import ManualArgs, lint

pytestmark = pytest.mark.xdist_group("cdk")

OURS = ("governance", "grants", "warehouse")
PREFIX = "Annotation::"  # how CDK stores an acknowledged rule id in the construct metadata


def acknowledged(synth: Synth) -> list[tuple[str, str, str]]:
    """(stack role, construct path in the stack, rule id) of our stacks' acknowledgments."""
    found = []
    for role in OURS:
        stack = synth.stacks[role]
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    path = construct.node.path.removeprefix(stack.node.path + "/")
                    found += [(role, path, rule.removeprefix(PREFIX)) for rule in entry.data]
    return found


def test_no_unacknowledged_cdk_nag_finding_in_the_app(app_dev: Synth) -> None:
    assert app_dev.nag_violations == []
    assert app_dev.error is None
    assert set(OURS) <= set(app_dev.templates)


def test_prod_and_the_external_principal_variant_are_nag_clean_too(variant) -> None:
    # build() synthesises with AwsSolutionsChecks and raises on any unacknowledged finding.
    variant("prod")
    variant("dev", analyst_principal_arns=("arn:aws:iam::123456789012:role/analysts",))


def test_acknowledgments_are_the_reviewed_ones(app_dev: Synth) -> None:
    found = [a for a in acknowledged(app_dev) if a[2].startswith("AwsSolutions-")]
    rules = {(role, path.split("/")[0], rule.split("[")[0]) for role, path, rule in found}
    assert rules == {
        ("governance", "DataAccessRole", "AwsSolutions-IAM5"),
        ("grants", "SpectrumRole", "AwsSolutions-IAM5"),
        ("grants", "AnalystRole", "AwsSolutions-IAM5"),
        ("grants", "EngineerRole", "AwsSolutions-IAM5"),
        ("warehouse", "ExternalSchemaHandlerRole", "AwsSolutions-IAM5"),
        ("warehouse", "ExternalSchemaProvider", "AwsSolutions-IAM5"),
        ("warehouse", "ExternalSchemaProvider", "AwsSolutions-IAM4"),
        ("warehouse", "ExternalSchemaProvider", "AwsSolutions-L1"),
    }
    for _role, path, rule in found:
        if rule.startswith("AwsSolutions-IAM5"):
            finding = rule.removeprefix("AwsSolutions-IAM5[").removesuffix("]")
            # Resource * only where the API has no resource-level permission (GetDataAccess,
            # Data API statements); otherwise objects/tables/versions under one named resource.
            assert finding == "Resource::*" or finding.endswith(("/*", ":*")), (path, rule)
            if finding == "Resource::*":
                assert path.split("/")[0] != "DataAccessRole"
        if rule.startswith("AwsSolutions-IAM4"):
            assert rule.endswith("AWSLambdaBasicExecutionRole]"), rule


def test_the_data_access_role_accepts_only_the_governed_buckets_objects(app_dev: Synth) -> None:
    findings = [r for role, p, r in acknowledged(app_dev) if p.startswith("DataAccessRole")]
    assert len(findings) == 2
    assert sum("Processed" in f for f in findings) == sum("Curated" in f for f in findings) == 1


@pytest.mark.parametrize("role", OURS)
def test_app_templates_have_no_cfn_lint_errors(app_dev: Synth, role: str) -> None:
    matches = lint(
        json.dumps(app_dev.templates[role]), config=ManualArgs(regions=["eu-west-1", "us-east-1"])
    )
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
