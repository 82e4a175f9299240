"""Curated semantics: one row per business key, the latest version wins.

"Latest" is the lineage order (load date, then source file, then row in the file): the version
from the latest load wins and, inside one load, the later row. The same order decides whether a
full rebuild or an incremental merge is run, so both give the same rows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from energy_lake import contract as c

VERSION_ORDER = (c.LOAD_COLUMN, "source_file", "source_row")
_RANK = "_version_rank"
_CONTENT = "_content_hash"
_WINNER_CONTENT = "_winner_content_hash"


def _content_hash(dataset: c.Dataset):
    return F.xxhash64(*[F.col(name) for name in dataset.source_header])


def rank_versions(rows: DataFrame, dataset: c.Dataset) -> DataFrame:
    """Adds the version rank (1 = winner) and whether a row repeats its winner's content.

    One window over the business key: a single shuffle for the whole dedupe.
    """
    by_key = Window.partitionBy(dataset.business_key).orderBy(
        *[F.col(name).desc() for name in VERSION_ORDER]
    )
    return (
        rows.withColumn(_RANK, F.row_number().over(by_key))
        .withColumn(_CONTENT, _content_hash(dataset))
        .withColumn(_WINNER_CONTENT, F.first(_CONTENT).over(by_key))
    )


def latest_versions(ranked: DataFrame, columns: list[str]) -> DataFrame:
    """The winning version of every key, in the given column order."""
    return ranked.where(F.col(_RANK) == 1).select(*columns)


def dedupe_counts(ranked: DataFrame) -> DataFrame:
    """rows_written (winners) / exact_duplicates (same content as the winner) / superseded."""
    outcome = (
        F.when(F.col(_RANK) == 1, F.lit("rows_written"))
        .when(F.col(_CONTENT) == F.col(_WINNER_CONTENT), F.lit("exact_duplicates"))
        .otherwise(F.lit("superseded"))
    )
    return ranked.groupBy(outcome.alias("outcome")).count()


def orphans(facts: DataFrame, dimensions: dict[str, DataFrame], dataset: c.Dataset) -> DataFrame:
    """Fact rows whose referenced entity is unknown or of the wrong kind.

    `dataset.references` maps a transaction type to the dimension its entity must be in
    (purchases reference providers, sales reference clients).
    """
    assert dataset.reference_selector and dataset.reference_column
    type_column, entity_column = dataset.reference_selector, dataset.reference_column
    known = None
    for kind, dimension_name in dataset.references.items():
        key = c.dataset(dimension_name).business_key
        keys = dimensions[dimension_name].select(
            F.col(key).alias("_entity"), F.lit(kind).alias("_kind")
        )
        known = keys if known is None else known.unionByName(keys)
    assert known is not None
    return facts.join(
        F.broadcast(known.distinct()),
        (facts[entity_column] == F.col("_entity")) & (facts[type_column] == F.col("_kind")),
        "left_anti",
    )
