"""Ship the Glue code: entry scripts as single-file assets, shared packages as one zip.

The zip holds the `energy_lake/` and `glue_jobs/` package folders at its root (what
`--extra-py-files` puts on the Python path). It is built at synth time with `zipfile` — no
Docker — sorted, without caches, with fixed timestamps and permissions, so the same sources
always give the same bytes and the same asset hash (no redeploy when nothing changed).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("energy_lake", "glue_jobs")
JOBS = ("raw_to_processed", "processed_to_curated")  # entry scripts: glue_jobs/<job>.py
BUILD_DIR = REPO_ROOT / "build" / "glue"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def package_files(root: Path, packages: Iterable[str] = PACKAGES) -> Iterator[tuple[Path, str]]:
    """(file, name in the zip) for every shipped file of the packages, in a stable order."""
    for package in packages:
        base = root / package
        if not (base / "__init__.py").is_file():
            raise FileNotFoundError(f"package {package!r} not found under {root}")
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or _skipped(relative):
                continue
            yield path, relative.as_posix()


def _skipped(relative: Path) -> bool:
    return (
        any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts)
        or relative.suffix in _SKIPPED_SUFFIXES
        or relative.name.endswith(".egg-info")
    )


def build_packages_zip(root: Path = REPO_ROOT, out_dir: Path = BUILD_DIR) -> Path:
    """Write the deterministic zip of the packages; returns its path.

    Written to a temporary file and renamed, so concurrent synths (pytest workers) never see a
    half-written zip.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "energy_lake_glue.zip"
    fd, tmp_name = tempfile.mkstemp(dir=out_dir, suffix=".zip.tmp")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for path, name in package_files(root):
                info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3  # unix, so the mode bits are read the same everywhere
                archive.writestr(info, path.read_bytes())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def entry_script(job: str, root: Path = REPO_ROOT) -> Path:
    script = root / "glue_jobs" / f"{job}.py"
    if not script.is_file():
        raise FileNotFoundError(
            f"Glue entry script {script} is missing: every job in JOBS needs glue_jobs/<job>.py"
        )
    return script


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class GlueCode(Construct):
    """The assets of the Glue jobs.

    Attributes:
        scripts: job name -> asset of its entry script.
        packages: asset of the zip passed with `--extra-py-files`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, root: Path = REPO_ROOT) -> None:
        super().__init__(scope, construct_id)
        self.scripts: dict[str, s3_assets.Asset] = {
            job: s3_assets.Asset(self, f"{_camel(job)}Script", path=str(entry_script(job, root)))
            for job in JOBS
        }
        self.packages = s3_assets.Asset(
            self, "Packages", path=str(build_packages_zip(root, root / "build" / "glue"))
        )

    @property
    def assets(self) -> list[s3_assets.Asset]:
        return [*self.scripts.values(), self.packages]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
