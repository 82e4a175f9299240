"""ETL: the two Glue jobs, the crawlers and the workflow that chains them.

Run order (one Glue workflow, at most one run at a time):

    start (EventBridge: schedule | raw file landed, batched; or "Run" in the console)
      -> raw_to_processed job      + raw crawler (discovers the landed CSV)
      -> processed_to_curated job  + processed crawler (registers processed partitions)
      -> curated crawler (registers curated partitions for Athena and Redshift Spectrum)

A failed, timed-out or stopped job and a failed crawler publish to the notification topic.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from energy_lake import contract, naming
from stacks.catalog import TYPED_ZONES, CatalogStack
from stacks.config import EnvConfig
from stacks.glue_assets import JOBS, GlueCode
from stacks.storage import StorageStack

FAILED_JOB_STATES = ("FAILED", "TIMEOUT", "ERROR", "STOPPED")
FAILED_CRAWLER_STATES = ("Failed",)
# The custom event that starts a run on demand (besides "Run" in the Glue console).
RUN_REQUEST_SOURCE = "energy-lake"
RUN_REQUEST_DETAIL_TYPE = "Pipeline run requested"


def s3_uri(bucket_name: str, prefix: str = "") -> str:
    return f"s3://{bucket_name}/{prefix}"


class EtlStack(Stack):
    """Glue jobs, crawlers, workflow, triggers, events and notifications.

    Attributes:
        config: the environment config.
        security_configuration: Glue security configuration (SSE-KMS on S3, KMS on CloudWatch
            logs and on job bookmarks, all with the lake key) used by every job and crawler.
        code: the shipped Glue code (`GlueCode`: entry script assets and the packages zip).
        jobs: job ("raw_to_processed", "processed_to_curated") -> CfnJob.
        crawlers: zone ("raw", "processed", "curated") -> CfnCrawler.
        workflow: the Glue workflow; triggers: name -> CfnTrigger ("start",
            "after_raw_to_processed", "after_processed_to_curated").
        topic: SNS topic receiving job and crawler failures.
        schedule_rule / landing_rule / run_request_rule: EventBridge rules starting the
            workflow (schedule; a .csv landed in raw; a `RUN_REQUEST` event put on demand).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        storage: StorageStack,
        catalog: CatalogStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.storage = storage
        self.catalog = catalog
        self.security_configuration = self._security_configuration()
        self.code = GlueCode(self, "GlueCode")
        self._grant_code_read()
        self.jobs: dict[str, glue.CfnJob] = {job: self._job(job) for job in JOBS}
        self.classifier = self._csv_classifier()
        self.crawlers: dict[str, glue.CfnCrawler] = {
            zone: self._crawler(zone) for zone in naming.ZONES
        }
        self.workflow = glue.CfnWorkflow(
            self,
            "Workflow",
            name=config.workflow_name,
            description="raw -> processed -> curated, then register partitions",
            max_concurrent_runs=1,
        )
        self.triggers = self._triggers()
        self.schedule_rule, self.landing_rule, self.run_request_rule = self._start_rules()
        self.topic = self._failure_notifications()
        CfnOutput(self, "WorkflowName", value=self.workflow.ref, description="Glue workflow")
        CfnOutput(self, "NotificationTopicArn", value=self.topic.topic_arn)

    # -- Glue resources ---------------------------------------------------------------------

    def _security_configuration(self) -> glue.CfnSecurityConfiguration:
        key_arn = self.storage.key.key_arn
        return glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{self.config.prefix}-glue",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key_arn
                ),
            ),
        )

    def _grant_code_read(self) -> None:
        """The job role reads exactly the shipped objects from the CDK assets bucket."""
        iam.Policy(
            self,
            "GlueJobCodeAccess",
            roles=[self.catalog.job_role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadGlueCode",
                    actions=["s3:GetObject"],
                    resources=[
                        asset.bucket.arn_for_objects(asset.s3_object_key)
                        for asset in self.code.assets
                    ],
                )
            ],
        )

    def job_arguments(self, job: str) -> dict[str, str]:
        """Default arguments of a job: Glue features plus the lake URIs the script reads."""
        b = self.storage.buckets
        assets = b["glue_assets"].bucket_name
        return {
            "--job-language": "python",
            "--extra-py-files": self.code.packages.s3_object_url,
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-observability-metrics": "true",
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": s3_uri(assets, f"spark-ui/{job}/"),
            "--TempDir": s3_uri(assets, f"temp/{job}/"),
            "--raw-uri": s3_uri(b["raw"].bucket_name),
            "--processed-uri": s3_uri(b["processed"].bucket_name),
            "--curated-uri": s3_uri(b["curated"].bucket_name),
            "--rejected-uri": s3_uri(b["rejected"].bucket_name),
            "--reports-uri": s3_uri(assets, "reports/"),
        }

    def _job(self, job: str) -> glue.CfnJob:
        c = self.config
        return glue.CfnJob(
            self,
            f"{_camel(job)}Job",
            name=c.job_name(job),
            description=f"energy-lake {job.replace('_', ' ')}",
            role=self.catalog.job_role.role_arn,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl",
                python_version="3",
                script_location=self.code.scripts[job].s3_object_url,
            ),
            glue_version=c.glue_version,
            worker_type=c.glue_worker_type,
            number_of_workers=c.glue_number_of_workers,
            timeout=c.glue_job_timeout_minutes,
            max_retries=c.glue_job_max_retries,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=self.security_configuration.ref,
            default_arguments=self.job_arguments(job),
        )

    def _csv_classifier(self) -> glue.CfnClassifier:
        """Source files always carry a header; do not let the crawler guess."""
        return glue.CfnClassifier(
            self,
            "CsvWithHeader",
            csv_classifier=glue.CfnClassifier.CsvClassifierProperty(
                name=f"{self.config.prefix}-csv-with-header",
                delimiter=",",
                quote_symbol='"',
                contains_header="PRESENT",
                allow_single_column=False,
                disable_value_trimming=False,
            ),
        )

    def _crawler(self, zone: str) -> glue.CfnCrawler:
        database = self.catalog.databases[zone]
        configuration: dict[str, object] = {
            "Version": 1.0,
            "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
            "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
        }
        common = {
            "name": f"{self.config.prefix}-{zone}",
            "role": self.catalog.crawler_roles[zone].role_arn,
            "database_name": database.ref,
            "crawler_security_configuration": self.security_configuration.ref,
            "configuration": json.dumps(configuration),
        }
        if zone in TYPED_ZONES:
            # Catalog targets: the contract-typed tables keep their schema (UpdateBehavior LOG);
            # the crawler only adds partitions. Glue requires DeleteBehavior LOG and a full
            # recrawl (CRAWL_EVERYTHING) for catalog targets.
            tables = [self.catalog.tables[(zone, name)] for name in contract.DATASETS]
            return glue.CfnCrawler(
                self,
                f"{zone.capitalize()}Crawler",
                description=f"Registers new partitions of the contract-typed {zone} tables",
                targets=glue.CfnCrawler.TargetsProperty(
                    catalog_targets=[
                        glue.CfnCrawler.CatalogTargetProperty(
                            database_name=database.ref,
                            tables=[t.ref for t in tables],
                        )
                    ]
                ),
                schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                    update_behavior="LOG", delete_behavior="LOG"
                ),
                recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(
                    recrawl_behavior="CRAWL_EVERYTHING"
                ),
                **common,
            )
        # Raw: discover the landed CSV, one table per dataset folder; only new load folders are
        # crawled, and schema changes are logged, not applied.
        raw = self.storage.buckets["raw"].bucket_name
        return glue.CfnCrawler(
            self,
            "RawCrawler",
            description="Discovers the landed CSV files (new load folders only)",
            classifiers=[self.classifier.ref],
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=s3_uri(raw, f"{name}/"), exclusions=["**/_*", "**/.*"]
                    )
                    for name in contract.DATASETS
                ]
            ),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(
                recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY"
            ),
            **common,
        )

    # -- orchestration -------------------------------------------------------------------------

    def _triggers(self) -> dict[str, glue.CfnTrigger]:
        c = self.config
        workflow = self.workflow.ref
        jobs, crawlers = self.jobs, self.crawlers

        def job_action(job: str) -> glue.CfnTrigger.ActionProperty:
            return glue.CfnTrigger.ActionProperty(job_name=jobs[job].ref)

        def crawler_action(zone: str) -> glue.CfnTrigger.ActionProperty:
            return glue.CfnTrigger.ActionProperty(crawler_name=crawlers[zone].ref)

        def after(job: str) -> glue.CfnTrigger.PredicateProperty:
            return glue.CfnTrigger.PredicateProperty(
                conditions=[
                    glue.CfnTrigger.ConditionProperty(
                        job_name=jobs[job].ref, state="SUCCEEDED", logical_operator="EQUALS"
                    )
                ]
            )

        start = glue.CfnTrigger(
            self,
            "StartTrigger",
            name=f"{c.prefix}-start",
            description="Starts a run on EventBridge events (schedule, landed raw files)",
            workflow_name=workflow,
            type="EVENT",
            event_batching_condition=glue.CfnTrigger.EventBatchingConditionProperty(
                batch_size=c.landing_batch_size, batch_window=c.landing_batch_window_seconds
            ),
            actions=[job_action("raw_to_processed"), crawler_action("raw")],
        )
        after_raw = glue.CfnTrigger(
            self,
            "AfterRawToProcessedTrigger",
            name=f"{c.prefix}-after-raw-to-processed",
            workflow_name=workflow,
            type="CONDITIONAL",
            start_on_creation=True,
            predicate=after("raw_to_processed"),
            actions=[job_action("processed_to_curated"), crawler_action("processed")],
        )
        after_curated = glue.CfnTrigger(
            self,
            "AfterProcessedToCuratedTrigger",
            name=f"{c.prefix}-after-processed-to-curated",
            workflow_name=workflow,
            type="CONDITIONAL",
            start_on_creation=True,
            predicate=after("processed_to_curated"),
            actions=[crawler_action("curated")],
        )
        return {
            "start": start,
            "after_raw_to_processed": after_raw,
            "after_processed_to_curated": after_curated,
        }

    def _start_rules(self) -> tuple[events.Rule, events.Rule, events.Rule]:
        workflow_arn = Stack.of(self).format_arn(
            service="glue", resource="workflow", resource_name=self.workflow.ref
        )
        role = iam.Role(
            self,
            "StartWorkflowRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge notifies the pipeline workflow of schedule and landing events",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["glue:NotifyEvent"], resources=[workflow_arn])
        )
        target = GlueWorkflowTarget(workflow_arn, role)
        schedule = events.Rule(
            self,
            "ScheduleRule",
            description="Scheduled pipeline run",
            schedule=events.Schedule.expression(self.config.schedule_expression),
            targets=[target],
        )
        landing = events.Rule(
            self,
            "RawLandingRule",
            description="A CSV file (any case of .csv) landed in the raw bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.storage.buckets["raw"].bucket_name]},
                    "object": {"key": [{"suffix": {"equals-ignore-case": ".csv"}}]},
                },
            ),
            targets=[target],
        )
        # On demand, with nothing but EventBridge: `aws events put-events` (see docs/deploy.md).
        run_request = events.Rule(
            self,
            "RunRequestRule",
            description="A pipeline run was requested on demand",
            event_pattern=events.EventPattern(
                source=[RUN_REQUEST_SOURCE],
                detail_type=[RUN_REQUEST_DETAIL_TYPE],
                detail={"env": [self.config.env_name]},
            ),
            targets=[target],
        )
        return schedule, landing, run_request

    def _failure_notifications(self) -> sns.Topic:
        topic = sns.Topic(
            self,
            "FailureTopic",
            display_name=f"{self.config.prefix} pipeline failures",
            master_key=self.storage.key,
            enforce_ssl=True,
        )
        for email in self.config.notification_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        failures = (
            ("JobFailureRule", "A pipeline Glue job failed, timed out or was stopped", "Job",
             "jobName", self.jobs, FAILED_JOB_STATES),
            ("CrawlerFailureRule", "A pipeline Glue crawler failed", "Crawler",
             "crawlerName", self.crawlers, FAILED_CRAWLER_STATES),
        )  # fmt: skip
        for rule_id, description, kind, name_field, resources, states in failures:
            events.Rule(
                self,
                rule_id,
                description=description,
                event_pattern=events.EventPattern(
                    source=["aws.glue"],
                    detail_type=[f"Glue {kind} State Change"],
                    detail={
                        name_field: [resource.ref for resource in resources.values()],
                        "state": list(states),
                    },
                ),
                targets=[targets.SnsTopic(topic)],
            )
        return topic


@jsii.implements(events.IRuleTarget)
class GlueWorkflowTarget:
    """EventBridge target notifying a Glue workflow (its EVENT trigger batches the events)."""

    def __init__(self, workflow_arn: str, role: iam.IRole) -> None:
        self.workflow_arn = workflow_arn
        self.role = role

    def bind(self, _rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.workflow_arn, role=self.role)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
