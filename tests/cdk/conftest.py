"""CDK fixtures: the app synthesised once per environment per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Whatever pytest's import mode: the harness next to these tests is importable by name, and the
# repository root (app.py, stacks/) comes first.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parents[1])):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from cdk_harness import Synth, synthesise  # noqa: E402


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise("dev", tmp_path_factory.mktemp("cdk-dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise("prod", tmp_path_factory.mktemp("cdk-prod"))


@pytest.fixture(scope="session", params=["dev", "prod"])
def synth(request: pytest.FixtureRequest) -> Synth:
    """Each environment in turn (the same two synthesised apps as `dev` and `prod`)."""
    return request.getfixturevalue(request.param)
