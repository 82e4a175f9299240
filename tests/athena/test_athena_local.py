"""The local backend (DuckDB) against an independent computation over the same Parquet files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from athena_lake_fixture import TRANSACTIONS, build_lake, expected

import athena
from athena import frames, local, queries
from athena.local import LakeError

D = dt.date
RANGES = {
    "full": (None, None),
    "february": (D(2025, 2, 1), D(2025, 2, 28)),
    "first-second-of-a-day": (D(2025, 2, 1), D(2025, 2, 1)),
    "last-second-of-the-end-day": (D(2025, 1, 31), D(2025, 1, 31)),
    "across-months": (D(2025, 1, 31), D(2025, 3, 1)),
    "from-march": (D(2025, 3, 1), None),
    "until-new-year": (None, D(2025, 1, 1)),
    "year-boundary": (D(2024, 12, 31), D(2024, 12, 31)),
    "no-data": (D(2030, 1, 1), D(2030, 12, 31)),
    "a-gap-day": (D(2025, 2, 2), D(2025, 2, 4)),
}


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if v is pd.NA else v for v in row)
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def assert_same(actual: list[tuple], wanted: list[tuple]) -> None:
    assert len(actual) == len(wanted)
    for got, want in zip(actual, wanted, strict=True):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            if isinstance(w, float):
                assert g == pytest.approx(w, rel=1e-12)
            else:
                assert g == w and type(g) is type(w)


@pytest.mark.parametrize("name", queries.ANALYSES)
@pytest.mark.parametrize("window", RANGES)
def test_local_results_match_an_independent_computation(lake: Path, name: str, window: str):
    start, end = RANGES[window]
    frame = local.run(name, lake, start=start, end=end)
    assert_same(rows(frame), expected(name, lake, start, end))


@pytest.mark.parametrize("name", queries.ANALYSES)
def test_frames_are_typed_from_the_declared_output_even_when_empty(lake: Path, name: str):
    declared = frames.arrow_schema(queries.analysis(name))
    for start in (None, D(2030, 1, 1)):
        frame = local.run(name, lake, start=start)
        assert list(frame.columns) == declared.names
        assert [str(t) for t in frame.dtypes] == [str(pd.ArrowDtype(f.type)) for f in declared]
    assert frame.empty  # the 2030 range


def test_the_edges_are_really_in_the_fixture(lake: Path) -> None:
    # Guards the range tests: each edge they rely on has a row on it.
    feb = rows(local.run("energy-by-type", lake, start=D(2025, 2, 1), end=D(2025, 2, 1)))
    assert sum(r[1] for r in feb) == 2  # 00:00:00 and 08:30 on Feb 1, two files
    jan31 = rows(local.run("energy-by-type", lake, start=D(2025, 1, 31), end=D(2025, 1, 31)))
    assert sum(r[1] for r in jan31) == 1  # 23:59:59 on Jan 31


def test_inner_joins_leave_orphans_out_but_type_totals_keep_them(lake: Path) -> None:
    window = {"start": D(2025, 2, 14), "end": D(2025, 2, 15)}
    # Feb 14-15: an unknown-client sale, an unknown-provider purchase, a sale to a provider id.
    assert rows(athena.top_clients(lake=lake, **window)) == []
    assert rows(athena.provider_performance(lake=lake, **window)) == []
    by_type = rows(athena.energy_sold_by_type(lake=lake, **window))
    assert sum(r[1] for r in by_type) == 2


def test_top_clients_n_and_ties_by_client_id(lake: Path) -> None:
    february = {"start": "2025-02-01", "end": "2025-02-28"}
    top = rows(athena.top_clients(3, lake=lake, **february))
    assert [r[0] for r in top] == ["C3", "C2", "C4"]  # C2 and C4 tie on 200 kWh
    assert_same(top, expected("top-clients", lake, D(2025, 2, 1), D(2025, 2, 28), n=3))


def test_provider_performance_uses_the_providers_energy_type(lake: Path) -> None:
    result = rows(athena.provider_performance(lake=lake, start="2025-02-05", end="2025-02-05"))
    assert [(r[0], r[2]) for r in result] == [("P3", "gas")]  # the purchase said hydro


def test_a_one_month_query_reads_only_that_months_files(lake: Path) -> None:
    full = local.scan_stats("energy-by-type", lake)
    february = local.scan_stats("energy-by-type", lake, start=D(2025, 2, 1), end=D(2025, 2, 28))
    feb_files = list(
        (lake / "curated" / "transactions" / "year=2025" / "month=2").rglob("*.parquet")
    )
    assert full.fact_files_read == full.fact_files_total == 13
    assert february.fact_files_read == len(feb_files) == 8
    assert february.bytes_read < full.bytes_read
    one_day = local.scan_stats("top-clients", lake, start=D(2025, 2, 1), end=D(2025, 2, 1))
    assert one_day.fact_files_read == 2  # the day's two files


def test_a_lake_without_a_curated_zone_is_a_lake_error(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="no curated zone"):
        local.run("energy-by-type", tmp_path)


def test_missing_datasets_read_as_empty_tables(tmp_path: Path) -> None:
    build_lake(tmp_path, TRANSACTIONS[:1])
    shutil.rmtree(tmp_path / "curated" / "clients")
    assert local.run("top-clients", tmp_path).empty
    shutil.rmtree(tmp_path / "curated" / "transactions")
    frame = local.run("monthly-price-trend", tmp_path)
    assert frame.empty and frame.columns[0] == "month"


def test_timestamps_are_read_as_utc_whatever_the_process_time_zone(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Lima")
    time.tzset()
    try:
        jan31 = rows(
            local.run("monthly-price-trend", lake, start=D(2025, 1, 31), end=D(2025, 1, 31))
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [(r[0], r[2]) for r in jan31] == [(D(2025, 1, 1), 1)]


def test_the_api_rejects_two_backends_and_bad_dates(lake: Path) -> None:
    with pytest.raises(athena.ArgumentError, match="one backend"):
        athena.energy_sold_by_type(lake=lake, athena=True)
    with pytest.raises(athena.ArgumentError, match="YYYY-MM-DD"):
        athena.energy_sold_by_type("2025/01/01", lake=lake)
    with pytest.raises(athena.ArgumentError, match="> 0"):
        athena.top_clients(0, lake=lake)


def test_the_default_lake_comes_from_the_environment(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENERGY_LAKE_DIR", str(lake))
    assert not athena.monthly_price_trend().empty


def test_transaction_date_decides_the_range_partitions_only_prune(tmp_path: Path) -> None:
    # A row filed under the wrong day (Jan 31) with Feb 1 00:00:00 UTC: a range ending Jan 31
    # must not count it, although its folder is in range.
    from athena_lake_fixture import _records, _write

    from energy_lake import contract

    build_lake(tmp_path, TRANSACTIONS[:1])
    stray = list(TRANSACTIONS[2])  # T03, a sale at 2025-02-01 00:00:00
    folder = tmp_path / "curated" / "transactions" / "year=2025" / "month=1" / "day=31"
    _write(
        folder / "stray.parquet",
        contract.TRANSACTIONS,
        _records(contract.TRANSACTIONS, [tuple(stray)]),
    )
    assert local.run("energy-by-type", tmp_path, end=D(2025, 1, 31)).empty
    assert len(local.run("energy-by-type", tmp_path, start=D(2025, 1, 31), end=D(2025, 2, 1))) == 1
