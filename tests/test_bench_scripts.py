"""The benchmark scripts still run (with ``--run-slow``): a benchmark that crashes measures nothing.

Each script runs on a tiny workload in a child process; the figures are not checked here (they are
measured on a quiet machine and reported on the performance page), only that the script completes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"

TINY = {
    "bench_cli.py": ["--n", "200", "--jobs", "1", "--sample", "100"],
    "bench_authority.py": ["--quick", "--sizes", "10"],
    "bench_triage.py": ["--n", "300", "--pool", "100", "--rounds", "1", "--rule-engine-n", "30"],
    "bench_assign.py": ["--quick"],
    "bench_learning.py": ["--reports", "200", "--writes", "20", "--checks", "20"],
    "bench_lexicon.py": ["--n", "200", "--rounds", "1"],
}


def test_every_benchmark_has_a_tiny_run() -> None:
    scripts = {path.name for path in BENCH.glob("bench_*.py")} - {"bench_spark.py", "bench_escalation.py"}
    assert scripts == set(TINY)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_runs_to_the_end(script: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *TINY[script]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
