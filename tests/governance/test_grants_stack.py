"""Lake Formation grants: least privilege per principal, PII excluded, one chain, in the app."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cdk_harness import Synth, render

from energy_lake import contract, naming
from stacks.grants import analyst_columns, curated_table_columns

pytestmark = pytest.mark.xdist_group("cdk")

PERMISSIONS = "AWS::LakeFormation::PrincipalPermissions"


@dataclass(frozen=True)
class Grant:
    logical_id: str
    principal: str
    kind: str  # Database | Table | TableWithColumns | DataLocation
    target: tuple[str, ...]  # (database,) | (database, table or "*") | (location,)
    permissions: frozenset[str]
    columns: tuple[str, ...]
    depends_on: tuple[str, ...]
    with_grant_option: tuple[str, ...]


def grants_of(template: dict) -> list[Grant]:
    out = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != PERMISSIONS:
            continue
        properties = resource["Properties"]
        ((kind, body),) = properties["Resource"].items()
        if kind == "Database":
            target = (render(body["Name"]),)
        elif kind == "DataLocation":
            target = (render(body["ResourceArn"]),)
        else:
            name = "*" if "TableWildcard" in body else render(body["Name"])
            target = (render(body["DatabaseName"]), name)
        out.append(
            Grant(
                logical_id=logical_id,
                principal=render(properties["Principal"]["DataLakePrincipalIdentifier"]),
                kind=kind,
                target=target,
                permissions=frozenset(properties["Permissions"]),
                columns=tuple(body.get("ColumnNames", ())),
                depends_on=tuple(resource.get("DependsOn", ())),
                with_grant_option=tuple(properties["PermissionsWithGrantOption"]),
            )
        )
    return out


class Names:
    """Rendered references, as the grants template spells them."""

    def __init__(self, synth: Synth) -> None:
        self.synth = synth
        self.grants = synth.stacks["grants"]
        self.catalog = synth.stacks["catalog"]

    def of(self, value: str) -> str:
        return render(self.grants.resolve(value))

    def database(self, zone: str) -> str:
        return self.of(self.catalog.databases[zone].ref)

    def table(self, zone: str, dataset: str) -> str:
        return self.of(self.catalog.tables[(zone, dataset)].ref)

    def role(self, role) -> str:
        return self.of(role.role_arn)


@pytest.fixture(scope="module")
def grants(app_dev: Synth) -> list[Grant]:
    return grants_of(app_dev.templates["grants"])


@pytest.fixture(scope="module")
def names(app_dev: Synth) -> Names:
    return Names(app_dev)


def of_principal(grants: list[Grant], principal: str) -> list[Grant]:
    found = [g for g in grants if g.principal == principal]
    assert found, f"no grant to {principal}"
    return found


def test_the_analyst_selects_curated_columns_minus_pii(grants, names) -> None:
    analyst = of_principal(grants, names.role(names.grants.analyst_role))
    databases = {g.target for g in analyst if g.kind == "Database"}
    assert databases == {(names.database("curated"),)}
    assert all(g.permissions == {"DESCRIBE"} for g in analyst if g.kind == "Database")
    columns = {g.target[1]: g for g in analyst if g.kind == "TableWithColumns"}
    assert set(columns) == {names.table("curated", d) for d in contract.DATASETS}
    for dataset in contract.DATASETS.values():
        grant = columns[names.table("curated", dataset.name)]
        assert grant.target[0] == names.database("curated")
        assert grant.permissions == {"SELECT"}
        expected = [c for c in curated_table_columns(dataset) if c not in dataset.pii_columns]
        assert list(grant.columns) == expected
    # Nothing else: no whole-table grant (it would include PII), no other zone.
    assert {g.kind for g in analyst} == {"Database", "TableWithColumns"}


def test_the_pii_columns_of_the_contract_are_the_ones_withheld() -> None:
    withheld = {
        name: set(curated_table_columns(d)) - set(analyst_columns(d))
        for name, d in contract.DATASETS.items()
    }
    assert withheld["clients"] == set(contract.CLIENTS.pii_columns)
    assert withheld["clients"] == {
        c.name for c in contract.CLIENTS.columns if c.pii
    }  # identification, client_name
    assert withheld["clients"]
    assert withheld["providers"] == withheld["transactions"] == set()


def test_spectrum_reads_the_curated_tables_only(grants, names) -> None:
    spectrum = of_principal(grants, names.role(names.grants.spectrum_role))
    assert {(g.kind, g.target) for g in spectrum} == {
        ("Database", (names.database("curated"),)),
        *(
            ("Table", (names.database("curated"), names.table("curated", d)))
            for d in contract.DATASETS
        ),
    }
    for grant in spectrum:
        assert grant.permissions <= {"SELECT", "DESCRIBE"}


def test_engineers_read_processed_and_curated(grants, names) -> None:
    engineer = of_principal(grants, names.role(names.grants.engineer_role))
    assert {(g.kind, g.target) for g in engineer} == {
        *(("Database", (names.database(z),)) for z in ("processed", "curated")),
        *(("Table", (names.database(z), "*")) for z in ("processed", "curated")),
    }
    assert all(g.permissions <= {"SELECT", "DESCRIBE"} for g in engineer)


def test_the_job_role_gets_what_each_job_does_on_its_zones(grants, names, app_dev) -> None:
    job = of_principal(grants, names.role(names.catalog.job_role))
    by_target = {(g.kind, g.target): g.permissions for g in job}
    for zone in naming.ZONES:
        assert by_target[("Database", (names.database(zone),))] == {"DESCRIBE"}
    for zone in ("processed", "curated"):  # written by a job, read by the next
        for dataset in contract.DATASETS:
            key = ("Table", (names.database(zone), names.table(zone, dataset)))
            assert by_target[key] == {"SELECT", "DESCRIBE", "INSERT", "ALTER"}
    locations = {g.target[0] for g in job if g.kind == "DataLocation"}
    storage = app_dev.stacks["storage"]
    assert locations == {names.of(storage.buckets[z].bucket_arn) for z in ("processed", "curated")}
    assert not any("ALL" in p or "DROP" in p for p in by_target.values())


def test_each_crawler_works_on_its_own_zone_only(grants, names, app_dev) -> None:
    storage = app_dev.stacks["storage"]
    for zone, role in names.catalog.crawler_roles.items():
        crawler = of_principal(grants, names.role(role))
        databases = {g.target[0] for g in crawler if g.kind != "DataLocation"}
        assert databases == {names.database(zone)}
        kinds = {(g.kind, g.target): g.permissions for g in crawler}
        assert kinds[("Database", (names.database(zone),))] == {"CREATE_TABLE", "ALTER", "DESCRIBE"}
        assert kinds[("Table", (names.database(zone), "*"))] == {
            "SELECT",
            "DESCRIBE",
            "INSERT",
            "ALTER",
        }
        locations = {g.target[0] for g in crawler if g.kind == "DataLocation"}
        governed = {"processed", "curated"}
        assert locations == (
            {names.of(storage.buckets[zone].bucket_arn)}
            & {names.of(storage.buckets[z].bucket_arn) for z in governed}
        )


def test_no_grant_can_be_passed_on(grants) -> None:
    assert all(g.with_grant_option == () for g in grants)
    assert not any("ALL" in g.permissions for g in grants)


def test_grants_run_one_at_a_time_in_one_chain(grants) -> None:
    """Each grant waits for exactly one other and none is waited for twice: a single chain."""
    ids = {g.logical_id for g in grants}
    waits = {g.logical_id: [d for d in g.depends_on if d in ids] for g in grants}
    heads = [g for g, deps in waits.items() if not deps]
    assert len(heads) == 1
    assert all(len(deps) <= 1 for deps in waits.values())
    successors = [d for deps in waits.values() for d in deps]
    assert len(successors) == len(set(successors)) == len(grants) - 1


def test_external_principals_replace_the_persona_roles(variant) -> None:
    analysts = ("arn:aws:iam::123456789012:role/analysts-sso",)
    engineers = ("arn:aws:iam::123456789012:role/eng-a", "arn:aws:iam::123456789012:role/eng-b")
    synth = variant("dev", analyst_principal_arns=analysts, engineer_principal_arns=engineers)
    assert synth.grants.analyst_role is None
    assert synth.grants.engineer_role is None
    roles = [
        r["Properties"].get("RoleName")
        for r in synth.templates["grants"]["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
    ]
    assert roles == [f"{synth.config.prefix}-redshift-spectrum"]
    grants = grants_of(synth.templates["grants"])
    principals = {g.principal for g in grants}
    assert set(analysts) | set(engineers) <= principals
    for analyst in analysts:
        assert {g.kind for g in grants if g.principal == analyst} == {
            "Database",
            "TableWithColumns",
        }
    for engineer in engineers:
        assert len([g for g in grants if g.principal == engineer]) == 4


def test_reordering_configured_principals_keeps_every_grant_in_place(variant) -> None:
    """A renamed grant is replaced, and the replacement's delete would revoke the permission."""
    a, b = "arn:aws:iam::123456789012:role/eng-a", "arn:aws:iam::123456789012:role/eng-b"
    first = variant("dev", engineer_principal_arns=(a, b))
    second = variant("dev", engineer_principal_arns=(b, a))

    def ids(synth) -> dict[str, str]:
        return {g.logical_id: g.principal for g in grants_of(synth.templates["grants"])}

    assert ids(first) == ids(second)
