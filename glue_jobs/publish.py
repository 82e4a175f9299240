"""Publishing a new curated state all at once, so readers never see half a run.

Locally a curated table is a symbolic link, `<curated>/<dataset>`, to one immutable version
folder under `<curated>/_versions/<dataset>/<run-id>/`. A run builds a complete new version —
unchanged partitions are hard links to the current version's files (no copy), rewritten
partitions are written by Spark — and publishes it by replacing the link, an atomic rename.
A reader (Spark, DuckDB, the athena helper) sees the old version or the new one, never a mix;
a run killed before the swap leaves the old version in place and an unpublished folder that
the next run removes.

On S3 there are no links: the job writes in place (Spark's commit protocol stages files and
replaces whole partitions at job commit) and the Glue workflow registers partitions only after
the job has succeeded.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from energy_lake.layout import is_s3, join

VERSIONS = "_versions"
KEEP_VERSIONS = 2  # the published one and its predecessor (a reader may still be on it)


@dataclass
class TableVersion:
    """Where a run writes a table and how it publishes it."""

    table: str  # the path readers read: <curated>/<dataset>
    target: str  # where this run writes: a fresh version folder, or the table itself on S3

    @property
    def versioned(self) -> bool:
        return self.table != self.target


def begin(curated_root: str, dataset: str, run_id: str) -> TableVersion:
    table = join(curated_root, dataset)
    if is_s3(curated_root):
        return TableVersion(table, table)
    versions = Path(curated_root) / VERSIONS / dataset
    versions.mkdir(parents=True, exist_ok=True)
    _remove_unpublished(Path(table), versions)
    return TableVersion(table, str(versions / run_id))


def current_version(table: str) -> Path | None:
    link = Path(table)
    return link.resolve() if link.is_symlink() else None


def carry_over(version: TableVersion, keep_partition) -> int:
    """Hard-link the current version's files into the new one, for partitions to keep.

    `keep_partition(relative_folder)` says whether a partition folder (e.g. 'year=2025/month=1/
    day=2', '' for an unpartitioned table) is unchanged by this run. Returns files linked.
    """
    current = current_version(version.table)
    if not version.versioned or current is None:
        return 0
    linked = 0
    for source in current.rglob("*"):
        if not source.is_file() or source.name.startswith((".", "_")):
            continue
        relative = source.parent.relative_to(current)
        folder = "" if relative == Path(".") else relative.as_posix()
        if not keep_partition(folder):
            continue
        target = Path(version.target) / source.relative_to(current)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
        linked += 1
    return linked


def publish(version: TableVersion) -> None:
    """Point the table at the new version (atomic), then drop versions nobody needs."""
    if not version.versioned:
        return
    target = Path(version.target)
    target.mkdir(parents=True, exist_ok=True)
    link = Path(version.table)
    if link.exists() and not link.is_symlink():
        raise RuntimeError(
            f"{link} is a folder, not a version link: this lake predates versioned curated "
            "tables; move it away and run processed_to_curated --full-rebuild"
        )
    staged = link.with_name(f".{link.name}.next")
    staged.unlink(missing_ok=True)
    staged.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    os.replace(staged, link)
    _prune(target.parent, keep=target)


def _remove_unpublished(link: Path, versions: Path) -> None:
    """Folders of runs that died before publishing (never visible to readers)."""
    live = current_version(str(link))
    published = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.name)
    for folder in published:
        if live is not None and folder.resolve() == live:
            continue
        if live is None or folder.name > live.name:
            shutil.rmtree(folder, ignore_errors=True)


def _prune(versions: Path, keep: Path) -> None:
    folders = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.name)
    for folder in folders[:-KEEP_VERSIONS]:
        if folder.resolve() != keep.resolve():
            shutil.rmtree(folder, ignore_errors=True)
