"""The benchmark's pure half and its measuring: medians, ratios, targets, table, JSON, files."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from energy_lake import bench

MIB = 1 << 20


def _runs(*pairs: tuple[float, int]) -> list[dict]:
    return [{"seconds": s, "peak_rss": r, "peak_memory": r} for s, r in pairs]


def _zone(max_files: int = 1, small: int = 0) -> dict:
    return {
        "files": 10,
        "bytes": 50 * MIB,
        "avg_file_bytes": 5 * MIB,
        "partitions": 10,
        "max_files_per_partition": max_files,
        "small_files": small,
    }


def _raw(**overrides) -> dict:
    raw = {
        "rows": 1000,
        "days": 30,
        "runs": 3,
        "seed": 42,
        "csv_rows": 1_050,
        "csv_bytes": 2_000_000,
        "incremental_rows": 40,
        "incremental_csv_bytes": 80_000,
        "incremental_no_corrections_rows": 38,
        "incremental_no_corrections_csv_bytes": 76_000,
        "cpus": 2,
        "month": {"start": "2025-01-01", "end": "2025-01-31"},
        "zones": {"pipeline": {"processed": _zone(), "curated": _zone()}},
        "queries": [
            {
                "analysis": "a",
                "range": "full",
                "seconds": 1.0,
                "files_read": 30,
                "files_total": 30,
                "bytes_read": 3000,
            },
            {
                "analysis": "a",
                "range": "month",
                "seconds": 0.1,
                "files_read": 2,
                "files_total": 30,
                "bytes_read": 150,
            },
        ],
        "job_timings": {"raw_to_processed": {"transactions.parse_validate": 7.5}},
        "incremental_no_corrections_job_timings": {"processed_to_curated": {"orphans": 0.7}},
        "measured": {
            "spark_startup": _runs((5, 100 * MIB), (7, 100 * MIB), (6, 100 * MIB)),
            # Per run: pipeline 30+10=40, 20+10=30, 50+10=60 ; reference 10, 10, 12
            "raw_to_processed": [
                {"seconds": 30, "peak_rss": 2 * MIB, "peak_memory": 2 * MIB},
                {
                    "seconds": 20,
                    "peak_rss": 5000 * MIB,  # a forked JVM child counted twice
                    "peak_memory": 3000 * MIB,
                    "peak_by_process": {"java": 2800 * MIB, "Executor task": 2200 * MIB},
                },
                {"seconds": 50, "peak_rss": 2 * MIB, "peak_memory": 2 * MIB},
            ],
            "processed_to_curated": _runs((10, MIB), (10, MIB), (10, MIB)),
            "duckdb_processed": _runs((8, MIB), (8, MIB), (9, MIB)),
            "duckdb_curated": _runs((2, MIB), (2, MIB), (3, MIB)),
            "incremental": _runs((3, MIB), (4, MIB), (5, MIB)),
            "incremental_no_corrections": _runs((2, MIB), (1, MIB), (2, MIB)),
        },
    }
    raw.update(overrides)
    return raw


def test_summary_takes_medians_and_ratios_within_each_run():
    steps = bench.summarize(_raw())["steps"]
    assert steps["spark_startup"]["seconds"] == 6
    assert steps["pipeline"]["runs"] == [40, 30, 60]
    assert steps["pipeline"]["seconds"] == 40
    assert steps["duckdb"]["runs"] == [10, 10, 12]
    assert steps["pipeline"]["vs_duckdb_runs"] == [4.0, 3.0, 5.0]
    assert steps["pipeline"]["vs_duckdb"] == 4.0
    assert steps["pipeline"]["peak_rss"] == 5000 * MIB  # the largest of any run
    assert steps["pipeline"]["peak_memory"] == 3000 * MIB
    assert steps["pipeline"]["rows_per_s"] == round(1050 / 40)
    assert steps["pipeline"]["csv_mb_per_s"] == 0.05
    assert steps["raw_to_processed"]["vs_duckdb"] == round(30 / 8, 2)
    assert steps["incremental"]["share_of_full"] == 0.1
    assert steps["incremental"]["rows_per_s"] == 10
    assert steps["incremental_no_corrections"]["share_of_full"] == 0.05
    assert steps["incremental_no_corrections"]["rows_per_s"] == 19


def test_targets_say_met_missed_or_not_measured():
    result = bench.summarize(_raw())
    targets = {t["target"]: t for t in result["targets"]}
    assert targets["pipeline_vs_duckdb"]["met"] is True  # exactly 4x is within "<= 4x"
    assert targets["peak_memory_gib"]["measured"] == round(
        3000 / 1024, 2
    )  # forks before exec left out
    assert targets["peak_memory_gib"]["met"] is True
    assert targets["incremental_share"]["met"] is True
    assert targets["month_bytes_share"]["measured"] == 0.05
    assert targets["month_bytes_share"]["met"] is True
    assert targets["max_files_per_partition"]["met"] is True
    assert targets["small_files"]["met"] is True

    worse = _raw(zones={"pipeline": {"processed": _zone(3, 2), "curated": _zone()}}, queries=[])
    worse["measured"]["incremental"] = _runs((9, MIB))
    targets = {t["target"]: t for t in bench.summarize(worse)["targets"]}
    assert targets["max_files_per_partition"] == {
        **targets["max_files_per_partition"],
        "measured": 3,
        "met": False,
    }
    assert targets["small_files"]["met"] is False
    assert targets["incremental_share"]["met"] is False
    assert targets["month_bytes_share"]["met"] is None


def test_table_and_json_carry_the_numbers(tmp_path):
    result = bench.summarize(_raw())
    text = bench.render(result)
    lines = text.splitlines()
    pipeline = next(line for line in lines if line.startswith("pipeline (both jobs)"))
    assert "40.00" in pipeline
    assert "4.00x" in pipeline
    assert "5,000.0 MiB" in pipeline
    assert "3,000.0 MiB" in pipeline
    assert any(line.startswith("spark start-up alone") and "6.00" in line for line in lines)
    assert "by process: java 2.7 GiB, Executor task 2.1 GiB" in text
    assert any("10.0% of full" in line for line in lines)
    assert any("no corrections" in line and "5.0% of full" in line for line in lines)
    assert any(line.startswith("a") and "2/30" in line and "5.0%" in line for line in lines)
    assert any("raw_to_processed: transactions.parse_validate" in line for line in lines)
    assert "slowest steps of the same day, no corrections" in text
    assert any("processed_to_curated: orphans" in line and "0.7" in line for line in lines)
    assert "MISSED" not in text

    path = bench.write_result(result, tmp_path / "out")
    assert path == tmp_path / "out" / "bench-1000.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))


def test_a_missed_target_is_loud_in_the_table():
    raw = _raw()
    raw["measured"]["duckdb_processed"] = _runs((1, MIB), (1, MIB), (1, MIB))
    text = bench.render(bench.summarize(raw))
    assert any(
        line.startswith("full pipeline / DuckDB") and "MISSED" in line for line in text.splitlines()
    )


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_zone_stats_counts_files_per_partition_and_small_files(tmp_path):
    zone = tmp_path / "curated"
    version = zone / "_versions" / "transactions" / "run-2"
    _write(version / "year=2025/month=1/day=1/a.parquet", 2 * MIB)
    _write(version / "year=2025/month=1/day=1/b.parquet", MIB // 2)  # small in a big partition
    _write(version / "year=2025/month=1/day=2/a.parquet", MIB // 4)  # small, partition small too
    _write(zone / "_versions" / "transactions" / "run-1" / "year=2025/month=1/day=1/old.parquet", 9)
    (zone / "transactions").symlink_to("_versions/transactions/run-2", target_is_directory=True)
    _write(zone / "clients" / "part-0.parquet", 100)
    _write(zone / "clients" / ".part-0.parquet.crc", 10)
    _write(zone / "_state" / "clients.json", 10)

    stats = bench.zone_stats(zone)

    assert stats == {
        "files": 4,
        "bytes": 2 * MIB + MIB // 2 + MIB // 4 + 100,
        "avg_file_bytes": round((2 * MIB + MIB // 2 + MIB // 4 + 100) / 4),
        "partitions": 3,
        "max_files_per_partition": 2,
        "small_files": 1,
    }
    assert bench.zone_stats(tmp_path / "missing")["files"] == 0


def test_the_query_month_lies_inside_the_loaded_days():
    assert bench.analysis_month(730) == (date(2026, 1, 1), date(2026, 1, 31))
    assert bench.analysis_month(40) == (date(2025, 1, 1), date(2025, 1, 31))
    assert bench.analysis_month(10) == (date(2025, 1, 1), date(2025, 1, 10))


def test_measure_sums_the_rss_of_the_whole_process_tree(tmp_path):
    grandchild = "b = bytearray(300 * 1024 * 1024); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    measured = bench.measure([sys.executable, "-c", child], tmp_path / "tree.log")
    assert measured.peak_rss > 300 * MIB
    assert measured.peak_rss == sum(measured.peak_by_process.values())
    assert measured.peak_memory == measured.peak_rss  # nothing forked without an exec
    assert max(measured.peak_by_process.values()) > 300 * MIB  # the grandchild's own RSS
    assert 1.5 <= measured.seconds < 30


def test_a_failing_step_names_its_log(tmp_path):
    log = tmp_path / "fail.log"
    with pytest.raises(bench.BenchError, match="exited with 3") as error:
        bench.measure([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], log)
    assert str(log) in str(error.value)
    assert "boom" in str(error.value)


def test_bench_is_a_subcommand_of_energy_lake():
    from energy_lake.cli import build_parser

    args = build_parser().parse_args(["bench", "--rows", "5000", "--days", "10"])
    assert (args.rows, args.runs, args.days, args.out) == (5000, 3, 10, Path("bench-results"))
    assert args.func is bench.bench_command
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--rows", "0"])


def test_job_timings_sum_the_reports_not_skipped(tmp_path):
    def report(job: str, run: str, timings: dict) -> Path:
        path = tmp_path / "reports" / job / f"{run}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"job": job, "timings": timings}))
        return path

    full = report("raw_to_processed", "r1", {"transactions.total": 10.0})
    report("raw_to_processed", "r2", {"transactions.total": 1.5, "clients.total": 0.5})
    report("processed_to_curated", "r3", {"orphans": 2.0})

    assert bench.job_timings(tmp_path) == {
        "raw_to_processed": {"transactions.total": 11.5, "clients.total": 0.5},
        "processed_to_curated": {"orphans": 2.0},
    }
    assert bench.job_timings(tmp_path, {full}) == {
        "raw_to_processed": {"transactions.total": 1.5, "clients.total": 0.5},
        "processed_to_curated": {"orphans": 2.0},
    }


def test_a_fork_not_yet_execed_is_not_counted_twice(tmp_path):
    # A forked child shows its parent's pages in its RSS until it execs (a JVM forking `chmod`).
    script = (
        "import os, time; b = b'x' * (300 * 1024 * 1024); pid = os.fork(); time.sleep(2); "
        "os._exit(0) if pid == 0 else os.waitpid(pid, 0)"
    )
    measured = bench.measure([sys.executable, "-c", script], tmp_path / "fork.log")
    assert measured.peak_rss > 550 * MIB
    assert 300 * MIB < measured.peak_memory < 0.75 * measured.peak_rss


def test_the_no_corrections_day_leaves_out_only_keys_the_lake_holds(tmp_path):
    import duckdb

    day = tmp_path / "curated" / "transactions" / "year=2025" / "month=1" / "day=1"
    day.mkdir(parents=True)
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES ('TX1'), ('TX2')) AS t(transaction_id)) "
        f"TO '{day / 'part-0.parquet'}' (FORMAT parquet)"
    )
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    facts = incoming / "transactions_20250102.csv"
    facts.write_bytes(
        b"\xef\xbb\xbftransaction_date,transaction_id,quantity_kwh\r\n"
        b"2025-01-02,TX1,1.5\r\n"  # corrects TX1: left out
        b"2025-01-02,TX3,2.0\r\n"  # new: kept
        b'2025-01-02," TX2 ",3.0\r\n'  # TX2 again, padded: left out
        b"2025-01-02\r\n"  # malformed, no key: kept as it is
        b"2025-01-02,TX3,2.0\r\n"  # repeats a key of this load only: kept
    )
    clients = incoming / "clients_20250102.csv"
    clients.write_bytes(b"client_id\nC1\n")

    files, left_out = bench.without_corrections([clients, facts], tmp_path, tmp_path / "out")

    assert left_out == 2
    assert files == [clients, tmp_path / "out" / facts.name]
    assert files[1].read_bytes() == (
        b"\xef\xbb\xbftransaction_date,transaction_id,quantity_kwh\r\n"
        b"2025-01-02,TX3,2.0\r\n"
        b"2025-01-02\r\n"
        b"2025-01-02,TX3,2.0\r\n"
    )

    facts.write_bytes(b"id,quantity_kwh\r\nTX1,1.5\r\n")
    with pytest.raises(bench.BenchError, match="no transaction_id column"):
        bench.without_corrections([facts], tmp_path, tmp_path / "out")
