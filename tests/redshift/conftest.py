"""Fixtures of the Redshift tests: moto's Data API, scripted (see redshift_data_fixture), and the
athena tests' small curated lake (the Redshift SQL is checked against its independent oracle)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helper modules sit next to these tests and the athena ones; make them importable whatever
# pytest's import mode.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent / "athena")):
    if _path not in sys.path:
        sys.path.append(_path)

from athena_lake_fixture import build_lake  # noqa: E402
from redshift_data_fixture import redshift_data  # noqa: E402, F401  (a fixture, used by name)


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lake(tmp_path_factory.mktemp("redshift-lake"))
