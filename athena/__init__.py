"""Querying the curated zone: the four analyses, on Athena or locally on DuckDB.

The public API (see `athena.api` for backends and semantics) is re-exported lazily, so that
`import athena.queries` (the SQL, used by the CDK app) does not load pandas, DuckDB or boto3.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "energy_sold_by_type": "athena.api",
    "top_clients": "athena.api",
    "provider_performance": "athena.api",
    "monthly_price_trend": "athena.api",
    "run_analysis": "athena.api",
    "AthenaTarget": "athena.aws",
    "AthenaError": "athena.aws",
    "LakeError": "athena.local",
    "ANALYSES": "athena.queries",
    "ArgumentError": "athena.queries",
    "named_query_sql": "athena.queries",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'athena' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return __all__
