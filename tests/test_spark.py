"""Spark in local mode triages 10,000 tickets exactly as the plain command ranks them.

Needs the ``spark`` extra (``pip install 'servicetriage[spark]'``) and a
Java runtime (17 or later) on ``PATH`` or in ``JAVA_HOME``; without them the
tests are skipped, saying which is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pytest

from servicetriage.batch import BatchTriage
from servicetriage.cli import main
from servicetriage.ingest import ticket_to_flat, write_jsonl

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

ROOT = Path(__file__).parent.parent
NOW = "2026-03-02T10:00:00+08:00"
COUNT = 10_000
COMPARED = ("id", "quadrant", "priority", "due", "urgency", "importance", "marks")


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("pyarrow") is None:
        return "pyspark and pyarrow are not installed: pip install 'servicetriage[spark]'"
    if importlib.util.find_spec("pandas") is None:
        return "pandas is not installed: pip install 'servicetriage[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime on PATH or in JAVA_HOME: PySpark needs a JDK 17 or later"
    return None


MISSING = _missing()
if MISSING is not None:
    pytestmark.append(pytest.mark.skip(reason=MISSING))


def _tickets() -> list[Any]:
    spec = importlib.util.spec_from_file_location("make_tickets", ROOT / "examples" / "make_tickets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tickets: list[Any] = module.make_tickets(COUNT, seed=9)
    return tickets


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession  # noqa: PLC0415 - optional

    session = (
        SparkSession.builder.master("local[2]")
        .appName("servicetriage-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def queue(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """The tickets, and the command's placement of each, by id."""
    tickets = _tickets()
    path = tmp_path_factory.mktemp("spark") / "tickets.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        write_jsonl(tickets, stream)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["triage", str(path), "--now", NOW, "--format", "json"]) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return tickets, {row["id"]: row for row in rows}


def _frame(spark: Any, tickets: list[Any], partitions: int) -> Any:
    import pandas as pd  # noqa: PLC0415 - optional

    flat = [{k: (v if v != "" else None) for k, v in ticket_to_flat(t).items()} for t in tickets]
    columns = sorted({k for row in flat for k in row})
    schema = ", ".join(f"`{name}` string" for name in columns)
    return spark.createDataFrame(pd.DataFrame(flat, columns=columns), schema).repartition(partitions)


@pytest.mark.parametrize("engine", ["arrow", "pandas"])
def test_spark_rows_equal_the_command_output(
    spark: Any, queue: tuple[list[Any], dict[str, dict[str, Any]]], engine: Literal["arrow", "pandas"]
) -> None:
    from servicetriage.spark import triage_dataframe  # noqa: PLC0415

    tickets, expected = queue
    assert len(tickets) == len(expected) == COUNT
    job = BatchTriage(now=datetime.fromisoformat(NOW))
    result = triage_dataframe(_frame(spark, tickets, 4), job, engine=engine)
    rows = [row.asDict(recursive=True) for row in result.collect()]
    assert len(rows) == COUNT
    for row in rows:
        assert row["error"] is None, row
        assert row["policy_hash"] == job.hash
        assert {k: row[k] for k in COMPARED} == expected[row["id"]]
