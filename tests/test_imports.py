"""The core stays pure: importing it pulls in no cattrs and no shell module."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

CORE = (
    "model",
    "errors",
    "_inputs",
    "calendar",
    "matrix",
    "signals",
    "triage",
    "authority",
    "escalation",
    "playbooks",
    "review",
    "learning",
    "effect",
    "_fast",
)
FORBIDDEN = ("cattrs", "servicetriage.config", "servicetriage.store", "servicetriage.cli")

PROBE = """
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _existing_core_modules() -> list[str]:
    return [f"servicetriage.{name}" for name in CORE if importlib.util.find_spec(f"servicetriage.{name}") is not None]


def test_core_modules_import_no_shell_module_and_no_cattrs() -> None:
    """A fresh interpreter that imports every core module has no cattrs, config, store or cli loaded."""
    modules = _existing_core_modules()
    assert "servicetriage.calendar" in modules
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    assert set(modules) <= loaded
    leaked = sorted(name for name in loaded if any(name == f or name.startswith(f + ".") for f in FORBIDDEN))
    assert leaked == []


def test_package_import_does_not_load_the_strategies() -> None:
    """Importing the package does not import Hypothesis (strategies are imported on demand)."""
    result = subprocess.run(
        [sys.executable, "-c", "import servicetriage, sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    assert "hypothesis" not in loaded
    assert "servicetriage.strategies" not in loaded
