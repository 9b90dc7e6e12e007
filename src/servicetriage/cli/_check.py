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
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage import config
from servicetriage.authority import AuthorityPolicy, check_authority_policy
from servicetriage.errors import PolicyError
from servicetriage.escalation import EscalationPolicy, check_escalation_policy
from servicetriage.model import Finding, Severity
from servicetriage.playbooks import PlaybookSet, check_playbooks
from servicetriage.triage import TriagePolicy, check_triage_policy

if TYPE_CHECKING:
    from servicetriage.learning import Drill

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


def _drilled(playbooks: PlaybookSet, drills: Iterable[Drill]) -> PlaybookSet:
    """The playbooks with ``last_drilled`` raised to their latest recorded drill."""
    latest: dict[str, datetime] = {}
    for drill in drills:
        if drill.playbook_id not in latest or drill.at > latest[drill.playbook_id]:
            latest[drill.playbook_id] = drill.at
    updated = []
    for playbook in playbooks.playbooks:
        times = [t for t in (playbook.last_drilled, latest.get(playbook.id)) if t is not None]
        updated.append(attrs.evolve(playbook, last_drilled=max(times) if times else None))
    return attrs.evolve(playbooks, playbooks=tuple(updated))


def _in_section(section: str, path: str) -> str:
    """*path* as seen from the file: within *section*, whose checker may already name it (``escalation.chains[0]``)."""
    if path == section or path.startswith((f"{section}.", f"{section}[")):
        return path
    return f"{section}.{path}"


def check_file(path: str | Path, *, now: datetime | None = None, drills: Iterable[Drill] = ()) -> tuple[Finding, ...]:
    """Load every section of the policy file *path* and return all findings.

    With *now*, playbooks not drilled or used within their ``drill_every``
    give ``playbook.drill-overdue``; *drills* (recorded in a store) count as
    drills besides each playbook's own ``last_drilled``.

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
    recorded = tuple(drills)
    sections = dict(_SECTIONS)
    if now is not None:
        sections["playbooks"] = lambda data: check_playbooks(
            _drilled(config.structure({"playbooks": data}, PlaybookSet), recorded), now=now
        )
    for section, run in sections.items():
        if section not in data:
            continue
        try:
            findings.extend(
                Finding(
                    code=f.code,
                    severity=f.severity,
                    path=_in_section(section, f.path),
                    message=f.message,
                )
                for f in run(data[section])
            )
        except PolicyError as exc:
            problems.extend(config.prefix_problems(exc.problems, path, section))
    if problems:
        raise PolicyError("; ".join(problems), tuple(problems))
    return tuple(findings)


def _time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{option}: expected an aware ISO 8601 time such as '2026-05-01T09:30:00+08:00', got {text!r}"
        raise PolicyError(msg) from None
    if value.tzinfo is None:
        msg = f"{option}: expected an aware time (with a time zone offset), got {text!r}"
        raise PolicyError(msg)
    return value


def _run(args: argparse.Namespace) -> int:
    from servicetriage.store import Store  # noqa: PLC0415 - only with --store

    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    worst = 0
    rows: list[dict[str, str]] = []
    now = _time(args.now, "--now") if args.now else None
    drills: tuple[Drill, ...] = ()
    if args.store:
        if now is None:
            msg = "--store: recorded drills count only with --now"
            raise PolicyError(msg)
        with Store(args.store) as store:
            drills = store.drills()
    for path in args.files:
        for finding in check_file(path, now=now, drills=drills):
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
    parser.add_argument(
        "--now", metavar="ISO", help="judge drills at this aware time: playbooks overdue for a drill are warned about"
    )
    parser.add_argument("--store", metavar="PATH", help="with --now: count the drills recorded in this store")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(func=_run)
