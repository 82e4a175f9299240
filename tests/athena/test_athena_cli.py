"""`energy-lake query` and `print_analyses` over the fixture lake: formats, errors, exit codes."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from athena_lake_fixture import expected

from athena import cli, queries


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_is_exact_and_parses_back_to_the_results(lake: Path, capsys) -> None:
    code, out, _ = run(["query", "top-clients", "--lake", str(lake), "--format", "csv"], capsys)
    assert code == 0
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header == [c.name for c in queries.analysis("top-clients").output_columns]
    want = expected("top-clients", lake)
    assert [r[0] for r in rows] == [w[0] for w in want]
    assert [Decimal(r[4]) for r in rows] == [w[4] for w in want]
    assert rows[0][1] == "Acme, S.A."  # a comma inside a value survives


def test_json_keeps_decimals_exact_and_dates_iso(lake: Path, capsys) -> None:
    argv = ["query", "monthly-price-trend", "--lake", str(lake), "--format", "json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    records = json.loads(out, parse_float=Decimal)
    want = expected("monthly-price-trend", lake)
    assert [r["month"] for r in records] == [w[0].isoformat() for w in want]
    assert [r["total_kwh"] for r in records] == [w[3] for w in want]
    assert [float(r["avg_price_per_kwh"]) for r in records] == [w[6] for w in want]


def test_the_table_is_aligned_for_humans(lake: Path, capsys) -> None:
    feb = ["--start", "2025-02-01", "--end", "2025-02-28"]
    argv = ["query", "provider-performance", "--lake", str(lake), *feb]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        c.name for c in queries.analysis("provider-performance").output_columns
    ]
    assert set(lines[1]) == {"-", " "}
    widths = {len(line) for line in lines[:2]}
    assert len(widths) == 1  # header and rule line up
    assert [line.split()[0] for line in lines[2:]] == ["P2", "P3"]  # tie: by provider_id
    assert lines[2].endswith("0.040000")  # numbers right-aligned, floats to 6 places


def test_an_empty_range_prints_the_header_and_no_rows(lake: Path, capsys) -> None:
    argv = ["query", "energy-by-type", "--lake", str(lake), "--start", "2030-01-01"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and out.splitlines()[-1] == "(no rows)"
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert json.loads(out) == []


def test_limit_applies_to_any_analysis(lake: Path, capsys) -> None:
    argv = ["query", "energy-by-type", "--lake", str(lake), "--limit", "2", "--format", "csv"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and len(out.splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "revenue"], "unknown analysis 'revenue'"),
        (["query", "top-clients", "--start", "2025-02-02", "--end", "2025-02-01"], "before start"),
        (["query", "top-clients", "--limit", "0"], "> 0"),
        (["query", "top-clients", "--limit", "-3"], "> 0"),
        (["query", "top-clients", "--limit", "ten"], "> 0"),
        (["query", "top-clients", "--start", "2025-13-01"], "YYYY-MM-DD"),
        (["query", "top-clients", "--end", ""], "YYYY-MM-DD"),
        (["query", "top-clients", "--format", "xml"], "--format"),
        (["query", "top-clients", "--workgroup", "wg"], "needs --athena"),
        (["query", "top-clients", "--athena", "--profile"], "--profile"),
        (["query", "top-clients", "--athena", "--lake", "x"], "not both"),
        (["query", "top-clients", "--athena", "--database", "Bad-Name"], "Glue database name"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_code_2(
    lake: Path, capsys, args: list[str], message: str
) -> None:
    argv = args if "--athena" in args else [*args, "--lake", str(lake)]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("energy-lake query: error:")


def test_a_lake_without_a_curated_zone_is_exit_code_2(tmp_path: Path, capsys) -> None:
    code, _, err = run(["query", "energy-by-type", "--lake", str(tmp_path)], capsys)
    assert code == 2 and "no curated zone" in err and err.count("\n") == 1


def test_the_console_script_shows_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "athena.cli", "query", "top-clients", "--lake", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_profile_reports_files_read_for_a_month_and_in_full(lake: Path, capsys) -> None:
    month = ["--start", "2025-02-01", "--end", "2025-02-28"]
    _, _, err = run(["query", "energy-by-type", "--lake", str(lake), "--profile", *month], capsys)
    assert "read 8 of 13 transactions files" in err
    _, _, err = run(["query", "energy-by-type", "--lake", str(lake), "--profile"], capsys)
    assert "read 13 of 13 transactions files" in err


def test_print_analyses_prints_the_four_tables(lake: Path) -> None:
    out = io.StringIO()
    cli.print_analyses(str(lake), out=out)
    text = out.getvalue()
    for analysis in queries.analyses():
        assert f"== {analysis.title} ({analysis.name}) ==" in text
    assert "Acme, S.A." in text and "Viento Sur" in text
    assert "more rows" not in text
    short = io.StringIO()
    cli.print_analyses(str(lake), out=short, max_rows=2)
    assert (
        f"... 5 more rows: energy-lake query monthly-price-trend --lake {lake}" in short.getvalue()
    )


def test_register_adds_both_commands_to_a_main_parser(lake: Path, capsys) -> None:
    parser = argparse.ArgumentParser(prog="energy-lake")
    subparsers = parser.add_subparsers(dest="command")
    subparsers.add_parser("demo")  # the lead's own commands live alongside
    cli.register(subparsers)
    args = parser.parse_args(["query", "energy-by-type", "--lake", str(lake)])
    assert args.func(args) == 0
    args = parser.parse_args(["athena", "create-views", "--print-sql", "--env", "prod"])
    assert args.func(args) == 0
    assert "energy_lake_prod_curated.energy_by_type" in capsys.readouterr().out


def test_print_sql_shows_the_athena_sql_and_its_parameters_without_running(capsys) -> None:
    argv = ["query", "top-clients", "--lake", "/nonexistent", "--start", "2025-02-01"]
    code, out, _ = run([*argv, "--end", "2025-02-28", "--limit", "3", "--print-sql"], capsys)
    assert code == 0
    assert "ExecutionParameters, in order: ['2025', '2025', '2', '1'," in out
    assert "(t.year, t.month, t.day) >= (?, ?, ?)" in out and "LIMIT 3;" in out
