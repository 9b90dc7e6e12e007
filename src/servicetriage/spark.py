"""Triage a Spark DataFrame of tickets with ``mapInArrow`` or ``mapInPandas``.

This is the batch API (`servicetriage.batch`) on Apache Spark: the job (the
policy, the clock, the record shape) is pickled once on the driver,
broadcast to the executors, and compiled at most once per Python worker
process; each partition's batches are then mapped to result batches with
the schema `RESULT_DDL`. Every result row carries the policy's hash.

Needs the ``spark`` extra (``pyspark``, ``pyarrow``, ``pandas``); nothing
here imports them before a function is called.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import attrs

from servicetriage.batch import RESULT_COLUMNS, BatchTriage

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["RESULT_DDL", "Shipped", "arrow_mapper", "pandas_mapper", "ship", "triage_dataframe"]

#: The Spark schema of the result rows, as DDL.
RESULT_DDL = (
    "id string, quadrant string, priority int, due string, urgency string, importance string, "
    "marks array<string>, signals array<string>, reasons string, policy_hash string, error string"
)

#: Jobs already compiled in this process, by the digest of their pickled form.
_JOBS: dict[str, BatchTriage] = {}


@attrs.frozen
class Shipped:
    """A job in its pickled form, compiled on first use in each process and then reused."""

    key: str
    blob: bytes = attrs.field(repr=False)

    def job(self) -> BatchTriage:
        """The compiled job: unpickled (and so compiled) once per process."""
        found = _JOBS.get(self.key)
        if found is None:
            found = pickle.loads(self.blob)  # noqa: S301 - our own job, pickled by `ship` on the driver
            _JOBS[self.key] = found
        return found


def ship(job: BatchTriage) -> Shipped:
    """Pickle *job* for the executors (a few kilobytes: the policy's fields, not its compiled tables)."""
    blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    return Shipped(hashlib.sha256(blob).hexdigest(), blob)


def arrow_mapper(source: Any) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function for ``DataFrame.mapInArrow``: *source* is a `Shipped` job or a broadcast of one."""

    def triage_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        job = _job(source)
        for batch in batches:
            yield job.arrow(batch)

    return triage_batches


def pandas_mapper(source: Any) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function for ``DataFrame.mapInPandas``: *source* is a `Shipped` job or a broadcast of one."""

    def triage_frames(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd  # noqa: PLC0415 - an optional extra

        job = _job(source)
        for frame in frames:
            records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
            yield pd.DataFrame(job.records(records), columns=list(RESULT_COLUMNS))

    return triage_frames


def triage_dataframe(df: DataFrame, job: BatchTriage, *, engine: Literal["arrow", "pandas"] = "arrow") -> DataFrame:
    """Triage every row of *df* (ticket records, or payloads with ``job.source``): one result row each.

    The job is broadcast when the session has a SparkContext (classic Spark),
    else sent with each task (Spark Connect).
    """
    shipped: Any = ship(job)
    context = getattr(df.sparkSession, "_sc", None)  # None on Spark Connect, whose sessions have no SparkContext
    if context is not None:
        shipped = context.broadcast(shipped)
    if engine == "pandas":
        return df.mapInPandas(pandas_mapper(shipped), RESULT_DDL)
    return df.mapInArrow(arrow_mapper(shipped), RESULT_DDL)


def _job(source: Any) -> BatchTriage:
    shipped = source if isinstance(source, Shipped) else source.value
    return shipped.job()


def _plain(value: Any) -> Any:
    """A pandas cell as plain data: missing values (None, NaN, NaT) as ``None``, timestamps as datetimes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    to_pydatetime = getattr(value, "to_pydatetime", None)
    if to_pydatetime is not None:
        return None if str(value) == "NaT" else to_pydatetime()
    return value
