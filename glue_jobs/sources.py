"""Finding the raw loads to process and reading their headers (no Spark here).

A load is one dataset on one ingest date: every file under `<raw>/<dataset>/ingest_date=D/`.
The processed zone keeps a marker per load listing the files it was built from, so the loads to
process are those whose files differ from their marker (new loads, or files added to a load).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field

from energy_lake import contract
from energy_lake.layout import join
from energy_lake.storage import Store

LOADS = "_loads"
HEADER_BYTES = 1 << 16
_LOAD_FOLDER = re.compile(r"/ingest_date=(\d{4}-\d{2}-\d{2})/[^/]+$")


@dataclass(frozen=True)
class RawFile:
    uri: str
    size: int

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


@dataclass
class Load:
    dataset: str
    ingest_date: str
    files: list[RawFile] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.ingest_date}"

    def fingerprint(self) -> list[list]:
        return [[f.name, f.size] for f in sorted(self.files, key=lambda f: f.name)]


@dataclass(frozen=True)
class Header:
    """The columns of one file, mapped onto the contract."""

    columns: tuple[str, ...]  # read schema, in file order; unknown columns as _extra_<n>
    unknown: tuple[str, ...]  # header names not in the contract (ignored, reported)
    missing_optional: tuple[str, ...]  # contract columns the file does not have


class FileRejected(Exception):
    """A file that cannot be read as its dataset at all; it is quarantined whole."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def raw_loads(store: Store, raw_root: str, dataset: str) -> list[Load]:
    loads: dict[str, Load] = {}
    for obj in store.list(join(raw_root, dataset)):
        match = _LOAD_FOLDER.search(obj.uri)
        if match is None:
            continue  # not in a load folder: not ours to process
        day = match.group(1)
        loads.setdefault(day, Load(dataset, day)).files.append(RawFile(obj.uri, obj.size))
    return [loads[d] for d in sorted(loads)]


def marker_uri(processed_root: str, load: Load) -> str:
    return join(processed_root, LOADS, load.dataset, f"ingest_date={load.ingest_date}.json")


def processed_marker(store: Store, processed_root: str, load: Load) -> dict | None:
    uri = marker_uri(processed_root, load)
    if not store.exists(uri):
        return None
    return json.loads(store.read_bytes(uri))


def pending_loads(store: Store, raw_root: str, processed_root: str, dataset: str) -> list[Load]:
    """Loads with no marker, or whose files changed since their marker was written."""
    pending = []
    for load in raw_loads(store, raw_root, dataset):
        marker = processed_marker(store, processed_root, load)
        if marker is None or marker.get("files") != load.fingerprint():
            pending.append(load)
    return pending


def read_header(store: Store, raw: RawFile, dataset: contract.Dataset) -> Header:
    """Parse and check the header record of a raw file (BOM, CRLF and quotes tolerated)."""
    if raw.size == 0:
        raise FileRejected(contract.EMPTY_FILE, f"{raw.uri}: the file is empty (0 bytes)")
    head = store.read_bytes(raw.uri, HEADER_BYTES)
    if head[:2] == b"\x1f\x8b":
        raise FileRejected(
            contract.COMPRESSED_FILE,
            f"{raw.uri}: the file is gzip-compressed; land it uncompressed",
        )
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as error:
        raise FileRejected(
            contract.NOT_UTF8,
            f"{raw.uri}: not UTF-8 (byte {error.start} of the header); export it as UTF-8",
        ) from None
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    names = [h.strip().lower() for h in first]
    expected = set(dataset.source_header)
    if len(names) == 1 and ";" in first[0]:
        raise FileRejected(
            contract.WRONG_DELIMITER,
            f"{raw.uri}: the header has one column {first[0]!r}; the file looks ';'-delimited. "
            "Export it with ',' as the delimiter",
        )
    duplicated = sorted({n for n in names if n in expected and names.count(n) > 1})
    if duplicated:
        raise FileRejected(
            contract.DUPLICATE_COLUMN,
            f"{raw.uri}: column(s) {', '.join(duplicated)} appear more than once in the header",
        )
    missing = [n for n in dataset.required_columns if n not in names]
    if missing:
        raise FileRejected(
            contract.MISSING_REQUIRED_COLUMN,
            f"{raw.uri}: the header lacks required column(s) {', '.join(missing)}; "
            f"expected {', '.join(dataset.source_header)}, found {', '.join(names) or 'nothing'}",
        )
    columns = tuple(n if n in expected else f"_extra_{i}" for i, n in enumerate(names))
    unknown = tuple(n for n in names if n not in expected)
    absent = tuple(n for n in dataset.source_header if n not in names)
    return Header(columns=columns, unknown=unknown, missing_optional=absent)
