"""CDK fixtures: the app synthesised once per environment per test session."""

from __future__ import annotations

import pytest
from cdk_harness import Synth, synthesise


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
