"""Fixtures of the Redshift tests: moto's Data API, scripted (see redshift_data_fixture)."""

from __future__ import annotations

import sys
from pathlib import Path

# The helper module sits next to the tests; make it importable whatever pytest's import mode.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)

from redshift_data_fixture import redshift_data  # noqa: E402, F401  (a fixture, used by name)
