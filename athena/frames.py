"""Typed result frames: one conversion from an analysis' declared output to pandas.

Both backends end here, so a frame has the same columns and dtypes whichever engine ran the
query: exact decimals (`decimal128(p, s)[pyarrow]`), `int64[pyarrow]`, `double[pyarrow]`,
`date32[day][pyarrow]` and `string[pyarrow]` — Arrow-backed, nullable, never strings for numbers
or dates. An empty result is an empty frame with the same dtypes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pandas as pd
import pyarrow as pa
from sqlglot import exp

from athena.queries import Analysis, OutputColumn

_SIMPLE_TYPES: dict[exp.DataType.Type, pa.DataType] = {
    exp.DataType.Type.VARCHAR: pa.string(),
    exp.DataType.Type.TEXT: pa.string(),
    exp.DataType.Type.BIGINT: pa.int64(),
    exp.DataType.Type.INT: pa.int32(),
    exp.DataType.Type.DOUBLE: pa.float64(),
    exp.DataType.Type.DATE: pa.date32(),
}


def arrow_type(column: OutputColumn) -> pa.DataType:
    kind = column.type.this
    if kind is exp.DataType.Type.DECIMAL:
        precision, scale = (int(e.name) for e in column.type.expressions)
        return pa.decimal128(precision, scale)
    try:
        return _SIMPLE_TYPES[kind]
    except KeyError:
        raise ValueError(
            f"no Arrow type for output column {column.name} {column.sql_type}"
        ) from None


def arrow_schema(analysis: Analysis) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in analysis.output_columns])


def to_frame(analysis: Analysis, table: pa.Table) -> pd.DataFrame:
    """An engine's Arrow result, checked against and cast to the declared output."""
    schema = arrow_schema(analysis)
    if table.column_names != schema.names:
        raise ValueError(
            f"{analysis.name}: result columns {table.column_names} are not the declared "
            f"{schema.names}"
        )
    return table.cast(schema).to_pandas(types_mapper=pd.ArrowDtype)


def parse_value(text: str | None, type_: pa.DataType) -> object:
    """One value as Athena's GetQueryResults spells it (VarCharValue), typed."""
    if text is None:
        return None
    if pa.types.is_decimal(type_):
        return Decimal(text)
    if pa.types.is_integer(type_):
        return int(text)
    if pa.types.is_floating(type_):
        return float(text)
    if pa.types.is_date(type_):
        return dt.date.fromisoformat(text)
    return text


def rows_to_frame(analysis: Analysis, rows: Iterable[Sequence[str | None]]) -> pd.DataFrame:
    """Text rows (in declared column order) -> the typed frame."""
    schema = arrow_schema(analysis)
    columns: list[list[object]] = [[] for _ in schema]
    for row in rows:
        if len(row) != len(schema):
            raise ValueError(
                f"{analysis.name}: a row has {len(row)} values, expected {len(schema)}"
            )
        for values, text, field in zip(columns, row, schema, strict=True):
            values.append(parse_value(text, field.type))
    table = pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)],
        schema=schema,
    )
    return to_frame(analysis, table)
