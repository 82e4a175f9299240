"""ETL stack: Glue jobs wired to the lake, crawlers, workflow order, start rules, alerts."""

from __future__ import annotations

import json

import pytest
from cdk_harness import Synth, render

from energy_lake import contract, naming
from stacks.etl import RUN_REQUEST_DETAIL_TYPE, RUN_REQUEST_SOURCE
from stacks.glue_assets import JOBS

pytestmark = pytest.mark.xdist_group("cdk")


def job(synth: Synth, name: str) -> dict:
    resource = synth.stacks["etl"].jobs[name]
    return synth.templates["etl"]["Resources"][synth.logical_id(resource)]["Properties"]


def crawler(synth: Synth, zone: str) -> dict:
    resource = synth.stacks["etl"].crawlers[zone]
    return synth.templates["etl"]["Resources"][synth.logical_id(resource)]["Properties"]


def ref(synth: Synth, construct) -> dict:
    return {"Ref": synth.logical_id(construct)}


@pytest.mark.parametrize("name", JOBS)
def test_job_runs_glue_5_python_3_with_configured_capacity(synth: Synth, name: str) -> None:
    c = synth.config
    properties = job(synth, name)
    assert properties["Name"] == naming.job_name(name, synth.env_name)
    assert properties["GlueVersion"] == "5.0"
    assert properties["Command"]["Name"] == "glueetl"
    assert properties["Command"]["PythonVersion"] == "3"
    assert properties["WorkerType"] == c.glue_worker_type
    assert properties["NumberOfWorkers"] == c.glue_number_of_workers
    assert properties["Timeout"] == c.glue_job_timeout_minutes
    assert properties["MaxRetries"] == c.glue_job_max_retries
    assert properties["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert properties["SecurityConfiguration"] == ref(
        synth, synth.stacks["etl"].security_configuration
    )
    role = render(properties["Role"])
    assert synth.logical_id(synth.stacks["catalog"].job_role) in role


@pytest.mark.parametrize("name", JOBS)
def test_job_arguments_enable_observability_and_disable_bookmarks(synth: Synth, name: str) -> None:
    arguments = job(synth, name)["DefaultArguments"]
    assert arguments["--enable-metrics"] == "true"
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    assert arguments["--enable-observability-metrics"] == "true"
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
    assert "--datasets" not in arguments  # every dataset unless a run says otherwise
    assert "--conf" not in arguments


@pytest.mark.parametrize("name", JOBS)
def test_job_arguments_point_at_the_lake_buckets(synth: Synth, name: str) -> None:
    arguments = {k: render(v) for k, v in job(synth, name)["DefaultArguments"].items()}
    buckets = synth.stacks["storage"].buckets
    expected = {
        "--raw-uri": ("raw", "/"),
        "--processed-uri": ("processed", "/"),
        "--curated-uri": ("curated", "/"),
        "--rejected-uri": ("rejected", "/"),
        "--reports-uri": ("glue_assets", "/reports/"),
        "--TempDir": ("glue_assets", f"/temp/{name}/"),
    }
    for argument, (bucket, suffix) in expected.items():
        value = arguments[argument]
        assert value.startswith("s3://${Import:"), argument
        assert synth.logical_id(buckets[bucket]) in value, argument
        assert value.endswith(suffix), argument
    assert "athena" not in " ".join(arguments.values()).lower()


@pytest.mark.parametrize("name", JOBS)
def test_job_code_is_shipped_as_assets(synth: Synth, name: str) -> None:
    code = synth.stacks["etl"].code
    properties = job(synth, name)
    script = render(properties["Command"]["ScriptLocation"])
    packages = render(properties["DefaultArguments"]["--extra-py-files"])
    assert script.endswith(f"/{code.scripts[name].asset_hash}.py")
    assert packages.endswith(f"/{code.packages.asset_hash}.zip")
    assert (synth.outdir / f"asset.{code.packages.asset_hash}.zip").is_file()


def test_security_configuration_encrypts_s3_logs_and_bookmarks_with_the_lake_key(
    synth: Synth,
) -> None:
    (config,) = synth.resources("etl", "AWS::Glue::SecurityConfiguration").values()
    encryption = config["Properties"]["EncryptionConfiguration"]
    key = render(encryption["CloudWatchEncryption"]["KmsKeyArn"])
    assert synth.logical_id(synth.stacks["storage"].key) in key
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert render(encryption["JobBookmarksEncryption"]["KmsKeyArn"]) == key
    (s3,) = encryption["S3Encryptions"]
    assert s3["S3EncryptionMode"] == "SSE-KMS"
    assert render(s3["KmsKeyArn"]) == key


def test_raw_crawler_discovers_new_csv_folders_and_only_logs_schema_changes(
    synth: Synth,
) -> None:
    properties = crawler(synth, "raw")
    paths = [render(t["Path"]) for t in properties["Targets"]["S3Targets"]]
    raw_id = synth.logical_id(synth.stacks["storage"].buckets["raw"])
    assert [p.rsplit("/", 2)[-2] for p in paths] == list(contract.DATASETS)
    assert all(raw_id in p for p in paths)
    assert properties["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert properties["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    (classifier,) = synth.resources("etl", "AWS::Glue::Classifier").values()
    assert classifier["Properties"]["CsvClassifier"]["ContainsHeader"] == "PRESENT"
    assert properties["Classifiers"] == [
        {"Ref": next(iter(synth.resources("etl", "AWS::Glue::Classifier")))}
    ]


@pytest.mark.parametrize("zone", ["processed", "curated"])
def test_typed_zone_crawlers_only_add_partitions_to_the_contract_tables(
    synth: Synth, zone: str
) -> None:
    properties = crawler(synth, zone)
    (target,) = properties["Targets"]["CatalogTargets"]
    tables = synth.stacks["catalog"].tables
    for table_ref, name in zip(target["Tables"], contract.DATASETS, strict=True):
        assert synth.logical_id(tables[(zone, name)]) in render(table_ref)
    assert synth.logical_id(synth.stacks["catalog"].databases[zone]) in render(
        target["DatabaseName"]
    )
    assert properties["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert properties["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    configuration = json.loads(properties["Configuration"])
    assert configuration["CrawlerOutput"]["Partitions"] == {
        "AddOrUpdateBehavior": "InheritFromTable"
    }


@pytest.mark.parametrize("zone", naming.ZONES)
def test_each_crawler_runs_as_its_zone_role_with_the_security_configuration(
    synth: Synth, zone: str
) -> None:
    properties = crawler(synth, zone)
    role = synth.logical_id(synth.stacks["catalog"].crawler_roles[zone])
    assert role in render(properties["Role"])
    assert properties["CrawlerSecurityConfiguration"] == ref(
        synth, synth.stacks["etl"].security_configuration
    )
    assert "Schedule" not in properties  # the workflow runs it


def test_workflow_runs_jobs_then_crawlers_in_order(synth: Synth) -> None:
    etl = synth.stacks["etl"]
    (workflow,) = synth.resources("etl", "AWS::Glue::Workflow").values()
    assert workflow["Properties"]["Name"] == naming.workflow_name(synth.env_name)
    assert workflow["Properties"]["MaxConcurrentRuns"] == 1
    triggers = {
        name: synth.templates["etl"]["Resources"][synth.logical_id(t)]["Properties"]
        for name, t in etl.triggers.items()
    }
    for trigger in triggers.values():
        assert trigger["WorkflowName"] == ref(synth, etl.workflow)

    def actions(trigger: dict) -> list[dict]:
        return trigger["Actions"]

    jobs = {name: ref(synth, j) for name, j in etl.jobs.items()}
    crawlers = {zone: ref(synth, c) for zone, c in etl.crawlers.items()}
    start = triggers["start"]
    assert start["Type"] == "EVENT"
    assert actions(start) == [
        {"JobName": jobs["raw_to_processed"]},
        {"CrawlerName": crawlers["raw"]},
    ]
    second = triggers["after_raw_to_processed"]
    assert second["Type"] == "CONDITIONAL"
    assert second["StartOnCreation"] is True
    assert second["Predicate"]["Conditions"] == [
        {"JobName": jobs["raw_to_processed"], "State": "SUCCEEDED", "LogicalOperator": "EQUALS"}
    ]
    assert actions(second) == [
        {"JobName": jobs["processed_to_curated"]},
        {"CrawlerName": crawlers["processed"]},
    ]
    third = triggers["after_processed_to_curated"]
    assert third["Predicate"]["Conditions"] == [
        {
            "JobName": jobs["processed_to_curated"],
            "State": "SUCCEEDED",
            "LogicalOperator": "EQUALS",
        }
    ]
    assert actions(third) == [{"CrawlerName": crawlers["curated"]}]
    assert third["StartOnCreation"] is True


def test_start_trigger_batches_events_as_configured(synth: Synth) -> None:
    etl = synth.stacks["etl"]
    start = synth.templates["etl"]["Resources"][synth.logical_id(etl.triggers["start"])]
    assert start["Properties"]["EventBatchingCondition"] == {
        "BatchSize": synth.config.landing_batch_size,
        "BatchWindow": synth.config.landing_batch_window_seconds,
    }


def rule(synth: Synth, construct) -> dict:
    return synth.templates["etl"]["Resources"][synth.logical_id(construct)]["Properties"]


def workflow_targets(synth: Synth, properties: dict) -> None:
    etl = synth.stacks["etl"]
    (target,) = properties["Targets"]
    assert render(target["Arn"]).endswith(":workflow/${" + synth.logical_id(etl.workflow) + "}")
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = synth.templates["etl"]["Resources"][role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "events.amazonaws.com"
    }


def test_schedule_rule_starts_the_workflow(synth: Synth) -> None:
    properties = rule(synth, synth.stacks["etl"].schedule_rule)
    assert properties["ScheduleExpression"] == synth.config.schedule_expression
    assert properties["State"] == "ENABLED"
    workflow_targets(synth, properties)


def test_csv_landing_in_raw_starts_the_workflow(synth: Synth) -> None:
    properties = rule(synth, synth.stacks["etl"].landing_rule)
    pattern = properties["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    (bucket,) = pattern["detail"]["bucket"]["name"]
    raw_id = synth.logical_id(synth.stacks["storage"].buckets["raw"])
    assert raw_id in render(bucket)
    assert pattern["detail"]["object"]["key"] == [{"suffix": {"equals-ignore-case": ".csv"}}]
    workflow_targets(synth, properties)


def test_a_run_request_event_starts_the_workflow_of_its_environment(synth: Synth) -> None:
    properties = rule(synth, synth.stacks["etl"].run_request_rule)
    assert properties["EventPattern"] == {
        "source": [RUN_REQUEST_SOURCE],
        "detail-type": [RUN_REQUEST_DETAIL_TYPE],
        "detail": {"env": [synth.env_name]},
    }
    workflow_targets(synth, properties)


def test_events_role_may_only_notify_the_workflow(synth: Synth) -> None:
    etl = synth.stacks["etl"]
    role_id = rule(synth, etl.schedule_rule)["Targets"][0]["RoleArn"]["Fn::GetAtt"][0]
    policies = [
        p
        for p in synth.resources("etl", "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert [s["Action"] for s in statements] == ["glue:NotifyEvent"]
    assert render(statements[0]["Resource"]).endswith(
        ":workflow/${" + synth.logical_id(etl.workflow) + "}"
    )


def test_job_and_crawler_failures_notify_the_encrypted_topic(synth: Synth) -> None:
    etl = synth.stacks["etl"]
    topic_id = synth.logical_id(etl.topic)
    (topic,) = synth.resources("etl", "AWS::SNS::Topic").values()
    assert synth.logical_id(synth.stacks["storage"].key) in render(
        topic["Properties"]["KmsMasterKeyId"]
    )
    rules = [
        r["Properties"]
        for r in synth.resources("etl", "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.glue"]
    ]
    by_type = {r["EventPattern"]["detail-type"][0]: r for r in rules}
    jobs = by_type["Glue Job State Change"]
    assert jobs["EventPattern"]["detail"]["jobName"] == [ref(synth, j) for j in etl.jobs.values()]
    assert set(jobs["EventPattern"]["detail"]["state"]) >= {"FAILED", "TIMEOUT"}
    crawlers = by_type["Glue Crawler State Change"]
    assert crawlers["EventPattern"]["detail"]["crawlerName"] == [
        ref(synth, c) for c in etl.crawlers.values()
    ]
    assert crawlers["EventPattern"]["detail"]["state"] == ["Failed"]
    for properties in (jobs, crawlers):
        assert properties["Targets"][0]["Arn"] == {"Ref": topic_id}
