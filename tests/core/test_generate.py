"""The sample generator: deterministic, in the source format, honest manifest."""

from __future__ import annotations

import csv
import json

from energy_lake import contract as c
from energy_lake.generate import MANIFEST, generate


def test_same_seed_same_bytes_and_source_headers(tmp_path):
    generate(tmp_path / "a", days=3, transactions=300, clients=20, providers=5)
    generate(tmp_path / "b", days=3, transactions=300, clients=20, providers=5)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(files) == 3 * 3 + 1
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for ds in c.DATASETS.values():
        text = (tmp_path / "a" / f"{ds.name}_20250101.csv").read_text("utf-8-sig")
        assert tuple(next(csv.reader([text.splitlines()[0]]))) == ds.source_header


def test_manifest_counts_match_the_files(tmp_path):
    manifest = generate(tmp_path, days=4, transactions=2000, clients=50, providers=8, seed=7)
    assert json.loads((tmp_path / MANIFEST).read_text()) == manifest
    for name, stats in manifest["files"].items():
        with (tmp_path / name).open(newline="", encoding="utf-8-sig") as handle:
            records = list(csv.reader(handle))[1:]
        assert len(records) == stats["rows"], name
        assert stats["expected_processed"] + stats["expected_rejected"] == stats["rows"]
    injected = {k for s in manifest["files"].values() for k in s["injected"]}
    assert {"exact_duplicate", "correction", "correction_moved_day", "orphan"} <= injected
    assert {"malformed_row", "missing_required", "invalid_number"} <= injected


def test_different_seeds_differ(tmp_path):
    a = generate(tmp_path / "a", days=2, transactions=100, clients=10, providers=3, seed=1)
    b = generate(tmp_path / "b", days=2, transactions=100, clients=10, providers=3, seed=2)
    assert (
        a["files"] != b["files"]
        or (tmp_path / "a" / "transactions_20250101.csv").read_bytes()
        != (tmp_path / "b" / "transactions_20250101.csv").read_bytes()
    )
