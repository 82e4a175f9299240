"""The analysts' API: the four analyses as typed pandas DataFrames, locally or on Athena.

    import athena
    athena.energy_sold_by_type("2025-01-01", "2025-01-31", lake=".lake/demo")   # DuckDB
    athena.top_clients(5, athena=athena.AthenaTarget.for_env("prod"))           # Athena

`start`/`end` (a `datetime.date` or `YYYY-MM-DD`, both inclusive, None: unbounded) filter on
transaction_date's UTC calendar day. With neither `lake` nor `athena`, the local lake at
$ENERGY_LAKE_DIR (default `.lake/demo`, the demo's) is queried; `athena=True` means the default
environment's workgroup and curated database.

Joins are inner joins: top clients counts sales whose client is in the clients snapshot, and
provider performance counts purchases whose provider is in the providers snapshot. Orphans (an
unknown entity id, or one of the wrong kind) are left out there, and still counted by energy
sold by type and the monthly price trend, which need no join. The run reports count them.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from athena import aws, local, queries
from athena.aws import AthenaTarget
from athena.queries import ArgumentError

DEFAULT_LAKE = ".lake/demo"
LAKE_ENV = "ENERGY_LAKE_DIR"

DateLike = dt.date | str | None


def as_date(value: DateLike, label: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return queries.parse_date(value, label)
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ArgumentError(f"{label} must be a date or YYYY-MM-DD, got {value!r}")
    return value


def run_analysis(
    name: str,
    start: DateLike = None,
    end: DateLike = None,
    *,
    limit: int | None = None,
    lake: str | os.PathLike[str] | None = None,
    athena: AthenaTarget | bool | None = None,
) -> pd.DataFrame:
    """Any analysis by its CLI name (see `queries.ANALYSES`) on the chosen backend."""
    start_date, end_date = as_date(start, "start"), as_date(end, "end")
    if lake is not None and athena not in (None, False):
        raise ArgumentError("choose one backend: a local lake or Athena, not both")
    if athena not in (None, False):
        target = AthenaTarget() if athena is True else athena
        if not isinstance(target, AthenaTarget):
            raise ArgumentError(f"athena must be an AthenaTarget or True, got {athena!r}")
        return aws.run(name, target, start=start_date, end=end_date, limit=limit)
    root = lake if lake is not None else os.environ.get(LAKE_ENV, DEFAULT_LAKE)
    return local.run(name, root, start=start_date, end=end_date, limit=limit)


def energy_sold_by_type(start: DateLike = None, end: DateLike = None, **backend) -> pd.DataFrame:
    """Sales by energy type: energy_type, transactions, total_kwh, revenue, avg_price_per_kwh."""
    return run_analysis("energy-by-type", start, end, **backend)


def top_clients(
    n: int = queries.DEFAULT_TOP_N, start: DateLike = None, end: DateLike = None, **backend
) -> pd.DataFrame:
    """The n clients buying the most kWh: client_id, client_name, client_type, transactions,
    total_kwh, revenue."""
    return run_analysis("top-clients", start, end, limit=queries.check_limit(n), **backend)


def provider_performance(start: DateLike = None, end: DateLike = None, **backend) -> pd.DataFrame:
    """Purchases by provider: provider_id, provider_name, energy_type, transactions, total_kwh,
    cost, avg_price_per_kwh."""
    return run_analysis("provider-performance", start, end, **backend)


def monthly_price_trend(start: DateLike = None, end: DateLike = None, **backend) -> pd.DataFrame:
    """Sales by month and energy type: month, energy_type, transactions, total_kwh,
    min/max/avg (volume-weighted) price_per_kwh."""
    return run_analysis("monthly-price-trend", start, end, **backend)
