"""Crashes and concurrent runs: nothing lost, nothing doubled, readers never see a mix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from energy_lake import contract as c
from energy_lake.generate import MANIFEST, generate
from energy_lake.layout import LOCKS, Lake
from glue_jobs import publish
from glue_jobs import raw_to_processed as r2p
from glue_jobs.lock import LakeLockedError, lake_lock
from tests.core.lakes import (
    keys,
    land,
    processed_files,
    processed_rows,
    run,
    snapshot,
    table,
    two_loads,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]
SIZE = {"transactions": 1200, "clients": 60, "providers": 10}


def rows(lake: Path, zone: str, dataset: str) -> list[tuple]:
    return sorted(
        tuple(str(v) for k, v in sorted(r.items()) if k != "ingested_at")
        for r in table(lake, zone, dataset)
    )


def two_stage_sources(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """Three loads, then a fourth: same seed, so the first three files are identical."""
    generate(tmp_path / "first", days=3, **{**SIZE, "transactions": 900})
    generate(tmp_path / "second", days=4, **SIZE)
    return sorted((tmp_path / "first").glob("*.csv")), sorted((tmp_path / "second").glob("*.csv"))


def curated_with_a_processed_load_pending(tmp_path: Path) -> tuple[Path, list[tuple], list[Path]]:
    """A lake whose fourth load is processed but not yet merged into curated.

    Returns the lake, the curated rows before the merge, and the four loads' source files.
    """
    first, second = two_stage_sources(tmp_path)
    lake = tmp_path / "lake"
    land(lake, first)
    run(lake)
    before = rows(lake, "curated", "transactions")
    land(lake, second)
    run(lake, "raw_to_processed")
    return lake, before, second


def test_crash_between_write_and_publish_leaves_the_old_state(spark, tmp_path, monkeypatch):
    lake, before, _ = curated_with_a_processed_load_pending(tmp_path)

    def crash(version):
        raise RuntimeError("injected fault: killed between the write and its publish")

    monkeypatch.setattr(publish, "publish", crash)
    with pytest.raises(RuntimeError, match="injected fault"):
        run(lake, "processed_to_curated")
    assert rows(lake, "curated", "transactions") == before  # readers still see the old state

    monkeypatch.undo()
    (report,) = run(lake, "processed_to_curated")
    assert report["datasets"]["transactions"]["mode"] == "incremental"
    manifest = json.loads((tmp_path / "second" / MANIFEST).read_text())
    curated = keys(lake, c.TRANSACTIONS)
    assert (
        len(curated)
        == len(set(curated))
        == manifest["datasets"]["transactions"]["expected_curated"]
    )
    versions = lake / "curated" / publish.VERSIONS / "transactions"
    assert len(list(versions.iterdir())) <= publish.KEEP_VERSIONS  # the dead run's folder is gone


def test_crash_before_the_load_marker_reprocesses_without_doubling(spark, tmp_path, monkeypatch):
    first, _ = two_stage_sources(tmp_path)
    lake = tmp_path / "lake"
    land(lake, first)

    def crash(*args, **kwargs):
        raise RuntimeError("injected fault: killed after writing, before the load marker")

    monkeypatch.setattr(r2p, "_rows_in", crash)
    with pytest.raises(RuntimeError, match="injected fault"):
        run(lake, "raw_to_processed")
    assert not (lake / "processed" / "_loads").exists()  # no load is marked done
    monkeypatch.undo()
    report, _ = run(lake)
    manifest = json.loads((tmp_path / "first" / MANIFEST).read_text())["datasets"]
    for name, expected in manifest.items():
        assert len(table(lake, "processed", name)) == expected["expected_processed"], name
        assert len(table(lake, "rejected", name)) == expected["expected_rejected"], name
        assert all(load["conserved"] for load in report["datasets"][name]["loads"].values())


def _spawn(lake: Path, job: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "energy_lake.cli", "run", "--lake", str(lake), "--job", job],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so the kill takes the Spark JVM down with it
    )


def _kill_when(process: subprocess.Popen, ready, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if ready():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.05)
    return False


def test_a_real_kill_mid_run_loses_and_doubles_nothing(spark, tmp_path):
    lake, before, second = curated_with_a_processed_load_pending(tmp_path)

    versions = lake / "curated" / publish.VERSIONS / "transactions"
    published = {p.name for p in versions.iterdir()}
    process = _spawn(lake, "processed_to_curated")
    # Kill as soon as the new version folder exists: Spark is writing, nothing is published.
    killed = _kill_when(process, lambda: {p.name for p in versions.iterdir()} - published)
    assert killed, process.communicate()
    assert rows(lake, "curated", "transactions") == before

    # The next run takes over the dead run's lock and completes the work.
    (report,) = run(lake, "processed_to_curated")
    assert report["lock"]["took_over_stale_lock_of"]["job"] == "processed_to_curated"
    rebuilt = tmp_path / "rebuilt"
    land(rebuilt, second)
    run(rebuilt)
    assert rows(lake, "curated", "transactions") == rows(rebuilt, "curated", "transactions")


def test_a_second_run_refuses_to_start_while_the_lake_is_locked(spark, tmp_path):
    lake = tmp_path / "lake"
    land(lake, two_stage_sources(tmp_path)[0][:1])
    with lake_lock(Lake.local(lake), "processed_to_curated", "run-A"):
        zones = ("raw", "processed", "curated", "rejected")
        before = {zone: snapshot(lake / zone) for zone in zones}
        with pytest.raises(LakeLockedError) as refused:
            run(lake, "raw_to_processed")
        assert {zone: snapshot(lake / zone) for zone in zones} == before  # no data written
    (report,) = [json.loads(p.read_text()) for p in (lake / "reports").rglob("*.json")]
    assert report["status"] == "failed" and "LakeLockedError" in report["problems"][0]
    message = str(refused.value)
    assert "locked by processed_to_curated run run-A" in message
    assert f"pid {os.getpid()}" in message and " s ago" in message


def test_a_concurrent_process_is_refused_with_exit_code_1(spark, tmp_path):
    lake = tmp_path / "lake"
    land(lake, two_stage_sources(tmp_path)[0])
    with lake_lock(Lake.local(lake), "raw_to_processed", "run-B"):
        process = _spawn(lake, "all")
        _, err = process.communicate(timeout=240)
    assert process.returncode == 1
    assert "refused to start: the lake is locked by raw_to_processed run run-B" in err
    assert not (lake / "processed" / c.TRANSACTIONS.name).exists()
    assert (lake / "processed" / LOCKS).is_dir()


def test_a_crash_inside_the_commit_of_a_day_rewrite_is_repaired_from_raw(spark, tmp_path):
    lake = tmp_path / "lake"
    two_loads(tmp_path / "src", lake)
    run(lake, "raw_to_processed")
    before = processed_rows(lake)
    root = lake / "processed" / "transactions"
    # What a run re-processing load 2 leaves when it dies inside the commit of its rewrite: day 2
    # deleted but its new folder not yet moved in (load 1's T1 is gone with it), and a file of
    # its own rows left in a day no marker knows.
    shutil.rmtree(root / "year=2025/month=1/day=2")
    (stray := root / "year=2025/month=1/day=9").mkdir()
    shutil.copy(next((root / "year=2025/month=1/day=3").glob("*.parquet")), stray)
    intent = lake / "processed" / "_intents" / "transactions.json"
    intent.parent.mkdir(exist_ok=True)  # left by the first run
    days = ["2025-01-02", "2025-01-03", "2025-01-09"]
    intent.write_text(json.dumps({"run_id": "dead", "loads": ["2025-01-03"], "days": days}))

    (report,) = run(lake, "raw_to_processed")
    # load 1 had rows in a day the dead run was rewriting: it is re-processed from raw too
    assert sorted(report["datasets"]["transactions"]["loads"]) == ["2025-01-02", "2025-01-03"]
    assert processed_rows(lake) == before
    assert not stray.exists() and not intent.exists()
    assert set(processed_files(lake).values()) == {1}
