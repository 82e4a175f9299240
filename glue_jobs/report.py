"""The run report: what a job read, wrote, rejected and why, as JSON under the reports zone.

Reports hold counts, reason codes, column names and file names only: never a data value, so
no PII or secret can leak into them.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from energy_lake.layout import join
from energy_lake.storage import store_for


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@dataclass
class RunReport:
    job: str
    run_id: str = field(default_factory=new_run_id)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    status: str = "running"
    datasets: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @contextmanager
    def timed(self, step: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(self.timings.get(step, 0.0) + time.perf_counter() - start, 3)

    def finish(self, status: str) -> None:
        self.status = status
        self.finished_at = datetime.now(UTC).isoformat()

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items()}

    def write(self, reports_root: str) -> str:
        uri = join(reports_root, self.job, f"{self.run_id}.json")
        body = json.dumps(self.as_dict(), indent=2, sort_keys=True, default=str)
        store_for(uri).write_bytes(uri, body.encode())
        return uri
