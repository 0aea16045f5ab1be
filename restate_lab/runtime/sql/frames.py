"""Arrow answers as pandas DataFrames, keeping their types (the same for the runtime and a real server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def to_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` as a DataFrame: nullable integer and boolean dtypes, timestamps as tz-aware datetimes.

    pandas' defaults would turn an integer column with a null into floats and a boolean one into objects;
    the nullable dtypes keep what the server said. Strings stay Python strings, lists Python lists.
    """
    import pandas as pd
    import pyarrow as pa

    mapping: dict[pa.DataType, Any] = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    frame = table.to_pandas(types_mapper=mapping.get, maps_as_pydicts="strict")
    for field in table.schema:
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            frame[field.name] = pd.Series(table.column(field.name).to_pylist(), index=frame.index, dtype=object)
    return frame


def read_arrow_stream(body: bytes) -> pa.Table:
    """An Arrow IPC stream (the server's answer without ``accept: application/json``) as a table."""
    import pyarrow as pa

    with pa.ipc.open_stream(body) as reader:
        return reader.read_all()
