"""Deterministic sample data in the source systems' format, with dirt injected on purpose.

One CSV per dataset per load day (`<dataset>_YYYYMMDD.csv`), realistic for an energy trader:
Spanish and English spellings, accents, quoted commas (and the odd line break) in names, a BOM
and CRLF line ends here and there. Dirt comes at controlled rates: exact duplicates inside a
load, corrections of earlier transactions in later loads (some moving to another day), missing
required fields, unparsable numbers and dates, unknown enumeration values, rows with the wrong
number of fields and orphans. `manifest.json` records what was injected and what the pipeline
must therefore produce, so tests can account for every row.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from energy_lake import contract as c

MANIFEST = "manifest.json"
_C, _P, _T = c.CLIENTS, c.PROVIDERS, c.TRANSACTIONS


@dataclass(frozen=True)
class Rates:
    """Probability per transaction row of each kind of dirt (dimensions use the same rates)."""

    exact_duplicate: float = 0.01
    correction: float = 0.02
    moved_day: float = 0.3  # share of corrections that also move the transaction to another day
    missing_required: float = 0.005
    invalid_number: float = 0.005
    invalid_date: float = 0.004
    unknown_value: float = 0.004
    malformed_row: float = 0.003
    orphan: float = 0.004
    total_missing: float = 0.15  # valid: total left empty, the pipeline computes it
    total_mismatch: float = 0.003  # valid, but counted under a data-quality warning


@dataclass
class FileStats:
    rows: int = 0
    rejected: Counter = field(default_factory=Counter)  # "reason:column" -> rows
    injected: Counter = field(default_factory=Counter)  # dirt kind -> rows
    warnings: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        rejected = sum(self.rejected.values())
        return {
            "rows": self.rows,
            "expected_processed": self.rows - rejected,
            "expected_rejected": rejected,
            "rejections": dict(sorted(self.rejected.items())),
            "injected": dict(sorted(self.injected.items())),
            "warnings": dict(sorted(self.warnings.items())),
        }


CITIES = ("Lima", "Arequipa", "Cusco", "Trujillo", "Piura", "Chiclayo", "Iquitos", "Puno")
REGIONS = ("Costa Norte", "Costa Sur", "Sierra Central", "Selva", "Lima Metropolitana")
FIRST = ("María", "José", "Lucía", "Andrés", "Sofía", "Martín", "Camila", "Raúl", "Inés", "Óscar")
LAST = ("Pérez", "Quispe", "Núñez", "García", "Rojas", "Huamán", "Vásquez", "Chávez", "Flores")
PLANTS = ("Generadora", "Central", "Energía")
COMPANY = ("Minera", "Textil", "Agroindustrial", "Cementos", "Pesquera", "Logística")
SPELLINGS = {
    "energy_type": {
        "wind": ("wind", "Eólica", "eolica", "WIND"),
        "hydro": ("hydro", "Hidráulica", "hidraulica", "Hidro"),
        "solar": ("solar", "Solar", " SOLAR "),
        "nuclear": ("nuclear",),
        "gas": ("gas", "Gas Natural", "natural gas"),
        "coal": ("coal", "Carbón"),
        "biomass": ("biomass", "Biomasa"),
        "geothermal": ("geothermal", "Geotérmica"),
    },
    "transaction_type": {
        "purchase": ("purchase", "compra", "Compra", "buy", "BUY"),
        "sale": ("sale", "venta", "Venta", "sell", "SELL"),
    },
    "client_type": {
        "residential": ("residential", "Residencial"),
        "commercial": ("commercial", "Comercial", "COMERCIAL"),
        "industrial": ("industrial", "Industrial"),
    },
    "id_type": {"DNI": ("DNI", "dni"), "RUC": ("RUC",), "CE": ("CE",), "passport": ("Pasaporte",)},
}
for _name, _spellings in SPELLINGS.items():  # every spelling must be one the contract accepts
    _enum = next(
        col.enumeration for d in c.DATASETS.values() for col in d.columns if col.name == _name
    )
    assert all(_enum.canonical(s) == k for k, v in _spellings.items() for s in v), _name


def _money(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


class Generator:
    def __init__(self, seed: int, start: date, days: int, rates: Rates) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
        self.start = start
        self.days = days
        self.rates = rates
        self.files: dict[str, FileStats] = {}
        self.next_id = Counter()
        self.final: dict[str, dict[str, dict]] = defaultdict(dict)  # dataset -> key -> row
        self.history: list[dict] = []  # valid transaction rows emitted so far

    # -- helpers -----------------------------------------------------------------------------
    def _id(self, prefix: str, width: int) -> str:
        self.next_id[prefix] += 1
        return f"{prefix}{self.next_id[prefix]:0{width}d}"

    def _spell(self, enum: str, canonical: str) -> str:
        return self.rng.choice(SPELLINGS[enum][canonical])

    def _chance(self, rate: float) -> bool:
        return self.rng.random() < rate

    # -- dimensions --------------------------------------------------------------------------
    def _client(self, key: str) -> dict:
        r = self.rng
        kind = r.choice(("residential", "residential", "commercial", "industrial"))
        if kind == "residential":
            id_type = r.choice(("DNI", "DNI", "CE", "passport"))
            name = f"{r.choice(FIRST)} {r.choice(LAST)} {r.choice(LAST)}"
        else:
            id_type = "RUC"
            name = f"{r.choice(COMPANY)} {r.choice(LAST)}, S.A.C."
        if r.random() < 0.01:
            name = name.replace(" ", "\n", 1)  # a multi-line quoted field
        identification = (
            str(r.randrange(10**7, 10**8)) if id_type != "RUC" else f"20{r.randrange(10**8, 10**9)}"
        )
        since = self.start - timedelta(days=r.randrange(30, 3000))
        return {
            "client_id": key,
            "id_type": self._spell("id_type", id_type),
            "identification": identification,
            "client_name": name,
            "city": r.choice(CITIES),
            "client_type": self._spell("client_type", kind),
            "contract_start_date": since.isoformat(),
        }

    def _provider(self, key: str) -> dict:
        r = self.rng
        energy = r.choice(tuple(SPELLINGS["energy_type"]))
        since = self.start - timedelta(days=r.randrange(30, 5000))
        return {
            "provider_id": key,
            "provider_name": f"{r.choice(PLANTS)} {r.choice(LAST)}, S.A.",
            "energy_type": self._spell("energy_type", energy),
            "capacity_mw": str(_money(Decimal(r.uniform(5, 900)), "0.001")),
            "region": r.choice(REGIONS),
            "contract_start_date": since.isoformat(),
            "_energy": energy,
        }

    def _dimension_dirt(self, ds: c.Dataset, row: dict, stats: FileStats) -> dict:
        """Replace a row by a rejected one (fresh key, so no valid key is affected)."""
        kind = self.rng.choice(("missing_required", "invalid_date", "unknown_value"))
        bad = dict(row)
        if kind == "missing_required":
            bad[ds.business_key] = " "
            stats.rejected[f"{c.MISSING_REQUIRED}:{ds.business_key}"] += 1
        elif kind == "invalid_date":
            bad["contract_start_date"] = self.rng.choice(("2024-02-30", "31/12/2023"))
            stats.rejected[f"{c.INVALID_DATE}:contract_start_date"] += 1
        else:
            enum = "client_type" if ds is _C else "energy_type"
            bad[enum] = self.rng.choice(("mayorista", "plasma", "fusion"))
            stats.rejected[f"{c.UNKNOWN_VALUE}:{enum}"] += 1
        stats.injected[kind] += 1
        return bad

    def dimension_load(self, ds: c.Dataset, day: int, count: int) -> list[dict]:
        make = self._client if ds is _C else self._provider
        prefix, width = ("C", 6) if ds is _C else ("P", 4)
        stats = self.files.setdefault(self.file_name(ds, day), FileStats())
        if day == 0:
            keys = [self._id(prefix, width) for _ in range(count)]
        else:  # a daily delta: a few changed entities and a few new ones
            known = list(self.final[ds.name])
            changed = self.rng.sample(known, min(len(known), max(1, count // 50)))
            keys = changed + [self._id(prefix, width) for _ in range(max(1, count // 100))]
        rows = []
        for key in keys:
            row = make(key)
            if self._chance(self.rates.missing_required + self.rates.invalid_date):
                row = self._dimension_dirt(ds, make(self._id(prefix, width)), stats)
            else:
                self.final[ds.name][key] = row
            rows.append(row)
        stats.rows += len(rows)
        return rows

    # -- transactions ------------------------------------------------------------------------
    def _timestamp(self, day: date) -> str:
        r = self.rng
        moment = datetime(day.year, day.month, day.day) + timedelta(seconds=r.randrange(86400))
        style = r.random()
        if style < 0.8:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        if style < 0.9:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        # Peru is UTC-5 all year: the local clock reads five hours earlier than UTC.
        return (moment - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")

    def _transaction(self, day: date, clients: list[str], providers: list[str]) -> dict:
        r = self.rng
        if r.random() < 0.45:
            kind, entity = "purchase", r.choice(providers)
            energy = self.final[_P.name][entity]["_energy"]
            price = Decimal(r.uniform(0.03, 0.09))
        else:
            kind, entity = "sale", r.choice(clients)
            energy = r.choice(tuple(SPELLINGS["energy_type"]))
            price = Decimal(r.uniform(0.08, 0.25))
        quantity = _money(Decimal(r.uniform(50, 50000)), "0.001")
        price = _money(price, "0.000001")
        return {
            "transaction_id": self._id("TX", 9),
            "transaction_date": self._timestamp(day),
            "transaction_type": self._spell("transaction_type", kind),
            "entity_id": entity,
            "quantity_kwh": str(quantity),
            "price_per_kwh": str(price),
            "energy_type": self._spell("energy_type", energy),
            "total_amount": str(_money(quantity * price, "0.01")),
            "_kind": kind,
        }

    def _reject(self, row: dict, stats: FileStats) -> dict | list[str]:
        """Turn a fresh row into one with exactly one defect; returns the row or raw fields."""
        r, rates = self.rng, self.rates
        weights = {
            "missing_required": rates.missing_required,
            "invalid_number": rates.invalid_number,
            "invalid_date": rates.invalid_date,
            "unknown_value": rates.unknown_value,
            "malformed_row": rates.malformed_row,
        }
        kind = r.choices(tuple(weights), weights=tuple(weights.values()))[0]
        stats.injected[kind] += 1
        bad = dict(row)
        if kind == "missing_required":
            column = r.choice(("entity_id", "quantity_kwh", "transaction_date"))
            bad[column] = r.choice(("", "  "))
            stats.rejected[f"{c.MISSING_REQUIRED}:{column}"] += 1
        elif kind == "invalid_number":
            column = r.choice(("quantity_kwh", "price_per_kwh"))
            bad[column] = r.choice(("12,5", "1.234,56", "abc", "1e3", "NaN"))
            stats.rejected[f"{c.INVALID_DECIMAL}:{column}"] += 1
        elif kind == "invalid_date":
            bad["transaction_date"] = r.choice(("2025-02-30 10:00:00", "31/01/2025 10:00", "ayer"))
            stats.rejected[f"{c.INVALID_TIMESTAMP}:transaction_date"] += 1
        elif kind == "unknown_value":
            column = r.choice(("energy_type", "transaction_type"))
            bad[column] = r.choice(("plasma", "swap", "fusión"))
            stats.rejected[f"{c.UNKNOWN_VALUE}:{column}"] += 1
        if kind != "malformed_row":
            bad["_rejected"] = True
            return bad
        fields = [bad[n] for n in _T.source_header]
        stats.rejected[c.MALFORMED_ROW] += 1
        return fields[:-2] if r.random() < 0.5 else [*fields, "extra"]

    def transaction_load(self, day_index: int, count: int) -> list[dict | list[str]]:
        r, rates = self.rng, self.rates
        day = self.start + timedelta(days=day_index)
        stats = self.files.setdefault(self.file_name(_T, day_index), FileStats())
        out: list[dict | list[str]] = []
        bad_rate = sum(
            (
                rates.missing_required,
                rates.invalid_number,
                rates.invalid_date,
                rates.unknown_value,
                rates.malformed_row,
            )
        )
        clients, providers = list(self.final[_C.name]), list(self.final[_P.name])
        for _ in range(count):
            row = self._transaction(day, clients, providers)
            if r.random() < bad_rate:
                out.append(self._reject(row, stats))
                continue
            if self._chance(rates.orphan):
                row["entity_id"] = r.choice(("C999999", "P9999", "X-404"))
                stats.injected["orphan"] += 1
            if self._chance(rates.total_missing):
                row["total_amount"] = ""
            elif self._chance(rates.total_mismatch):
                row["total_amount"] = str(Decimal(row["total_amount"]) + Decimal("5.00"))
                stats.warnings[c.TOTAL_MISMATCH] += 1
            out.append(row)
            if self._chance(rates.exact_duplicate):
                out.append(dict(row))
                stats.injected["exact_duplicate"] += 1
        if day_index > 0 and self.history:
            for _ in range(round(count * rates.correction)):
                out.append(self._correction(r.choice(self.history), day, stats))
        r.shuffle(out)
        for row in out:  # file order: the later row of a load is the later version
            if isinstance(row, dict) and not row.get("_rejected"):
                self.history.append(row)
        stats.rows += len(out)
        return out

    def _correction(self, original: dict, day: date, stats: FileStats) -> dict:
        fixed = dict(original)
        quantity = _money(Decimal(original["quantity_kwh"]) * Decimal("1.1"), "0.001")
        fixed["quantity_kwh"] = str(quantity)
        price = Decimal(fixed["price_per_kwh"])
        fixed["total_amount"] = str(_money(quantity * price, "0.01"))
        stats.injected["correction"] += 1
        if self._chance(self.rates.moved_day):
            moved = day - timedelta(days=self.rng.randrange(1, 4))
            fixed["transaction_date"] = self._timestamp(moved)
            stats.injected["correction_moved_day"] += 1
        return fixed

    # -- files -------------------------------------------------------------------------------
    def file_name(self, ds: c.Dataset, day_index: int) -> str:
        day = self.start + timedelta(days=day_index)
        return f"{ds.name}_{day:%Y%m%d}.csv"

    def render(self, ds: c.Dataset, rows: list, day_index: int) -> bytes:
        buffer = io.StringIO(newline="")
        crlf = day_index % 3 == 1
        writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(ds.source_header)
        for row in rows:
            writer.writerow(row if isinstance(row, list) else [row[n] for n in ds.source_header])
        bom = "\ufeff" if day_index % 5 == 2 else ""
        return (bom + buffer.getvalue()).encode("utf-8")


def _expected_totals(gen: Generator, ds: c.Dataset) -> dict:
    files = [s for name, s in gen.files.items() if name.startswith(f"{ds.name}_")]
    total = {
        "rows": sum(s.rows for s in files),
        "expected_rejected": sum(sum(s.rejected.values()) for s in files),
    }
    total["expected_processed"] = total["rows"] - total["expected_rejected"]
    return total


def generate(
    out: str | Path,
    *,
    seed: int = 42,
    days: int = 30,
    clients: int = 500,
    providers: int = 40,
    transactions: int = 20_000,
    start: date = date(2025, 1, 1),
    rates: Rates | None = None,
) -> dict:
    """Write the sample files and manifest into `out`; returns the manifest."""
    if min(days, clients, providers) < 1 or transactions < 0:
        raise ValueError("days, clients and providers must be >= 1 and transactions >= 0")
    gen = Generator(seed, start, days, rates or Rates())
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    per_day = [transactions // days + (1 if i < transactions % days else 0) for i in range(days)]
    for index in range(days):
        for ds, count in ((_C, clients), (_P, providers)):
            rows = gen.dimension_load(ds, index, count)
            (target / gen.file_name(ds, index)).write_bytes(gen.render(ds, rows, index))
        rows = gen.transaction_load(index, per_day[index])
        (target / gen.file_name(_T, index)).write_bytes(gen.render(_T, rows, index))
    manifest = _manifest(gen, seed)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _manifest(gen: Generator, seed: int) -> dict:
    winners: dict[str, dict] = {}
    for row in gen.history:  # emitted in load order, shuffled within a load like the file
        winners[row["transaction_id"]] = row
    kinds = {
        key: ("purchase" if key in gen.final[_P.name] else "sale")
        for ds in (_C, _P)
        for key in gen.final[ds.name]
    }
    orphans = sum(1 for row in winners.values() if kinds.get(row["entity_id"]) != row["_kind"])
    return {
        "seed": seed,
        "files": {name: stats.as_dict() for name, stats in sorted(gen.files.items())},
        "datasets": {
            _C.name: {**_expected_totals(gen, _C), "expected_curated": len(gen.final[_C.name])},
            _P.name: {**_expected_totals(gen, _P), "expected_curated": len(gen.final[_P.name])},
            _T.name: {
                **_expected_totals(gen, _T),
                "expected_curated": len(winners),
                "expected_orphans": orphans,
            },
        },
    }
