"""cdk-nag (AwsSolutions) and cfn-lint on the synthesised app, and how findings are acknowledged."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from cdk_harness import Synth, cdk_context
from cfnlint.api import ManualArgs, lint

pytestmark = pytest.mark.xdist_group("cdk")

LINT_REGIONS = ["eu-west-1", "us-east-1"]


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synth: Synth) -> None:
    """The validation report holds cdk-nag findings (errors and warnings) and, with
    `annotationsInValidationReport`, every construct warning: all must be absent."""
    findings = [
        f"{v['severity']} {v['ruleName']} at "
        + ", ".join(c["constructPath"] for c in v["violatingConstructs"])
        for v in synth.nag_violations
    ]
    assert findings == []
    assert synth.error is None
    assert set(synth.templates) == set(synth.stacks)


def test_cdk_nag_is_active_in_the_synthesis(tmp_path) -> None:
    """The same harness reports a finding when there is one (so a clean report means clean)."""
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path), context=cdk_context())
    stack = cdk.Stack(app, "Unsafe")
    s3.Bucket(stack, "Bucket")
    cdk.Annotations.of(stack).add_warning_v2("test:warning", "a construct warning")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules
    assert any("test:warning" in rule for rule in rules)


def acknowledgments(synth: Synth) -> list[tuple[str, str, str, object]]:
    """(construct path, rule id, reason, construct) of every acknowledgment in the app."""
    found = []
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    found.append((construct.node.path, rule, reason, construct))
    return found


def test_acknowledgments_are_narrow_and_explained(synth: Synth) -> None:
    found = [a for a in acknowledgments(synth) if "AwsSolutions-" in a[1]]
    assert found, "the app acknowledges some findings; this test must see them"
    for path, rule, reason, construct in found:
        # On a resource (or the L2 owning it), never on a stack or the app.
        assert not isinstance(construct, cdk.Stack | cdk.App), path
        # Wildcard findings are acknowledged one finding at a time, never the whole rule.
        if "AwsSolutions-IAM5" in rule:
            assert "[" in rule and rule.endswith("]"), (path, rule)
            assert rule != "AwsSolutions-IAM5[Action::*]", path
        assert len(reason) >= 60, (path, rule, reason)


def test_templates_have_no_cfn_lint_errors(synth: Synth) -> None:
    errors = []
    for role, template in synth.templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=LINT_REGIONS))
        errors += [
            f"{role}: {m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id[0] == "E"
        ]
    assert errors == []


def test_cfn_lint_reports_errors_when_there_are_some() -> None:
    broken = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}
    matches = lint(json.dumps(broken), config=ManualArgs(regions=LINT_REGIONS))
    assert any(m.rule.id.startswith("E") for m in matches)
