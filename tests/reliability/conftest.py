"""The reliability suite: shared fixture helpers and the summary table `make reliability` prints.

The corpus run records its totals in `config.stash`. Crashes survived are the passing tests
that `-m reliability -k crash` selects, wherever they live (the lead's crash tests are in
tests/core; `make reliability` runs both folders). The table is printed at the end of a run in
one process; under xdist the controller does not load this conftest, so `make test` checks the
same numbers (lost rows == 0) without printing them.
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


@pytest.fixture(scope="session")
def reliability_stats(request: pytest.FixtureRequest) -> dict:
    """Totals of the hostile-input run, filled by the corpus fixture."""
    return request.config.stash.setdefault(STATS, {})


def crashes_survived(passed: list[pytest.TestReport]) -> int:
    """Passing tests that `-m reliability -k crash` selects (keywords matched as substrings)."""
    return sum(
        1
        for report in passed
        if report.when == "call"
        and "reliability" in report.keywords
        and any("crash" in str(keyword).lower() for keyword in report.keywords)
    )


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
    crashes = crashes_survived(terminalreporter.stats.get("passed", []))
    for line in table(stats, crashes):
        terminalreporter.write_line(line)
