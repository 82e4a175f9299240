"""Names of the deployed resources, shared by the CDK stacks and the clients that find them.

The CDK app names its resources with these functions and the CLI/helpers use the same functions
to find them, so `energy-lake query --athena` works against a deployed environment without the
user copying names around.
"""

from __future__ import annotations

ZONES = ("raw", "processed", "curated")  # one Glue database each
STORAGE_ZONES = ("raw", "processed", "curated", "rejected")  # one bucket / folder each
DEFAULT_PROJECT = "energy-lake"
DEFAULT_ENV = "dev"


def name_prefix(env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    """`energy-lake-dev`: the prefix of every resource name of one environment."""
    return f"{project}-{env}"


def database_name(zone: str, env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    """Glue database of a zone: `energy_lake_dev_curated` (Glue wants no dashes for Athena)."""
    if zone not in ZONES:
        raise ValueError(f"unknown zone {zone!r}; expected one of {', '.join(ZONES)}")
    return f"{name_prefix(env, project)}_{zone}".replace("-", "_")


def workgroup_name(env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    return name_prefix(env, project)


def job_name(job: str, env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    return f"{name_prefix(env, project)}-{job.replace('_', '-')}"


def workflow_name(env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    return f"{name_prefix(env, project)}-pipeline"


def external_schema_name(env: str = DEFAULT_ENV, project: str = DEFAULT_PROJECT) -> str:
    """Redshift Spectrum schema over the curated database."""
    return f"{name_prefix(env, project)}_curated".replace("-", "_")
