"""``servicetriage escalate --simulate``: print the escalation timeline of one ticket.

The simulation classifies the ticket (with the ``[triage]`` table of
``--triage-policy``, else of ``--policy``, else the default triage policy;
or ``--quadrant``), starts the escalation at ``--now`` (default: the
ticket's ``opened_at``), applies an acknowledgement and a resolution when
asked, and advances to ``--until`` (or ``--for`` after the start, default 8
hours), printing every action with its due time. Chains and playbooks that
count business time use their own calendar; an escalation policy or a
playbook without one gets the triage policy's (``[triage.calendar]``), so a
file declares its business hours once. With
``--playbooks`` the steps of the most specific matching contingency plan
join the timeline.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage import config
from servicetriage.errors import PolicyError, TicketError
from servicetriage.escalation import Action, EscalationPolicy, Event, EventKind, advance_escalation, start
from servicetriage.ledger import escalation_record
from servicetriage.model import Level, Mark, Quadrant, Ticket, Triage
from servicetriage.playbooks import PlannedStep, PlaybookSet, match, start_playbook
from servicetriage.store import Store

if TYPE_CHECKING:
    import argparse

    from servicetriage.calendar import BusinessCalendar

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``escalate`` sub-command to *sub*."""
    parser = sub.add_parser(
        "escalate",
        help="simulate the escalation timeline of one ticket under a policy",
        description=(
            "Simulate what an escalation policy does with one ticket: who is notified when, which progress "
            "reports fall due, when the executive tier hears of it; with an optional acknowledgement and "
            "resolution. Exit 0, or 2 on bad input."
        ),
    )
    parser.add_argument("--simulate", action="store_true", help="simulate (the only mode; required)")
    parser.add_argument("--policy", required=True, type=Path, help="policy file with an [escalation] table")
    parser.add_argument(
        "--triage-policy",
        type=Path,
        help="policy file whose [triage] table classifies the ticket (default: --policy's, else the default policy)",
    )
    parser.add_argument("--ticket", required=True, type=Path, help="ticket file (JSON, TOML or YAML)")
    parser.add_argument("--now", help="start of the escalation, ISO 8601 with an offset (default: opened_at)")
    until = parser.add_mutually_exclusive_group()
    until.add_argument("--until", help="end of the simulation, ISO 8601 with an offset")
    until.add_argument("--for", dest="span", help="length of the simulation, such as '8h' (default: 8h)")
    parser.add_argument("--ack-at", help="acknowledge at this time (ISO 8601)")
    parser.add_argument("--ack-by", help="who acknowledges (default: the owner)")
    parser.add_argument("--resolve-at", help="resolve at this time (ISO 8601)")
    parser.add_argument(
        "--quadrant",
        choices=[q.name for q in Quadrant],
        help="place the ticket in this quadrant instead of classifying it",
    )
    parser.add_argument("--owner", default="duty-agent", help="the agent who owns the case (default: duty-agent)")
    parser.add_argument("--playbooks", type=Path, help="playbook file ([[playbooks]]): add the matching plan's steps")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="also append every escalation action to this store's decision ledger",
    )
    parser.set_defaults(func=run)


def _time(text: str, option: str) -> datetime:
    try:
        return config.structure(text, datetime, error=TicketError)
    except TicketError as exc:
        msg = f"{option}: {str(exc).removeprefix('<document>: ')}"
        raise TicketError(msg) from None


def _load_ticket(path: Path) -> Ticket:
    return config.load_file(path, Ticket, error=TicketError)


def _triage(ticket: Ticket, args: argparse.Namespace, now: datetime) -> tuple[Triage, BusinessCalendar | None]:
    """Classify *ticket* (or place it in ``--quadrant``); return the triage and the policy's calendar."""
    from servicetriage import triage as triage_module  # noqa: PLC0415 - loaded only when needed

    path = args.triage_policy if args.triage_policy is not None else args.policy
    policy = config.load_section(path, "triage", triage_module.TriagePolicy, required=args.triage_policy is not None)
    if policy is None:
        policy = triage_module.DEFAULT_POLICY
    if args.quadrant is not None:
        quadrant = Quadrant[args.quadrant]
        given = Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=quadrant.value,
            urgency=Level(1 if quadrant.urgent else 0, "given"),
            importance=Level(1 if quadrant.important else 0, "given"),
            due=None,
            reasons=(),
        )
        return given, policy.calendar
    return triage_module.classify(ticket, policy, now), policy.calendar


def _describe(action: Action) -> dict[str, Any]:
    return {
        "at": action.due.isoformat(),
        "type": action.type.value,
        "targets": [str(t) for t in action.targets],
        "step": None if action.step is None else action.step + 1,
        "round": action.round,
        "episode": action.episode,
        "note": action.note,
    }


def _describe_step(step: PlannedStep) -> dict[str, Any]:
    return {
        "at": step.due.isoformat(),
        "type": "playbook_step",
        "targets": [step.role],
        "step": step.index + 1,
        "round": 0,
        "episode": 0,
        "note": step.action + (f" (needs {step.authority})" if step.authority else ""),
    }


#: The longest span a simulation covers: progress reports every few minutes over centuries would never end.
MAX_SPAN = timedelta(days=366)


def run(args: argparse.Namespace) -> int:
    """Run the simulation and print the timeline."""
    if not args.simulate:
        msg = "escalate: only --simulate is supported (the library itself runs live escalations)"
        raise PolicyError(msg)
    policy = config.load_section(args.policy, "escalation", EscalationPolicy, required=True)
    assert policy is not None
    ticket = _load_ticket(args.ticket)
    begin = _time(args.now, "--now") if args.now else ticket.opened_at
    if args.until:
        end = _time(args.until, "--until")
    else:
        try:
            span = config.parse_duration(args.span or "8h")
        except ValueError as exc:
            msg = f"--for: {exc}"
            raise PolicyError(msg) from None
        end = begin + span
    if end < begin:
        msg = f"--until: expected a time at or after the start {begin.isoformat()}, got {end.isoformat()}"
        raise TicketError(msg)
    if end - begin > MAX_SPAN:
        option = "--until" if args.until else "--for"
        span_text = config.format_duration(end - begin)
        msg = f"{option}: expected a simulated span of at most {MAX_SPAN.days}d, got {span_text}"
        raise TicketError(msg)
    events = []
    if args.ack_at:
        by = args.ack_by or args.owner
        events.append(Event(kind=EventKind.ACKNOWLEDGED, at=_time(args.ack_at, "--ack-at"), by=by))
    if args.resolve_at:
        events.append(Event(kind=EventKind.RESOLVED, at=_time(args.resolve_at, "--resolve-at"), by=args.owner))
    for event in events:
        if not begin <= event.at <= end:
            option = "--ack-at" if event.kind is EventKind.ACKNOWLEDGED else "--resolve-at"
            msg = f"{option}: {event.at.isoformat()} is outside the simulation {begin.isoformat()} .. {end.isoformat()}"
            raise TicketError(msg)
    triage, calendar = _triage(ticket, args, begin)
    if policy.calendar is None and calendar is not None:
        policy = attrs.evolve(policy, calendar=calendar)
    state = start(ticket, triage, policy, begin, owner=args.owner)
    state, actions = advance_escalation(state, end, events)
    if args.store:
        with Store(args.store) as store:
            store.record_decisions(escalation_record(ticket.id, a, policy, now=a.due) for a in actions)
    timeline = [_describe(a) for a in actions]
    timeline += [
        {
            "at": e.at.isoformat(),
            "type": e.kind.value,
            "targets": [e.by],
            "step": None,
            "round": 0,
            "episode": None,
            "note": "",
        }
        for e in events
    ]
    plan = None
    if args.playbooks is not None:
        plans = config.load_file(args.playbooks, PlaybookSet)
        found = match(ticket, triage, plans)
        if found:
            plan = found[0]
            playbook = plan.playbook
            if playbook.calendar is None and calendar is not None:
                playbook = attrs.evolve(playbook, calendar=calendar)
            steps = start_playbook(playbook, ticket, begin)
            timeline += [_describe_step(s) for s in steps if s.due <= end]
    timeline.sort(key=lambda row: datetime.fromisoformat(row["at"]))
    summary: dict[str, Any] = {
        "ticket": ticket.id,
        "quadrant": triage.quadrant.name,
        "priority": triage.priority,
        "marks": sorted(m.value for m in triage.marks),
        "chain": state.chain.id,
        "business_time": state.chain.business_time and policy.calendar is not None,
        "playbook": None if plan is None else f"{plan.playbook.id}@{plan.playbook.version}",
        "owner": state.owner,
        "start": begin.isoformat(),
        "until": end.isoformat(),
        "timeline": timeline,
        "status": state.status.value,
        "acknowledged_by": list(state.acknowledged_by),
        "approvers": [str(t) for t in state.case.approvers],
        "watchers": [str(t) for t in state.case.watchers],
        "next_wakeup": None if state.wake is None else state.wake.isoformat(),
    }
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{ticket.id}: {triage.quadrant.name} priority {triage.priority}, chain {state.chain.id!r}"
        + (f", playbook {summary['playbook']}" if plan is not None else "")
        + f", owner {state.owner}"
    )
    if Mark.DIRECT_TO_TOP in triage.marks:
        print("marked direct_to_top: the executive tier hears at once")
    clock = " (business time)" if summary["business_time"] else ""
    print(f"from {begin.isoformat()} until {end.isoformat()}{clock}")
    for row in timeline:
        offset = config.format_duration(datetime.fromisoformat(row["at"]) - begin)
        where = ""
        if row["step"]:
            where = f" (step {row['step']}" + (f", repeat {row['round']}" if row["round"] else "")
            where += (f", climb {row['episode'] + 1}" if row["episode"] else "") + ")"
        note = f": {row['note']}" if row["note"] else ""
        print(f"  +{offset:<8} {row['at']}  {row['type']:<16} {', '.join(row['targets'])}{where}{note}")
    by = f" by {', '.join(state.acknowledged_by)}" if state.acknowledged_by else ""
    print(f"status {summary['status']}{by}; owner {state.owner} keeps the case")
    if summary["approvers"]:
        print(f"approvers: {', '.join(summary['approvers'])}")
    if summary["watchers"]:
        print(f"watchers: {', '.join(summary['watchers'])}")
    print(f"next wake-up: {summary['next_wakeup'] or 'none'}")
    return 0
