"""``servicetriage authorize``: decide one request under an authority policy.

Exit codes tell a script what to do next without parsing the output:

- 0: ``allowed``: act now;
- 1: ``forbidden``: a guardrail forbids it, no tier may approve;
- 2: bad input (an unreadable or invalid file, a naive ``--now``);
- 3: ``needs_approval``: ask the tier the output names;
- 4: ``needs_info``: supply the missing facts and ask again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage import config
from servicetriage._inputs import member
from servicetriage.authority import AuthorityPolicy, Decision, Outcome, Request, authorize
from servicetriage.errors import TicketError
from servicetriage.ledger import authority_record
from servicetriage.model import Level, Quadrant, Triage
from servicetriage.store import Store

if TYPE_CHECKING:
    import argparse

__all__ = ["EXIT_CODES", "register"]

#: The exit code for each outcome (2 is kept for bad input).
EXIT_CODES: dict[Outcome, int] = {
    Outcome.ALLOWED: 0,
    Outcome.FORBIDDEN: 1,
    Outcome.NEEDS_APPROVAL: 3,
    Outcome.NEEDS_INFO: 4,
}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``authorize`` sub-command to *sub*."""
    parser = sub.add_parser(
        "authorize",
        help="decide one request under an authority policy",
        description=(
            "Decide whether a request (a refund, a compensation, a rebooking...) may go ahead under an "
            "authority policy; print the outcome, the lowest tier that may approve, the reasons and the "
            "obligations. Exit 0 allowed, 1 forbidden, 3 needs approval, 4 needs info, 2 bad input."
        ),
    )
    parser.add_argument(
        "--policy", required=True, type=Path, help="policy file (TOML, JSON or YAML) with an [authority] table"
    )
    parser.add_argument("--request", required=True, type=Path, help="request file (TOML, JSON or YAML)")
    parser.add_argument("--now", help="the decision time, ISO 8601 with an offset (default: the current time)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="also append the decision to this store's decision ledger (stamped with the policy's version there)",
    )
    parser.set_defaults(func=run)


def load_policy(path: Path) -> AuthorityPolicy:
    """Load the ``[authority]`` table of *path*, or the whole file when it has no such table."""
    policy = config.load_section(path, "authority", AuthorityPolicy)
    if policy is None:
        policy = config.load_file(path, AuthorityPolicy)
    return policy


def _given_facts(data: dict[str, Any]) -> frozenset[str]:
    """The ticket facts (`TICKET_FACTS`) the file states: a key that is absent was not given."""
    ticket = data.get("ticket")
    if not isinstance(ticket, dict):
        return frozenset()
    given = {f"ticket.{key}" for key in ("category", "channel") if ticket.get(key) is not None}
    customer = ticket.get("customer")
    if isinstance(customer, dict) and customer.get("tier") is not None:
        given.add("ticket.customer.tier")
    return frozenset(given)


def load_request(path: Path) -> Request:
    """Load a request file; a top-level ``quadrant = "Q1"`` stands for a triage placing the ticket there.

    A fact the file leaves out is not given, whatever default the model would fill in: the ticket's
    ``category``, ``channel`` and ``customer.tier`` (see `Request.given`), the ``amount``, the quadrant,
    the ``usage`` (write ``usage = []`` for "no prior usage") and the ``department``.
    """
    data = config.read_document(path, error=TicketError)
    if not isinstance(data, dict):
        msg = f"{path}: expected a table of request fields, got {type(data).__name__}"
        raise TicketError(msg)
    if "given" in data:
        msg = f"{path}: given: not a request file key; a ticket fact is given when the file states it"
        raise TicketError(msg)
    quadrant = data.pop("quadrant", None)
    data["given"] = sorted(_given_facts(data))
    try:
        request = config.structure(data, Request, error=TicketError)
    except TicketError as exc:
        problems = tuple(f"{path}: {p}" for p in exc.problems)
        raise TicketError("; ".join(problems), problems) from None
    if quadrant is not None and request.triage is None:
        placed = member(Quadrant, quadrant, f"{path}: quadrant", TicketError)
        level = Level(0, "given")
        triage = Triage(
            ticket_id=request.ticket.id,
            quadrant=placed,
            priority=placed.value,
            urgency=level,
            importance=level,
            due=None,
            reasons=(),
        )
        request = attrs.evolve(request, triage=triage)
    return request


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"--now: expected an ISO 8601 time such as '2026-05-01T09:00:00+08:00', got {text!r}"
        raise TicketError(msg) from None
    if now.tzinfo is None or now.utcoffset() is None:
        msg = f"--now: expected a time with an offset, got naive {text!r}"
        raise TicketError(msg)
    try:
        return config.check_time(now, "--now")
    except ValueError as exc:
        raise TicketError(str(exc)) from None


def render_json(decision: Decision) -> str:
    """Render the decision as a JSON document."""
    return json.dumps(config.unstructure(decision), ensure_ascii=False, indent=2)


def run(args: argparse.Namespace) -> int:
    """Decide the request and print the decision; return the outcome's exit code."""
    now = _now(args.now)
    policy = load_policy(args.policy)
    request = load_request(args.request)
    decision = authorize(request, policy, now)
    if args.store:
        with Store(args.store) as store:
            record = store.record_decision(authority_record(request, decision, policy, now=now))
        decision = attrs.evolve(decision, policy_version=record.policy_version)
    print(render_json(decision) if args.format == "json" else decision.explain())
    return EXIT_CODES[decision.outcome]
