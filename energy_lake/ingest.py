"""Landing source files in the raw zone: `<raw>/<dataset>/ingest_date=YYYY-MM-DD/<file>`.

The raw zone is immutable: re-landing the same bytes is a no-op, landing different bytes
under an existing name is a conflict, never an overwrite. Object names are checked so nothing
can be written outside the raw zone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from energy_lake import contract
from energy_lake.layout import Lake, is_s3, join, raw_load_prefix
from energy_lake.storage import ObjectExistsError, store_for

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


class IngestError(Exception):
    """A file that cannot be landed; the message says which and why."""


class ConflictError(IngestError):
    """A different file already sits under the same name in the same load."""


@dataclass(frozen=True)
class Landed:
    source: str
    target: str
    dataset: str
    ingest_date: str
    status: str  # "landed" | "unchanged"


def raw_root(lake: str) -> str:
    """The raw zone of a lake: `<dir>/raw` locally, the bucket URI itself on S3."""
    return lake.rstrip("/") if is_s3(lake) else Lake.local(lake).raw


def classify(name: str, dataset: str | None, ingest_date: str | None) -> tuple[str, str]:
    """(dataset, YYYY-MM-DD) of a source file, from its name or the explicit options."""
    match = contract.SOURCE_FILE_PATTERN.match(name)
    named = match.group("dataset").lower() if match else None
    if dataset is not None:
        try:
            contract.dataset(dataset)
        except KeyError as error:
            raise IngestError(f"{name}: --dataset: {error.args[0]}") from None
        if named is not None and named != dataset:
            raise IngestError(
                f"{name}: the name says dataset {named!r} but --dataset says {dataset!r}; "
                "rename the file or drop --dataset"
            )
    if ingest_date is not None:
        day = _parse_day(ingest_date, "%Y-%m-%d", f"--ingest-date {ingest_date!r}")
    elif match:
        day = _parse_day(match.group("date"), "%Y%m%d", f"{name}: the date in the name")
    else:
        day = None
    chosen = dataset or named
    if chosen is None or day is None:
        raise IngestError(
            f"{name}: cannot tell the dataset and load date; name it <dataset>_YYYYMMDD.csv "
            f"(dataset one of {', '.join(contract.DATASETS)}) or pass --dataset and --ingest-date"
        )
    return chosen, day.isoformat()


def _parse_day(text: str, pattern: str, what: str) -> date:
    try:
        return datetime.strptime(text, pattern).date()
    except ValueError:
        raise IngestError(f"{what} is not a valid date ({pattern})") from None


def ingest_file(
    lake: str, path: str | Path, *, dataset: str | None = None, ingest_date: str | None = None
) -> Landed:
    source = Path(path)
    name = source.name
    if not SAFE_NAME.fullmatch(name) or name in {".", ".."}:
        raise IngestError(
            f"{path}: file name {name!r} is not allowed in the raw zone "
            "(letters, digits, '.', '_' and '-' only)"
        )
    if not source.is_file():
        raise IngestError(f"{path}: no such file")
    chosen, day = classify(name, dataset, ingest_date)
    target = join(raw_root(lake), raw_load_prefix(chosen, day), name)
    data = source.read_bytes()
    store = store_for(target)
    try:
        store.write_bytes(target, data, exclusive=True)
    except ObjectExistsError:
        existing = store.read_bytes(target)
        if hashlib.sha256(existing).digest() != hashlib.sha256(data).digest():
            raise ConflictError(
                f"{path}: {target} already holds a different file "
                f"({len(existing)} bytes vs {len(data)}); the raw zone is immutable: land the "
                "new export under a new name or load date"
            ) from None
        return Landed(str(source), target, chosen, day, "unchanged")
    return Landed(str(source), target, chosen, day, "landed")
