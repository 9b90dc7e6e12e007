"""Test configuration shared by the tests, the docs and the doctests.

- ``--run-slow`` runs the tests marked ``slow`` (heavy property runs,
  process-kill tests); the default run skips them.
- Hypothesis profiles: ``dev`` (the default here: 100 examples, no
  deadline and no slow-generation health check, so a busy machine never
  fails a test on time), ``thorough`` (2,000 examples); choose with
  ``--hypothesis-profile``. With ``CI`` set, Hypothesis' own ``ci`` profile
  applies (derandomized), untimed likewise.
- Every Python code block in ``docs/`` and ``README.md`` runs as a test
  (Sybil), and so does every doctest in the source.
"""

from __future__ import annotations

import os
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

import pytest
from hypothesis import HealthCheck, settings
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.rest import DocTestParser

# Time is not a property: no deadline and no "generation is slow" health check, so a busy machine (or
# the first draw of a policy, which compiles the lexicons) never fails a test.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=100, **_UNTIMED)
settings.register_profile("thorough", max_examples=2000, **_UNTIMED)
settings.register_profile("ci-untimed", parent=settings.get_profile("ci"), **_UNTIMED)
settings.load_profile("ci-untimed" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--run-slow``."""
    parser.addoption("--run-slow", action="store_true", default=False, help="run the slow tests too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``slow`` unless ``--run-slow`` is given."""
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


pytest_collect_file = (
    Sybil(
        parsers=[PythonCodeBlockParser(), SkipParser()],
        patterns=["*.md"],
        fixtures=["tmp_path"],
    )
    + Sybil(
        parsers=[DocTestParser(optionflags=ELLIPSIS | NORMALIZE_WHITESPACE)],
        patterns=["*.py"],
        excludes=["conftest.py"],
    )
).pytest()
