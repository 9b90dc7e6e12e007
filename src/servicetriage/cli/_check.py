"""``servicetriage check``: static analysis of policy files, with a CI-friendly exit code.

A file may hold any of the sections ``[triage]``, ``[authority]``,
``[escalation]`` and ``[[playbooks]]``; each section present is loaded (every
bad field reported with its path) and checked. The exit code is 0 when no
finding is an error (nor, with ``--strict``, a warning), 1 otherwise, and 2
when a file cannot be loaded at all.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servicetriage import config
from servicetriage.authority import AuthorityPolicy, check_authority_policy
from servicetriage.errors import PolicyError
from servicetriage.escalation import EscalationPolicy, check_escalation_policy
from servicetriage.model import Finding, Severity
from servicetriage.playbooks import PlaybookSet, check_playbooks
from servicetriage.triage import TriagePolicy, check_triage_policy

__all__ = ["check_file", "register"]


def _checker(cls: type[Any], check: Callable[[Any], tuple[Finding, ...]]) -> Callable[[Any], tuple[Finding, ...]]:
    def run(data: Any) -> tuple[Finding, ...]:
        return check(config.structure(data, cls))

    return run


_SECTIONS: dict[str, Callable[[Any], tuple[Finding, ...]]] = {
    "triage": _checker(TriagePolicy, check_triage_policy),
    "authority": _checker(AuthorityPolicy, check_authority_policy),
    "escalation": _checker(EscalationPolicy, check_escalation_policy),
    "playbooks": lambda data: check_playbooks(config.structure({"playbooks": data}, PlaybookSet)),
}


def check_file(path: str | Path) -> tuple[Finding, ...]:
    """Load every section of the policy file *path* and return all findings.

    Raises `PolicyError` listing every problem
    (each ``file: section.path: message``) when a section cannot be loaded,
    or when the file holds none of the known sections.
    """
    data = config.read_document(path)
    if not isinstance(data, dict) or not set(data) & set(_SECTIONS):
        known = ", ".join(_SECTIONS)
        msg = f"{path}: no policy section found; expected one of: {known}"
        raise PolicyError(msg)
    findings: list[Finding] = []
    problems: list[str] = []
    for section, run in _SECTIONS.items():
        if section not in data:
            continue
        try:
            findings.extend(
                Finding(code=f.code, severity=f.severity, path=f"{section}.{f.path}", message=f.message)
                for f in run(data[section])
            )
        except PolicyError as exc:
            problems.extend(config.prefix_problems(exc.problems, path, section))
    if problems:
        raise PolicyError("; ".join(problems), tuple(problems))
    return tuple(findings)


def _run(args: argparse.Namespace) -> int:
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    worst = 0
    rows: list[dict[str, str]] = []
    for path in args.files:
        for finding in check_file(path):
            if finding.severity in failing:
                worst = 1
            rows.append(
                {
                    "file": str(path),
                    "severity": finding.severity.value,
                    "code": finding.code,
                    "path": finding.path,
                    "message": finding.message,
                }
            )
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['file']}: {row['severity']}: {row['path']}: {row['message']} ({row['code']})")
        errors = sum(r["severity"] == "error" for r in rows)
        warnings = sum(r["severity"] == "warning" for r in rows)
        print(f"{len(args.files)} file(s) checked: {errors} error(s), {warnings} warning(s), {len(rows)} finding(s)")
    return worst


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``check`` sub-command to *sub*."""
    parser = sub.add_parser(
        "check",
        help="find problems in policy files (exit 1 on errors)",
        description=(
            "Load every section of each policy file ([triage], [authority], [escalation], [[playbooks]]) "
            "and report findings: unknown signals, overlapping thresholds, unreachable quadrants, non-monotone "
            "matrices, protected attributes, actions no tier may approve, shrinking limits, shadowed grants, "
            "Q1 chains that never reach the executive, playbooks that can never match. "
            "Exit status: 0 clean, 1 errors (or warnings with --strict), 2 a file cannot be loaded."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="POLICY", help="TOML, JSON or YAML policy files")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(func=_run)


