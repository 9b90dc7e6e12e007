"""Benchmark triage on Spark in local mode: start-up cost and rows per second, against the plain paths.

Generates N example tickets (``examples/make_tickets.py``), then times, in
this order:

- the plain command (``servicetriage triage --format json``) on a JSON Lines file of them;
- the batch API in this process (``BatchTriage.records`` on the flat records);
- Spark: session start, the first job on 10 rows (Python workers start, the
  policy is unpickled and compiled once per worker), then ``mapInArrow`` and
  ``mapInPandas`` over all N rows written to Spark's ``noop`` sink.

    python bench/bench_spark.py --n 100000 --cores 2

Needs the ``spark`` extra and Java. Figures depend on the machine; they are
printed, not checked.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from servicetriage.batch import BatchTriage
from servicetriage.cli import main as cli_main
from servicetriage.ingest import ticket_to_flat, write_jsonl

ROOT = Path(__file__).parent.parent
NOW = "2026-03-02T10:00:00+08:00"


def _tickets(count: int) -> list[Any]:
    spec = importlib.util.spec_from_file_location("make_tickets", ROOT / "examples" / "make_tickets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tickets: list[Any] = module.make_tickets(count, seed=9)
    return tickets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    n = args.n
    tickets = _tickets(n)
    flat = [{k: (v if v != "" else None) for k, v in ticket_to_flat(t).items()} for t in tickets]
    now = datetime.fromisoformat(NOW)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.jsonl"
        with path.open("w", encoding="utf-8") as stream:
            write_jsonl(tickets, stream)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            cli_main(["triage", str(path), "--now", NOW, "--format", "json", "--jobs", "1"])
        took = time.perf_counter() - start
        print(f"command, one process:        {n / took:>10,.0f} rows/s  ({took:.2f} s for {n:,})")

    job = BatchTriage(now=now)
    start = time.perf_counter()
    job.records(flat)
    took = time.perf_counter() - start
    print(f"batch API, one process:      {n / took:>10,.0f} rows/s  ({took:.2f} s)")

    import pandas as pd  # noqa: PLC0415 - the spark extra, imported after the plain runs
    from pyspark.sql import SparkSession  # noqa: PLC0415

    from servicetriage.spark import triage_dataframe  # noqa: PLC0415

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark session start:         {time.perf_counter() - start:>10.2f} s")
    columns = sorted({k for row in flat for k in row})
    schema = ", ".join(f"`{c}` string" for c in columns)
    frame = spark.createDataFrame(pd.DataFrame(flat, columns=columns), schema).repartition(args.cores * 4).cache()
    frame.count()
    start = time.perf_counter()
    triage_dataframe(frame.limit(10), job).write.format("noop").mode("overwrite").save()
    print(f"first job, 10 rows:          {time.perf_counter() - start:>10.2f} s  (workers start, policy compiles)")
    for engine in ("arrow", "pandas"):
        for attempt in (1, 2):
            start = time.perf_counter()
            triage_dataframe(frame, job, engine=engine).write.format("noop").mode("overwrite").save()
            took = time.perf_counter() - start
            label = f"Spark mapIn{engine.title()}, run {attempt}:"
            print(f"{label:<29}{n / took:>10,.0f} rows/s  ({took:.2f} s, {args.cores} cores)")
    spark.stop()


if __name__ == "__main__":
    main()
