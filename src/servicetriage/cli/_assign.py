"""``servicetriage assign``: propose who takes each ticket of a queue.

The command ranks the tickets under the policy file's ``[triage]`` table
(the built-in policy without one), then assigns them under its
``[assignment]`` table (the default policy without one) to the agents of
the agents file. Unassigned tickets are an outcome, not an error: the exit
code is 0 when the files are valid, 2 for bad input (a bad field of any of
the three files, named with its path).
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servicetriage import config, ingest
from servicetriage.assignment import Agent, Assignment, AssignmentPolicy, TicketAssignment, agents_from_data, assign
from servicetriage.cli._triage import _cell_width, _clip, _pad, parse_now
from servicetriage.errors import PolicyError, TicketError

if TYPE_CHECKING:
    import argparse

    from servicetriage.triage import TriagePolicy

__all__ = ["COLUMNS", "load_agents", "load_assignment_policy", "register"]

#: The columns of ``--format csv``, in order.
COLUMNS = ("position", "id", "quadrant", "priority", "vip", "agent", "borrowed", "needed_tier", "reasons")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``assign`` sub-command to *sub*."""
    parser = sub.add_parser(
        "assign",
        help="propose who takes each ticket of a queue",
        description=(
            "Rank the tickets of QUEUE under the policy's [triage] table, then propose an agent for each, "
            "most pressing first, under its [assignment] table: skills and language matched, the authority "
            "tier respected, a share of capacity kept for VIP tiers. Exit 0, or 2 for bad input."
        ),
    )
    parser.add_argument("queue", metavar="QUEUE", help="a CSV or JSON Lines file of tickets, as `triage` reads it")
    parser.add_argument("--agents", required=True, type=Path, metavar="AGENTS", help="agents file (TOML, JSON, YAML)")
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="POLICY",
        help="policy file with [triage] and [assignment] tables (default: the built-in policies)",
    )
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        type=parse_now,
        help="the time to rank and assign at, with a UTC offset (default: now)",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)"
    )
    parser.add_argument("--explain", action="store_true", help="show the reasons of every outcome (table)")
    parser.set_defaults(func=run)


def load_assignment_policy(path: Path | None) -> AssignmentPolicy:
    """The ``[assignment]`` table of *path*, or the default policy when there is none."""
    if path is None:
        return AssignmentPolicy()
    return config.load_section(path, "assignment", AssignmentPolicy) or AssignmentPolicy()


def load_agents(path: Path, policy: AssignmentPolicy | None = None) -> tuple[Agent, ...]:
    """Read an agents file (an ``agents`` list); every problem names the file and the field's path.

    With *policy*, each agent's tier must be one of the policy's tiers.
    """
    data = config.read_document(path)
    try:
        agents = agents_from_data(data)
    except PolicyError as exc:
        msg = f"{path}: {exc}"
        raise PolicyError(msg) from None
    if policy is not None:
        for index, agent in enumerate(agents):
            if agent.tier not in policy.tiers:
                msg = f"{path}: agents[{index}].tier: expected one of {', '.join(policy.tiers)}, got {agent.tier!r}"
                raise PolicyError(msg)
    return agents


def _triage_policy(path: Path | None) -> TriagePolicy:
    from servicetriage import triage  # noqa: PLC0415

    if path is None:
        return triage.DEFAULT_POLICY
    return config.load_section(path, "triage", triage.TriagePolicy) or triage.DEFAULT_POLICY


def _read_queue(path: str) -> tuple[Any, ...]:
    try:
        return ingest.read_tickets(path)
    except TicketError as exc:
        problems = tuple(p if p.startswith(path) else f"{path}: {p}" for p in exc.problems)
        raise TicketError("; ".join(problems), problems) from None


# --------------------------------------------------------------------------
# Rendering


def _note(item: TicketAssignment) -> str:
    if item.agent is None:
        return item.reasons[-1].message
    return "borrowed from the VIP reserve" if item.borrowed else ""


def _summary(result: Assignment) -> str:
    return (
        f"capacity {result.capacity}, reserved for VIP tiers {result.reserved}, "
        f"assigned {len(result.assigned)}, unassigned {len(result.unassigned)}"
    )


def render_table(result: Assignment, *, explain: bool = False) -> str:
    """The assignment as an aligned table, then the capacity summary."""
    head = ("#", "id", "quadrant", "priority", "vip", "agent", "note")
    rows = [
        (
            str(item.position),
            item.ticket_id,
            item.quadrant.name,
            str(item.priority),
            "vip" if item.needs.vip else "",
            item.agent or "-",
            _clip(_note(item), 100),
        )
        for item in result.tickets
    ]
    widths = [max(_cell_width(row[i]) for row in [head, *rows]) for i in range(len(head))]
    right = {0, 3}
    lines = []
    for row, item in zip([head, *rows], [None, *result.tickets], strict=True):
        cells = [_pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if explain and item is not None:
            lines.extend(f"     - {reason}" for reason in item.reasons)
    lines.append(_summary(result))
    return "\n".join(lines)


def _record(item: TicketAssignment) -> dict[str, Any]:
    needs = item.needs
    return {
        "position": item.position,
        "id": item.ticket_id,
        "quadrant": item.quadrant.name,
        "priority": item.priority,
        "agent": item.agent,
        "borrowed": item.borrowed,
        "needs": {
            "tier": needs.tier,
            "level": needs.level,
            "language": needs.language,
            "category": needs.category,
            "channel": needs.channel.value if needs.channel is not None else None,
            "experts": sorted(needs.experts),
            "vip": needs.vip,
        },
        "reasons": [
            {"code": r.code, "message": r.message, "rule": r.rule, "evidence": dict(r.evidence)} for r in item.reasons
        ],
    }


def render_json(result: Assignment) -> str:
    """The assignment as one JSON document: the summary, the loads and every ticket."""
    document = {
        "capacity": result.capacity,
        "reserved": result.reserved,
        "vip_waiting": list(result.vip_waiting),
        "loads": dict(result.loads),
        "tickets": [_record(item) for item in result.tickets],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def write_csv(result: Assignment, stream: Any) -> None:
    """Write one CSV row per ticket with the `COLUMNS` header."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in result.tickets:
        writer.writerow(
            (
                item.position,
                item.ticket_id,
                item.quadrant.name,
                item.priority,
                "true" if item.needs.vip else "false",
                item.agent or "",
                "true" if item.borrowed else "false",
                item.needs.tier,
                ";".join(r.code for r in item.reasons),
            )
        )


def run(args: argparse.Namespace) -> int:
    """Rank, assign and print; return 0 (2 for bad input comes from the caller's error handler)."""
    from servicetriage.triage import rank  # noqa: PLC0415

    now: datetime = args.now or datetime.now(UTC)
    policy = load_assignment_policy(args.policy)
    triage_policy = _triage_policy(args.policy)
    agents = load_agents(args.agents, policy)
    queue = rank(_read_queue(args.queue), triage_policy, now)
    result = assign(queue, agents, policy, now)
    if args.format == "json":
        print(render_json(result))
    elif args.format == "csv":
        write_csv(result, sys.stdout)
    else:
        print(render_table(result, explain=args.explain))
    return 0
