"""Fixtures of the governance/warehouse tests.

`app_dev` is the whole CDK app (the lead's `tests/cdk/cdk_harness.synthesise`, cdk-nag on),
synthesised once per session; `variant(...)` synthesises only the storage/catalog stand-in and
the three stacks under test for a config variant (external principals, no warehouse, prod), with
cdk-nag on, cached per variant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Helper modules sit next to the tests (and the app harness in tests/cdk); importable whatever
# pytest's import mode.
_TESTS = Path(__file__).resolve().parents[1]
for _folder in (_TESTS / "governance", _TESTS / "cdk"):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))

from cdk_harness import Synth, synthesise  # noqa: E402
from governance_harness import Synthesized, build  # noqa: E402


@pytest.fixture(scope="session")
def app_dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    synth = synthesise("dev", tmp_path_factory.mktemp("governance-app-dev"))
    assert synth.error is None, synth.error
    return synth


_VARIANTS: dict[tuple, Synthesized] = {}


@pytest.fixture(scope="session")
def variant():
    """`variant(env, **config overrides)` -> the synthesised stand-in app (cached)."""

    def get(env_name: str = "dev", **overrides) -> Synthesized:
        key = (env_name, tuple(sorted(overrides.items())))
        if key not in _VARIANTS:
            _VARIANTS[key] = build(env_name, **overrides)
        return _VARIANTS[key]

    return get
