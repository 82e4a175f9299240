"""Where things live in a lake: the same layout under a local directory and in S3 buckets.

A local lake is one directory with a folder per zone; on AWS each zone is a bucket. A `Lake`
holds one URI per zone, so job code never asks which of the two it is running on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RUN_REPORTS = "reports"  # local folder (on AWS a prefix of the reports bucket) for run reports
LOCKS = "_locks"  # job locks live in the processed zone


def join(base: str, *parts: str) -> str:
    """Join URI or path segments with single slashes (works for s3:// and local paths)."""
    out = base.rstrip("/")
    for part in parts:
        part = part.strip("/")
        if part:
            out = f"{out}/{part}"
    return out


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


@dataclass(frozen=True)
class Lake:
    raw: str
    processed: str
    curated: str
    rejected: str
    reports: str

    @classmethod
    def local(cls, root: str | os.PathLike[str]) -> Lake:
        """The local lake: `<root>/raw`, `<root>/processed`, ... as absolute paths."""
        base = str(Path(root).expanduser().resolve())
        return cls(
            raw=join(base, "raw"),
            processed=join(base, "processed"),
            curated=join(base, "curated"),
            rejected=join(base, "rejected"),
            reports=join(base, RUN_REPORTS),
        )

    def zone(self, name: str) -> str:
        return getattr(self, name)

    def table(self, zone: str, dataset: str) -> str:
        """Root of one dataset in one zone: `<zone>/<dataset>`."""
        return join(self.zone(zone), dataset)

    def as_job_arguments(self) -> list[str]:
        """The zone URIs in the `--name value` form both Glue and the local runner pass."""
        return [
            "--raw-uri",
            self.raw,
            "--processed-uri",
            self.processed,
            "--curated-uri",
            self.curated,
            "--rejected-uri",
            self.rejected,
            "--reports-uri",
            self.reports,
        ]


def raw_load_prefix(dataset: str, ingest_date: str) -> str:
    """`<dataset>/ingest_date=YYYY-MM-DD` inside the raw zone."""
    return f"{dataset}/ingest_date={ingest_date}"


def event_partition_path(year: int, month: int, day: int) -> str:
    """The folder of one event day: Spark writes integer partition values unpadded."""
    return f"year={year}/month={month}/day={day}"
