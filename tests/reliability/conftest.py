"""The reliability suite: shared fixture helpers and the summary table `make reliability` prints.

The corpus run records its totals in `config.stash`; crash tests (marked `reliability` and
carrying a `crash` keyword, e.g. in their name) count as crashes survived when they pass. The
table is printed at the end of a run in one process (`make reliability`); under xdist the
controller does not load this conftest, so `make test` checks the numbers without printing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
# The athena and redshift suites keep their fixture builders next to their tests: import them
# by the same module names those suites use, so one module object serves both.
for _folder in ("athena", "redshift"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

from redshift_data_fixture import redshift_data  # noqa: E402, F401  (a fixture, used by name)

STATS = pytest.StashKey[dict]()
COLUMNS = (
    "cases tried",
    "files rejected whole",
    "rows in",
    "rows out",
    "rows rejected",
    "crashes survived",
    "lost rows",
)


_CRASHES_SURVIVED = [0]


@pytest.fixture(scope="session")
def reliability_stats(request: pytest.FixtureRequest) -> dict:
    """Totals of the hostile-input run, filled by the corpus fixture."""
    return request.config.stash.setdefault(STATS, {})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and {"crash", "reliability"} <= set(report.keywords):
        _CRASHES_SURVIVED[0] += 1


def table(stats: dict, crashes: int) -> list[str]:
    values = {**stats, "crashes survived": crashes}
    cells = [str(values.get(name, 0)) for name in COLUMNS]
    widths = [max(len(n), len(v)) for n, v in zip(COLUMNS, cells, strict=True)]
    return [
        "| " + " | ".join(n.ljust(w) for n, w in zip(COLUMNS, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|",
        "| " + " | ".join(v.rjust(w) for v, w in zip(cells, widths, strict=True)) + " |",
    ]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    stats = config.stash.get(STATS, None)
    if not stats:
        return
    terminalreporter.write_sep("=", "reliability")
    for line in table(stats, _CRASHES_SURVIVED[0]):
        terminalreporter.write_line(line)
