"""Synthesise the CDK app once per environment, with cdk-nag, and read the templates back.

Synthesis (with cdk-nag) costs seconds, so the session fixtures in conftest.py call `synthesise`
once per environment and every test reads the result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
# Environment-agnostic templates, like `cdk synth` without credentials.
for _var in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
    os.environ.pop(_var, None)

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from app import build_app  # noqa: E402
from stacks.config import EnvConfig, load_config  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synth:
    env_name: str
    config: EnvConfig
    app: cdk.App
    stacks: dict[str, cdk.Stack]
    outdir: Path
    error: str | None  # synthesis failure message (cdk-nag violations fail synthesis)
    nag_violations: list[dict[str, Any]]
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack role -> JSON

    def template(self, role: str) -> Template:
        return Template.from_json(self.templates[role])

    def resources(self, role: str, type_: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[role]["Resources"].items()
            if resource["Type"] == type_
        }

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L1 resource (or of an L2's default child) in its stack."""
        resource = construct.node.default_child or construct
        stack = cdk.Stack.of(resource)
        return stack.resolve(stack.get_logical_id(resource))

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for role, template in self.templates.items():
            for logical_id, resource in template["Resources"].items():
                yield role, logical_id, resource


def cdk_context() -> dict[str, Any]:
    """The feature flags of cdk.json, so tests synthesise what `cdk synth` synthesises."""
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def synthesise(env_name: str, outdir: Path) -> Synth:
    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    stacks = build_app(app, env_name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    error = None
    try:
        assembly = app.synth()
    except RuntimeError as exc:  # ValidationFailed: the report says which findings
        error = str(exc)
        assembly = None
    report = json.loads((outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    synth = Synth(
        env_name=env_name,
        config=load_config(env_name),
        app=app,
        stacks=stacks,
        outdir=outdir,
        error=error,
        nag_violations=violations,
    )
    for role, stack in stacks.items():
        path = outdir / stack.template_file
        if assembly is not None:
            synth.templates[role] = assembly.get_stack_artifact(stack.artifact_id).template
        elif path.exists():
            synth.templates[role] = json.loads(path.read_text())
    return synth


def render(value: Any) -> str:
    """A CloudFormation value as one string: `${AWS::AccountId}`, `${Import:name}`, ..."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return "${" + arg + "}"
        if fn == "Fn::GetAtt":
            return "${" + ".".join(arg) + "}"
        if fn == "Fn::ImportValue":
            return "${Import:" + render(arg) + "}"
        if fn == "Fn::Join":
            separator, parts = arg
            return separator.join(render(p) for p in parts)
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
    return json.dumps(value, sort_keys=True)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
