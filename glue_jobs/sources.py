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

LOADS = "_loads"  # processed/_loads/<dataset>/ingest_date=D.json: one marker per finished load
INTENTS = "_intents"  # processed/_intents/<dataset>.json: what a fact rewrite is about to touch
HEADER_BYTES = 1 << 16
MAX_NAME = 100  # unknown header names are reported, cut to this length
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


def processed_loads(store: Store, processed_root: str, dataset: str) -> dict[str, dict]:
    """ingest_date -> marker of every load raw_to_processed has completed (one listing)."""
    loads = {}
    for obj in store.list(join(processed_root, LOADS, dataset)):
        marker = json.loads(store.read_bytes(obj.uri))
        loads[marker["ingest_date"]] = marker
    return loads


def intent_uri(processed_root: str, dataset: str) -> str:
    return join(processed_root, INTENTS, f"{dataset}.json")


def unfinished_intent(store: Store, processed_root: str, dataset: str) -> dict | None:
    """What a run that did not finish was rewriting: {run_id, loads, days}, else None."""
    uri = intent_uri(processed_root, dataset)
    return json.loads(store.read_bytes(uri)) if store.exists(uri) else None


@dataclass(frozen=True)
class ProcessedState:
    """What the processed zone says of one dataset's loads: read once per run and dataset."""

    markers: dict[str, dict]  # ingest_date -> marker of every load completed so far
    intent: dict | None  # what a run that did not finish was writing, if one did not

    @classmethod
    def read(cls, store: Store, processed_root: str, dataset: str) -> ProcessedState:
        return cls(
            processed_loads(store, processed_root, dataset),
            unfinished_intent(store, processed_root, dataset),
        )

    @property
    def to_repair(self) -> set[str]:
        return loads_to_repair(self.intent, self.markers)


def pending_loads(store: Store, raw_root: str, dataset: str, state: ProcessedState) -> list[Load]:
    """Loads with no marker, or whose files changed since their marker was written, plus the
    loads an unfinished run may have left incomplete (see `loads_to_repair`)."""
    repair = state.to_repair
    return [
        load
        for load in raw_loads(store, raw_root, dataset)
        if load.ingest_date in repair
        or state.markers.get(load.ingest_date, {}).get("files") != load.fingerprint()
    ]


def loads_to_repair(intent: dict | None, markers: dict[str, dict]) -> set[str]:
    """Loads to re-process after a run died while rewriting event days of a fact table.

    The intent names the loads that run processed and the days it was rewriting; a partition
    replaced halfway (old folder deleted, new one not yet moved in) has lost the rows of every
    other load in it, so those loads are re-processed too: raw is immutable, nothing is lost.
    """
    if intent is None:
        return set()
    days = set(intent["days"])
    return set(intent["loads"]) | {
        load for load, marker in markers.items() if days.intersection(marker.get("days", {}))
    }


# Leading bytes of compressed or archive formats a ".csv" object sometimes really is.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
)
_BZIP2 = re.compile(rb"^BZh[1-9]1AY&SY")
# Far wider than any export of a dataset: Spark's CSV parser fails the whole job on a record
# of more than 20480 fields, so such a header is refused before Spark reads the file.
MAX_HEADER_COLUMNS = 1000
_DELIMITERS = ((";", "';'"), ("\t", "tab"), ("|", "'|'"))
_BLANK = " \t\r\n\ufeff"


def _compression(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    return "bzip2-compressed" if _BZIP2.match(head) else None


def _decode(uri: str, head: bytes, complete: bool) -> str:
    """The header sample as text; a file that is not UTF-8 is refused, never guessed at.

    Messages name byte offsets, never content: a data line can hold personal data.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected(
            contract.NOT_UTF8,
            f"{uri}: the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
            "export it as UTF-8",
        )
    if b"\x00" in head:
        raise FileRejected(
            contract.NOT_UTF8,
            f"{uri}: NUL byte at offset {head.index(0)}: UTF-16 without a byte-order mark, or "
            "not a text file; export it as UTF-8 text",
        )
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError as error:
        try:
            head.decode("cp1252")
            hint = " It looks like Windows-1252/Latin-1 (a spreadsheet's regional export)."
        except UnicodeDecodeError:
            hint = ""
        raise FileRejected(
            contract.NOT_UTF8,
            f"{uri}: not UTF-8: byte 0x{head[error.start]:02X} at offset {error.start} is not "
            f"valid UTF-8.{hint} Export it as UTF-8 (nothing is decoded by guesswork)",
        ) from None


def read_header(store: Store, raw: RawFile, dataset: contract.Dataset) -> Header:
    """Parse and check the header record of a raw file (BOM, CRLF, CR and quotes tolerated).

    Only the first HEADER_BYTES are read: enough to refuse a file that is empty, compressed,
    not UTF-8, not comma-delimited, too wide or without the required columns. Bytes past the
    sample that are not UTF-8 are caught row by row (`invalid_encoding`).
    """
    if raw.size == 0:
        raise FileRejected(contract.EMPTY_FILE, f"{raw.uri}: the file is empty (0 bytes)")
    head = store.read_bytes(raw.uri, HEADER_BYTES)
    compressed = _compression(head)
    if compressed:
        raise FileRejected(
            contract.COMPRESSED_FILE,
            f"{raw.uri}: the file is {compressed}, not CSV text; land it uncompressed",
        )
    text = _decode(raw.uri, head, complete=len(head) < HEADER_BYTES)
    if not text.strip(_BLANK):
        raise FileRejected(
            contract.EMPTY_FILE,
            f"{raw.uri}: the file holds no header, only {raw.size} blank byte(s)",
        )
    # The first non-blank record, as Spark's reader (which skips empty lines) takes it.
    first = next((r for r in csv.reader(io.StringIO(text, newline="")) if r), [])
    if len(first) > MAX_HEADER_COLUMNS:
        raise FileRejected(
            contract.TOO_MANY_COLUMNS,
            f"{raw.uri}: the header has more than {MAX_HEADER_COLUMNS} columns "
            f"({len(first)} in the first {len(head)} bytes); a {dataset.name} export has "
            f"{len(dataset.source_header)}",
        )
    names = [h.strip().lower() for h in first]
    expected = set(dataset.source_header)
    if len(names) == 1:
        for delimiter, label in _DELIMITERS:
            if delimiter in first[0]:
                raise FileRejected(
                    contract.WRONG_DELIMITER,
                    f"{raw.uri}: the header is one column holding {first[0].count(delimiter)} "
                    f"{label} characters: the file looks {label}-delimited (a spreadsheet's "
                    "regional CSV export?). Export it with ',' as the delimiter",
                )
    duplicated = sorted({n for n in names if n in expected and names.count(n) > 1})
    if duplicated:
        raise FileRejected(
            contract.DUPLICATE_COLUMN,
            f"{raw.uri}: column(s) {', '.join(duplicated)} appear more than once in the header",
        )
    missing = [n for n in dataset.required_columns if n not in names]
    if missing:
        known = [n for n in names if n in expected]
        found = f"of which {', '.join(known)} are the contract's" if known else "none of them known"
        raise FileRejected(
            contract.MISSING_REQUIRED_COLUMN,
            f"{raw.uri}: the header lacks required column(s) {', '.join(missing)}; "
            f"expected {', '.join(dataset.source_header)}; found {len(names)} column(s), "
            f"{found} (is the header line missing?)",
        )
    columns = tuple(n if n in expected else f"_extra_{i}" for i, n in enumerate(names))
    unknown = tuple(n[:MAX_NAME] for n in names if n not in expected)
    absent = tuple(n for n in dataset.source_header if n not in names)
    return Header(columns=columns, unknown=unknown, missing_optional=absent)
