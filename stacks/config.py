"""Typed per-environment configuration, selected with `cdk synth|deploy -c env=dev|prod`.

Every knob the stacks read lives here, so a reviewer sees what differs between dev and prod in one
place. No account ids or ARNs: account and region come from the CDK environment, and principal
ARNs (extra admins, analysts, engineers) are optional context values supplied at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy

from energy_lake import naming

ENVIRONMENTS = ("dev", "prod")
# Longest bucket name: <prefix>-athena-results-<12-digit account>-<region of up to 14 chars>.
MAX_PREFIX_LENGTH = 63 - len("-athena-results-") - 12 - 1 - 14

# Context keys that add principals at deploy time: `-c lakeAdminArns=arn:...,arn:...`.
PRINCIPAL_CONTEXT_KEYS = {
    "lake_admin_arns": "lakeAdminArns",
    "analyst_principal_arns": "analystPrincipalArns",
    "engineer_principal_arns": "engineerPrincipalArns",
}
NOTIFICATION_EMAILS_CONTEXT_KEY = "notificationEmails"


@dataclass(frozen=True)
class EnvConfig:
    """What one deployed environment looks like."""

    env_name: str
    # Data protection. Only an environment that says so may delete buckets, objects and the key
    # on `cdk destroy`; everything else is retained.
    destroy_data_on_delete: bool
    # Lifecycle (days).
    raw_infrequent_access_after_days: int
    raw_glacier_ir_after_days: int
    noncurrent_versions_expire_after_days: int
    athena_results_expire_after_days: int
    access_logs_expire_after_days: int
    glue_temp_expire_after_days: int
    abort_incomplete_upload_after_days: int
    # Glue.
    glue_version: str
    glue_worker_type: str
    glue_number_of_workers: int
    glue_job_timeout_minutes: int
    glue_job_max_retries: int
    # Orchestration: the workflow starts on this schedule (EventBridge cron, UTC), on landed raw
    # files (batched: a run starts after `batch_size` files or `batch_window_seconds` after the
    # first one) and on demand from the console.
    schedule_expression: str
    landing_batch_size: int
    landing_batch_window_seconds: int
    notification_emails: tuple[str, ...]
    # Athena.
    athena_bytes_scanned_cutoff: int
    # Warehouse (Redshift + Spectrum), built by the warehouse stack.
    warehouse: bool
    redshift_node_type: str
    redshift_number_of_nodes: int
    redshift_pause_schedule: bool
    drop_external_schema_on_delete: bool
    # Governance (Lake Formation). Empty analyst/engineer lists -> the governance stack creates
    # roles for those personas.
    lake_admin_arns: tuple[str, ...] = ()
    analyst_principal_arns: tuple[str, ...] = ()
    engineer_principal_arns: tuple[str, ...] = ()
    project: str = naming.DEFAULT_PROJECT

    def __post_init__(self) -> None:
        if self.env_name not in ENVIRONMENTS:
            raise ValueError(f"unknown env {self.env_name!r}; expected one of dev, prod")
        if self.env_name == "prod" and self.destroy_data_on_delete:
            raise ValueError("prod retains its data: destroy_data_on_delete must be False")
        if self.raw_glacier_ir_after_days < self.raw_infrequent_access_after_days + 30:
            raise ValueError("raw objects must stay 30 days in Standard-IA before Glacier IR")
        if self.raw_infrequent_access_after_days < 30:
            raise ValueError("S3 moves objects to Standard-IA no earlier than 30 days")
        if len(self.prefix) > MAX_PREFIX_LENGTH:
            raise ValueError(
                f"name prefix {self.prefix!r} is longer than {MAX_PREFIX_LENGTH} characters: "
                "bucket names <prefix>-athena-results-<account>-<region> would exceed 63"
            )
        if self.glue_number_of_workers < 2:
            raise ValueError("a Glue Spark job needs at least 2 workers")

    @property
    def prefix(self) -> str:
        """`energy-lake-dev`: prefix of stack and resource names."""
        return naming.name_prefix(self.env_name, self.project)

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.DESTROY if self.destroy_data_on_delete else RemovalPolicy.RETAIN

    def database_name(self, zone: str) -> str:
        return naming.database_name(zone, self.env_name, self.project)

    def job_name(self, job: str) -> str:
        return naming.job_name(job, self.env_name, self.project)

    @property
    def workflow_name(self) -> str:
        return naming.workflow_name(self.env_name, self.project)

    @property
    def workgroup_name(self) -> str:
        return naming.workgroup_name(self.env_name, self.project)


DEV = EnvConfig(
    env_name="dev",
    destroy_data_on_delete=True,  # dev says so: `cdk destroy` empties and deletes its buckets
    raw_infrequent_access_after_days=30,
    raw_glacier_ir_after_days=90,
    noncurrent_versions_expire_after_days=7,
    athena_results_expire_after_days=7,
    access_logs_expire_after_days=30,
    glue_temp_expire_after_days=3,
    abort_incomplete_upload_after_days=1,
    glue_version="5.0",
    glue_worker_type="G.1X",
    glue_number_of_workers=2,
    glue_job_timeout_minutes=60,
    glue_job_max_retries=0,
    schedule_expression="cron(0 6 * * ? *)",
    landing_batch_size=10,
    landing_batch_window_seconds=300,
    notification_emails=(),
    athena_bytes_scanned_cutoff=1 * 1024**3,  # 1 GiB per query
    warehouse=True,
    redshift_node_type="ra3.large",
    redshift_number_of_nodes=1,
    redshift_pause_schedule=True,
    drop_external_schema_on_delete=True,
)

PROD = EnvConfig(
    env_name="prod",
    destroy_data_on_delete=False,
    raw_infrequent_access_after_days=30,
    raw_glacier_ir_after_days=180,
    noncurrent_versions_expire_after_days=90,
    athena_results_expire_after_days=30,
    access_logs_expire_after_days=365,
    glue_temp_expire_after_days=7,
    abort_incomplete_upload_after_days=7,
    glue_version="5.0",
    glue_worker_type="G.2X",
    glue_number_of_workers=10,
    glue_job_timeout_minutes=180,
    glue_job_max_retries=1,
    schedule_expression="cron(0 5 * * ? *)",
    landing_batch_size=50,
    landing_batch_window_seconds=900,
    notification_emails=(),
    athena_bytes_scanned_cutoff=10 * 1024**3,  # 10 GiB per query
    warehouse=True,
    redshift_node_type="ra3.xlplus",
    redshift_number_of_nodes=2,
    redshift_pause_schedule=False,
    drop_external_schema_on_delete=False,
)

CONFIGS: dict[str, EnvConfig] = {c.env_name: c for c in (DEV, PROD)}


def _split(value: object) -> tuple[str, ...]:
    """A context value given as `a,b` on the command line or as a JSON list in cdk.json."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ValueError(f"expected a comma-separated string or a list, got {value!r}")


def load_config(env_name: str, context: dict[str, object] | None = None) -> EnvConfig:
    """The config of `env_name`, with principal/e-mail lists taken from CDK context if given."""
    try:
        config = CONFIGS[env_name]
    except KeyError:
        raise ValueError(f"unknown env {env_name!r}: pass -c env=dev or -c env=prod") from None
    context = context or {}
    overrides: dict[str, tuple[str, ...]] = {}
    for field_name, key in PRINCIPAL_CONTEXT_KEYS.items():
        if context.get(key) is not None:
            overrides[field_name] = _split(context[key])
    if context.get(NOTIFICATION_EMAILS_CONTEXT_KEY) is not None:
        overrides["notification_emails"] = _split(context[NOTIFICATION_EMAILS_CONTEXT_KEY])
    for arn in (a for k in PRINCIPAL_CONTEXT_KEYS for a in overrides.get(k, ())):
        if not arn.startswith("arn:"):
            raise ValueError(f"principal {arn!r} is not an IAM ARN (arn:aws:iam::...)")
    return replace(config, **overrides) if overrides else config
