"""Fixtures of the athena tests: one small curated lake per session (pyarrow, no Spark)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The root conftest puts `tests/` on sys.path, where this folder would shadow the `athena`
# package as a namespace package under a bare `pytest` (the editable install's finder runs
# after sys.path). The repository root first keeps `import athena` the real package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from athena_lake_fixture import build_lake  # noqa: E402


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lake(tmp_path_factory.mktemp("athena-lake"))
