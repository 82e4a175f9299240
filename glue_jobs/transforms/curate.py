"""Curated semantics: one row per business key, the latest version wins.

"Latest" is the lineage order (load date, then source file, then row in the file): the version
from the latest load wins and, inside one load, the later row. The same order decides whether a
full rebuild or an incremental merge is run, so both give the same rows.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

from energy_lake import contract as c

VERSION_ORDER = (c.LOAD_COLUMN, "source_file", "source_row")
_RANK = "_version_rank"
_CONTENT = "_content_hash"
_WINNER_CONTENT = "_winner_content_hash"
_DAY = "_event_day"
_KEY_HASH = "_key_hash"
_WINNER_DAY = "_winner_event_day"


def _content_hash(dataset: c.Dataset):
    return F.xxhash64(*[F.col(name) for name in dataset.source_header])


def _latest_first(*partition: str) -> WindowSpec:
    """A window over `partition` (a key, perhaps with its day) ordered from the latest version."""
    return Window.partitionBy(*partition).orderBy(*[F.col(n).desc() for n in VERSION_ORDER])


def rank_versions(rows: DataFrame, dataset: c.Dataset) -> DataFrame:
    """Adds the version rank (1 = winner) and whether a row repeats its winner's content.

    One window over the business key: a single shuffle for the whole dedupe.
    """
    by_key = _latest_first(dataset.business_key)
    return (
        rows.withColumn(_RANK, F.row_number().over(by_key))
        .withColumn(_CONTENT, _content_hash(dataset))
        .withColumn(_WINNER_CONTENT, F.first(_CONTENT).over(by_key))
    )


def displaced_versions(rows: DataFrame, dataset: c.Dataset, day: Column) -> DataFrame:
    """(key, *VERSION_ORDER) of the versions that lose to a version in another event day.

    Only keys seen in more than one day (a correction that moved the transaction) are ranked
    here: one hash aggregate over the key and day columns finds them, and their few versions go
    through the window. What is left after dropping these versions can be deduplicated day by
    day. They are all superseded, never exact duplicates: their event time differs from the
    winner's.
    """
    key = dataset.business_key
    narrow = rows.select(key, F.xxhash64(key).alias(_KEY_HASH), day.alias(_DAY), *VERSION_ORDER)
    # Grouped by a hash of the key: a long groups faster than a string. A collision only sends
    # a few more keys through the exact window below; it cannot hide a spanning key.
    spanning = (
        narrow.groupBy(_KEY_HASH)
        .agg(F.min(_DAY).alias("_first"), F.max(_DAY).alias("_last"))
        .where(F.col("_first") != F.col("_last"))
        .select(_KEY_HASH)
    )
    by_key = _latest_first(key)
    return (
        narrow.join(F.broadcast(spanning), _KEY_HASH, "left_semi")
        .withColumn(_WINNER_DAY, F.first(_DAY).over(by_key))
        .where(F.col(_DAY) != F.col(_WINNER_DAY))
        .select(key, *VERSION_ORDER)
    )


def rank_within_days(rows: DataFrame, dataset: c.Dataset, displaced: DataFrame) -> DataFrame:
    """`rank_versions` of the rows left once the `displaced` versions are dropped (each key's
    remaining versions then sit in one event day), in one shuffle that also gives the write one
    task per day. The displaced versions are not in the result: count them as superseded.

    The rows are hash-partitioned by the day columns; the window over (day columns, key) needs
    no other shuffle, and its sort by (day columns, key, version) is the order the partitioned
    writer needs, so the ranked rows go to one file per day as they are.
    """
    days = list(dataset.partition_columns)
    by_key = _latest_first(*days, dataset.business_key)
    kept = rows.join(F.broadcast(displaced), [dataset.business_key, *VERSION_ORDER], "left_anti")
    return (
        kept.repartition(*days)
        .withColumn(_RANK, F.row_number().over(by_key))
        .withColumn(_CONTENT, _content_hash(dataset))
        .withColumn(_WINNER_CONTENT, F.first(_CONTENT).over(by_key))
    )


OUTCOMES = ("rows_written", "exact_duplicates", "superseded")


def _outcome() -> Column:
    """rows_written (winners) / exact_duplicates (same content as the winner) / superseded."""
    return (
        F.when(F.col(_RANK) == 1, F.lit(OUTCOMES[0]))
        .when(F.col(_CONTENT) == F.col(_WINNER_CONTENT), F.lit(OUTCOMES[1]))
        .otherwise(F.lit(OUTCOMES[2]))
    )


def dedupe_metrics() -> list[Column]:
    """`dedupe_counts` as aggregates for `DataFrame.observe` on ranked rows (no extra pass)."""
    return [F.sum((_outcome() == name).cast("long")).alias(name) for name in OUTCOMES]


def latest_versions(ranked: DataFrame, columns: list[str]) -> DataFrame:
    """The winning version of every key, in the given column order."""
    return ranked.where(F.col(_RANK) == 1).select(*columns)


def dedupe_counts(ranked: DataFrame) -> DataFrame:
    """Rows per outcome (see `_outcome`)."""
    return ranked.groupBy(_outcome().alias("outcome")).count()


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
