"""Fixtures of the athena tests: one small curated lake per session (pyarrow, no Spark)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Whatever pytest's import mode: the fixture builder next to these tests is importable by name,
# and the repository root comes first so `import athena` is the package, never this folder
# (or a stale editable install's namespace entry) taken for it.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parents[1])):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from athena_lake_fixture import build_lake  # noqa: E402


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lake(tmp_path_factory.mktemp("athena-lake"))
