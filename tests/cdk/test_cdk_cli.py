"""`make synth`'s command, run the way a user runs it: the pinned CLI, offline, no credentials."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("cdk")

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


def offline_env() -> dict[str, str]:
    """No credentials, no profile, no instance metadata: nothing that could reach an account."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "CDK_DEFAULT_")) and k != "CDK_CONTEXT_JSON"
    }
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
        CDK_DISABLE_VERSION_CHECK="true",
    )
    return env


@pytest.mark.skipif(not CDK.exists(), reason="the pinned CDK CLI is installed by `make install`")
def test_pinned_cli_synthesises_prod_offline_with_cdk_nag(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(CDK), "synth", "-c", "env=prod", "--quiet", "--output", str(tmp_path)],
        cwd=REPO_ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert {f"energy-lake-prod-{s}" for s in ("storage", "catalog", "etl", "analytics")} <= stacks
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v for p in report["pluginReports"] for v in p["violations"]] == []
