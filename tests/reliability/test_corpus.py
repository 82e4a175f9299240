"""The hostile-input corpus through the real pipeline: one lake, one run, every case checked.

Every corpus case is landed as its own load (or refused at ingest), next to two days of
generated data; `energy-lake run` processes them all once, with stdout/stderr captured at the
file-descriptor level (the JVM's too). Each case then checks its exact outcome in the run
report and in the processed, rejected and curated zones (read with DuckDB, not Spark).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from energy_lake import contract as c
from energy_lake.cli import main as cli_main
from energy_lake.generate import generate
from energy_lake.ingest import IngestError, ingest_file
from glue_jobs.sources import HEADER_BYTES
from tests.core.lakes import snapshot, table
from tests.reliability.corpus import CASES, FILLER, Bad, Case, Ok, load_date, pii_values

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
GENERATED = {"days": 2, "transactions": 400, "clients": 30, "providers": 6, "seed": 7}
# What a leaked AWS credential looks like, plus the planted values of this run.
PLANTED_KEY_ID = "AKIAPLANTEDTESTKEY01"
PLANTED_SECRET = "pLaNtEdSeCrEt/0123456789abcdefghijKLMNOP"
CREDENTIAL = re.compile(
    r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|aws_secret_access_key|BEGIN [A-Z ]*PRIVATE"
)


@dataclass
class CorpusRun:
    lake: Path
    raw_report: dict
    curated_report: dict
    output: str  # everything written to stdout, stderr and logging during ingest and the run
    exit_code: int
    refusals: dict[str, str]  # case name -> ingest error message
    processed: dict[str, list[dict]]
    rejected: dict[str, list[dict]]
    curated: dict[str, list[dict]]
    outside_before: dict[str, str]
    outside_after: dict[str, str]
    generated_pii: set[str]
    manifest: dict


@contextlib.contextmanager
def captured_output():
    """Everything written to fds 1 and 2 (Python and the JVM) and to logging, as one text."""
    sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally, after the yield
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(handler)
    saved = [os.dup(1), os.dup(2)]
    result: list[str] = []
    try:
        for fd in (1, 2):
            os.dup2(sink.fileno(), fd)
        with (
            contextlib.redirect_stdout(io.StringIO()) as out,
            contextlib.redirect_stderr(io.StringIO()) as err,
        ):
            yield result
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        logging.getLogger().removeHandler(handler)
        sink.seek(0)
        result.append(sink.read().decode("utf-8", "replace"))
        result.append(out.getvalue() + err.getvalue() + handler.stream.getvalue())
        sink.close()


def _land(root: Path, incoming: Path, case: Case) -> str | None:
    folder = incoming / case.name
    folder.mkdir(parents=True)
    path = folder / case.source_name
    path.write_bytes(case.body)
    try:
        ingest_file(
            str(root), path, dataset=case.land_as or case.dataset.name, ingest_date=load_date(case)
        )
    except IngestError as error:
        return str(error)
    return None


def _by_zone(root: Path, zone: str) -> dict[str, list[dict]]:
    return {name: table(root, zone, name) for name in c.DATASETS}


@pytest.fixture(scope="module")
def corpus(spark, tmp_path_factory, reliability_stats) -> CorpusRun:
    base = tmp_path_factory.mktemp("corpus")
    root, incoming = base / "lake", base / "incoming"
    outside_before = snapshot(base)
    generated = incoming / "generated"
    manifest = generate(generated, **GENERATED)
    planted = {"AWS_ACCESS_KEY_ID": PLANTED_KEY_ID, "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET}
    saved_env = {k: os.environ.get(k) for k in planted}
    os.environ.update(planted)
    try:
        with captured_output() as output:
            refusals = {}
            for case in CASES:
                message = _land(root, incoming, case)
                if message is not None:
                    refusals[case.name] = message
            for path in sorted(generated.glob("*.csv")):
                ingest_file(str(root), path)
            exit_code = cli_main(["run", "--lake", str(root)])
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    reports = {}
    for path in sorted((root / "reports").rglob("*.json")):
        report = json.loads(path.read_text())
        reports[report["job"]] = report
    outside_after = {
        k: v for k, v in snapshot(base).items() if not k.startswith(("lake/", "incoming/"))
    }
    pii = set()
    for path in generated.glob("clients_*.csv"):
        for record in csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))):
            pii.update(record[column] for column in c.CLIENTS.pii_columns)
    run = CorpusRun(
        lake=root,
        raw_report=reports["raw_to_processed"],
        curated_report=reports["processed_to_curated"],
        output="".join(output),
        exit_code=exit_code,
        refusals=refusals,
        processed=_by_zone(root, "processed"),
        rejected=_by_zone(root, "rejected"),
        curated=_by_zone(root, "curated"),
        outside_before=outside_before,
        outside_after=outside_after,
        generated_pii=pii,
        manifest=manifest,
    )
    reliability_stats.update(_totals(run))
    return run


def _totals(run: CorpusRun) -> dict[str, int]:
    loads = [
        load for data in run.raw_report["datasets"].values() for load in data["loads"].values()
    ]
    rows_in = sum(load["rows_read"] for load in loads)
    rows_out = sum(len(rows) for rows in run.processed.values())
    rejected = sum(len(rows) for rows in run.rejected.values())
    return {
        "cases tried": len(CASES),
        "files rejected whole": sum(
            len(d["files_rejected"]) for d in run.raw_report["datasets"].values()
        ),
        "rows in": rows_in,
        "rows out": rows_out,
        "rows rejected": rejected,
        "lost rows": rows_in - rows_out - rejected,
    }


def _day(value) -> str:
    return str(value)[:10]


def _utc(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _load(run: CorpusRun, case: Case) -> dict:
    return run.raw_report["datasets"][case.dataset.name]["loads"][load_date(case)]


def _rows(rows: list[dict], case: Case) -> dict[int, dict]:
    mine = [r for r in rows if _day(r[c.LOAD_COLUMN]) == load_date(case)]
    assert all(r["source_file"] == case.source_name for r in mine)
    by_row = {r["source_row"]: r for r in mine}
    assert len(by_row) == len(mine), "source_row must identify a record"
    return by_row


FILE_CASES = [k for k in CASES if k.file is not None]
ROW_CASES = [k for k in CASES if k.file is None and k.refused is None]
REFUSED_CASES = [k for k in CASES if k.refused is not None]


def test_the_corpus_is_big_enough_and_generated_as_intended():
    assert len(CASES) >= 30
    late = next(k for k in CASES if k.name == "invalid_utf8_past_the_sample")
    assert late.body.index(b"\xff") > HEADER_BYTES and late.body.index(b"\x00") > HEADER_BYTES
    assert len(late.rows) == FILLER + 3


def test_the_reliability_doc_lists_every_case_with_its_reason():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    for case in CASES:
        line = next(ln for ln in doc.splitlines() if f"| `{case.name}` (" in ln)
        expected = case.file.reason if case.file else "refused" if case.refused else case.outcome
        assert expected in line, case.name


def test_the_run_finishes_and_says_files_were_rejected(corpus):
    assert corpus.exit_code == 0
    assert corpus.raw_report["status"] == "succeeded_with_rejected_files"
    assert corpus.curated_report["status"] == "succeeded"
    assert corpus.raw_report["problems"] == [] and corpus.curated_report["problems"] == []


@pytest.mark.parametrize("case", FILE_CASES, ids=[k.name for k in FILE_CASES])
def test_a_file_that_cannot_be_read_is_quarantined_whole_with_its_reason(corpus, case):
    data = corpus.raw_report["datasets"][case.dataset.name]
    (entry,) = [f for f in data["files_rejected"] if f["load"] == load_date(case)]
    assert entry["file"] == case.source_name
    assert entry["reason"] == case.file.reason
    assert case.file.fragment in entry["message"]
    assert len(entry["message"]) < 600  # bounded, whatever the file held
    assert Path(entry["quarantined_to"]).read_bytes() == case.body
    load = _load(corpus, case)
    assert (load["rows_read"], load["rows_processed"], load["rows_rejected"]) == (0, 0, 0)
    assert _rows(corpus.processed[case.dataset.name], case) == {}
    assert _rows(corpus.rejected[case.dataset.name], case) == {}
    assert entry["message"] in corpus.output  # said on stderr too


@pytest.mark.parametrize("case", ROW_CASES, ids=[k.name for k in ROW_CASES])
def test_every_record_has_its_exact_outcome(corpus, case):
    load = _load(corpus, case)
    bad = [r for r in case.rows if isinstance(r, Bad)]
    assert load["files"] == [case.source_name]
    assert load["rows_read"] == len(case.rows)
    assert load["rows_processed"] == len(case.rows) - len(bad)
    assert load["rows_rejected"] == len(bad)
    assert load["rejections"] == dict(Counter(r.key for r in bad))
    assert load["warnings"] == {}
    assert load["conserved"] is True
    processed = _rows(corpus.processed[case.dataset.name], case)
    rejected = _rows(corpus.rejected[case.dataset.name], case)
    assert sorted([*processed, *rejected]) == list(range(1, len(case.rows) + 1))
    for number, expected in enumerate(case.rows, start=1):
        if isinstance(expected, Ok):
            stored = processed[number]
            actual = {k: _utc(stored[k]) for k in expected.values}
            assert actual == dict(expected.values), number
        else:
            stored = rejected[number]
            assert (stored["reason"], stored["column"]) == (expected.reason, expected.column)
            assert stored["errors"][0]["reason"] == expected.reason
    if case.raw_record_holds:
        (first_bad,) = [r for r in rejected.values() if r["raw_record"]]
        assert case.raw_record_holds in first_bad["raw_record"]
    unknown = corpus.raw_report["datasets"][case.dataset.name].get("unknown_columns", {})
    assert unknown.get(case.source_name, []) == list(case.unknown_columns)


@pytest.mark.parametrize("case", REFUSED_CASES, ids=[k.name for k in REFUSED_CASES])
def test_ingest_refuses_the_file_and_writes_nothing(corpus, case):
    assert case.refused.fragment in corpus.refusals[case.name]
    day = load_date(case)
    landed = [p for p in corpus.lake.rglob("*") if f"ingest_date={day}" in str(p)]
    assert landed == []


def test_nothing_is_written_outside_the_lake_and_the_incoming_folder(corpus):
    assert corpus.outside_after == corpus.outside_before == {}
    raw = corpus.lake / "raw"
    for path in raw.rglob("*"):
        assert path.resolve().is_relative_to(raw.resolve())
    assert set(corpus.refusals) == {k.name for k in REFUSED_CASES}


def test_curated_holds_the_latest_version_of_each_key(corpus):
    fact = c.TRANSACTIONS
    processed = corpus.processed[fact.name]
    winners: dict[str, dict] = {}  # the oracle: replay processed in lineage order
    for row in sorted(
        processed, key=lambda r: (_day(r[c.LOAD_COLUMN]), r["source_file"], r["source_row"])
    ):
        winners[row[fact.business_key]] = row
    curated = corpus.curated[fact.name]
    by_key = {r[fact.business_key]: r for r in curated}
    assert len(by_key) == len(curated)  # one row per key
    assert by_key.keys() == winners.keys()
    for key, row in by_key.items():
        lineage = (_day(row[c.LOAD_COLUMN]), row["source_file"], row["source_row"])
        winner = winners[key]
        assert lineage == (_day(winner[c.LOAD_COLUMN]), winner["source_file"], winner["source_row"])
    for case in CASES:
        for key, values in case.curated.items():
            assert {k: by_key[key][k] for k in values} == dict(values), key
    same = sum(
        1
        for r in processed
        if r is not winners[r[fact.business_key]]
        and all(r[n] == winners[r[fact.business_key]][n] for n in fact.source_header)
    )
    summary = corpus.curated_report["datasets"][fact.name]
    assert (summary.get("rows_written"), summary.get("exact_duplicates", 0)) == (len(winners), same)
    assert summary.get("superseded", 0) == len(processed) - len(winners) - same


def test_generated_loads_are_counted_as_the_manifest_says(corpus):
    for name, expected in corpus.manifest["files"].items():
        dataset, day = name[:-4].rsplit("_", 1)
        load = corpus.raw_report["datasets"][dataset]["loads"][f"{day[:4]}-{day[4:6]}-{day[6:]}"]
        assert (load["rows_read"], load["rows_processed"], load["rows_rejected"]) == (
            expected["rows"],
            expected["expected_processed"],
            expected["expected_rejected"],
        )
        assert load["rejections"] == expected["rejections"]


def test_rows_read_equal_processed_plus_rejected_everywhere_and_nothing_is_lost(corpus):
    for name, data in corpus.raw_report["datasets"].items():
        for day, load in data["loads"].items():
            assert load["rows_read"] == load["rows_processed"] + load["rows_rejected"], day
            stored = [r for r in corpus.processed[name] if _day(r[c.LOAD_COLUMN]) == day]
            quarantined = [r for r in corpus.rejected[name] if _day(r[c.LOAD_COLUMN]) == day]
            assert (len(stored), len(quarantined)) == (
                load["rows_processed"],
                load["rows_rejected"],
            ), (name, day)
    totals = _totals(corpus)
    assert totals["lost rows"] == 0
    expected_in = sum(len(k.rows) for k in ROW_CASES) + sum(
        f["rows"] for f in corpus.manifest["files"].values()
    )
    assert totals["rows in"] == expected_in
    assert totals["files rejected whole"] == len(FILE_CASES)


def test_no_pii_or_credential_reaches_reports_or_logs(corpus):
    reports = [p.read_text() for p in (corpus.lake / "reports").rglob("*.json")]
    markers = [p.read_text() for p in (corpus.lake / "processed" / "_loads").rglob("*.json")]
    texts = {"run reports": "\n".join(reports), "load markers": "\n".join(markers)}
    texts["stdout/stderr/logs"] = corpus.output
    pii = set(corpus.generated_pii)
    for case in CASES:
        pii |= pii_values(case)
    pii = {v for v in pii if len(v.strip()) >= 5}
    assert len(pii) > 60  # the scan has something to find
    for where, body in texts.items():
        assert body, where
        leaked = sorted(v[:40] for v in pii if v in body)
        assert leaked == [], f"PII in {where}: {leaked[:5]}"
        assert CREDENTIAL.findall(body) == [], where
        assert PLANTED_SECRET not in body and "pLaNtEd" not in body, where
