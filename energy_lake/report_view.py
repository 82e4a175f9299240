"""Render run reports (the jobs' JSON) as text a data engineer reads at a glance."""

from __future__ import annotations

from collections import Counter
from typing import Any


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(str(r[i]).replace(".", "").isdigit() for r in rows) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            cell.rjust(w) if numeric[i] and row is not headers else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def render_raw_to_processed(report: dict) -> str:
    rows, reasons, files = [], Counter(), []
    for name, data in report["datasets"].items():
        loads = data.get("loads", {}).values()
        read = sum(x["rows_read"] for x in loads)
        processed = sum(x["rows_processed"] for x in loads)
        rejected = sum(x["rows_rejected"] for x in loads)
        warnings = sum(sum(x["warnings"].values()) for x in loads)
        conserved = all(x.get("conserved", True) for x in loads)
        rows.append(
            [
                name,
                len(data.get("loads", {})),
                read,
                processed,
                rejected,
                warnings,
                len(data.get("files_rejected", [])),
                "yes" if conserved else "NO",
            ]
        )
        for load in loads:
            for reason, count in load["rejections"].items():
                reasons[f"{name}  {reason}"] += count
        files += [f"{f['file']}: {f['reason']}" for f in data.get("files_rejected", [])]
    out = [
        f"raw_to_processed  run {report['run_id']}  {report['status']}",
        _table(
            [
                "dataset",
                "loads",
                "read",
                "processed",
                "rejected",
                "dq warnings",
                "files rejected",
                "read = processed + rejected",
            ],
            rows,
        ),
    ]
    if reasons:
        out += [
            "",
            "rejections by reason",
            _table(["dataset  reason:column", "rows"], [[k, v] for k, v in reasons.most_common()]),
        ]
    if files:
        out += ["", "files rejected whole", *[f"  {f}" for f in files]]
    return "\n".join(out)


def render_processed_to_curated(report: dict) -> str:
    rows = []
    for name, data in report["datasets"].items():
        orphans = sum(data.get("orphans", {}).values()) if "orphans" in data else ""
        rows.append(
            [
                name,
                "up to date" if data.get("up_to_date") else data.get("mode", ""),
                len(data.get("new_loads", [])),
                data.get("rows_written", 0),
                data.get("exact_duplicates", 0),
                data.get("superseded", 0),
                orphans,
            ]
        )
    return "\n".join(
        [
            f"processed_to_curated  run {report['run_id']}  {report['status']}",
            _table(
                [
                    "dataset",
                    "mode",
                    "new loads",
                    "rows written",
                    "exact duplicates removed",
                    "older versions removed",
                    "orphans",
                ],
                rows,
            ),
        ]
    )


def render(report: dict) -> str:
    body = (
        render_raw_to_processed(report)
        if report["job"] == "raw_to_processed"
        else render_processed_to_curated(report)
    )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.get("timings", {}).items())
    return f"{body}\ntimings: {timings or 'nothing to do'}"
