"""The Glue code zip: both packages at the root, no caches, byte-for-byte reproducible."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stacks.glue_assets import (
    JOBS,
    PACKAGES,
    REPO_ROOT,
    build_packages_zip,
    entry_script,
    sha256,
)


def make_tree(root: Path) -> None:
    for package in PACKAGES:
        (root / package / "sub").mkdir(parents=True)
        (root / package / "__init__.py").write_text(f'"""{package}"""\n')
        (root / package / "sub" / "__init__.py").write_text("")
        (root / package / "sub" / "mod.py").write_text("VALUE = 1\n")
        (root / package / "__pycache__").mkdir()
        (root / package / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
        (root / package / "sub" / "stale.pyc").write_bytes(b"\0")
        (root / package / ".hidden").write_text("x")
    (root / "glue_jobs" / "raw_to_processed.py").write_text("def main(argv): ...\n")
    (root / "unrelated.py").write_text("")


def test_zip_holds_both_packages_at_its_root_without_caches(tmp_path: Path) -> None:
    make_tree(tmp_path)
    archive = build_packages_zip(tmp_path, tmp_path / "build")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert names == sorted(names)
    assert "energy_lake/__init__.py" in names
    assert "glue_jobs/__init__.py" in names
    assert "glue_jobs/raw_to_processed.py" in names
    assert "energy_lake/sub/mod.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    assert "unrelated.py" not in names


def test_zip_is_reproducible_whatever_the_file_times(tmp_path: Path) -> None:
    make_tree(tmp_path)
    first = sha256(build_packages_zip(tmp_path, tmp_path / "a"))
    for path in tmp_path.rglob("*.py"):
        path.touch()  # new mtimes must not change the bytes (nor the asset hash)
    assert sha256(build_packages_zip(tmp_path, tmp_path / "b")) == first
    (tmp_path / "glue_jobs" / "sub" / "mod.py").write_text("VALUE = 2\n")
    assert sha256(build_packages_zip(tmp_path, tmp_path / "c")) != first


def test_zip_entries_carry_fixed_times_and_permissions(tmp_path: Path) -> None:
    make_tree(tmp_path)
    with zipfile.ZipFile(build_packages_zip(tmp_path, tmp_path / "build")) as zf:
        infos = zf.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o644}


def test_missing_package_or_entry_script_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="energy_lake"):
        build_packages_zip(tmp_path, tmp_path / "build")
    with pytest.raises(FileNotFoundError, match="processed_to_curated"):
        entry_script("processed_to_curated", tmp_path)


def test_the_real_packages_zip_imports_the_contract(tmp_path: Path) -> None:
    archive = build_packages_zip(REPO_ROOT, tmp_path)
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    assert "energy_lake/contract.py" in names
    assert {f"glue_jobs/{job}.py" for job in JOBS} <= names
    assert not any(n.startswith(("stacks/", "athena/", "tests/")) for n in names)
