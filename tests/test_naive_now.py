"""A naive ``now`` (or ``at``) is the same error everywhere: a `TicketError` naming the argument and the value."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import servicetriage
from servicetriage import escalation, followup, learning, ledger, review, signals, versions
from servicetriage.assignment import AssignmentPolicy, assign
from servicetriage.authority import Actor, AuthorityPolicy, Delegation, Request, authorize
from servicetriage.errors import TicketError
from servicetriage.model import Customer, Money, Obligation, ObligationKind, Ticket
from servicetriage.playbooks import Playbook, PlaybookStep, check_playbooks, start_playbook
from servicetriage.triage import DEFAULT_POLICY, classify, classify_many, rank

AWARE = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 5, 1, 10, 0)
H = timedelta(hours=1)
TICKET = Ticket(id="T1", opened_at=AWARE, customer=Customer(id="C1"), text="my refund is late")
TRIAGE = classify(TICKET, DEFAULT_POLICY, AWARE)
REQUEST = Request(actor=Actor(id="li", tier="agent"), action="refund", ticket=TICKET, amount=Money(Decimal(50), "CNY"))
PLAYBOOK = Playbook(id="pb", title="late refund", steps=(PlaybookStep(action="call the customer"),))
DELEGATION = Delegation(id="d", to="li", tier="manager", valid_from=AWARE, valid_until=AWARE + 24 * H)
CASE = escalation.Case(ticket_id="T1", owner="li")
ORDER, _ = escalation.open_work_order(CASE, "billing", "refund", AWARE, H, id="W1")
TRACKED = followup.track(
    "T1", (Obligation(kind=ObligationKind.CALL_BACK, due=AWARE + H, to="customer", note="call back"),)
)
TARGET = versions.DocumentRef(kind="playbook", id="pb")
V1 = versions.create(TARGET, {"steps": []}, author="ops", at=AWARE)
AMENDMENT = versions.Amendment(
    id="A1", target=TARGET, base=V1.hash, operations=(versions.Operation(op="set", path="/steps", value=["call"]),)
)
REPORT = review.IncidentReport(id="R1", ticket_id="T1", owner="li", opened_at=AWARE, false_alarm=True, reporter="C1")


#: Every public function or method that takes ``now`` or ``at``, called with a naive one and valid other arguments.
CALLS: dict[str, Callable[[datetime], object]] = {
    "servicetriage.triage._public.classify": lambda n: classify(TICKET, DEFAULT_POLICY, n),
    "servicetriage.triage._public.classify_many": lambda n: classify_many([TICKET], DEFAULT_POLICY, n),
    "servicetriage.triage._public.rank": lambda n: rank([TICKET], DEFAULT_POLICY, n),
    "servicetriage.triage._policy.TriagePolicy.classify": lambda n: DEFAULT_POLICY.classify(TICKET, n),
    "servicetriage.authority._public.authorize": lambda n: authorize(REQUEST, AuthorityPolicy(), n),
    "servicetriage.authority._compile.CompiledPolicy.decide": lambda n: AuthorityPolicy().compiled.decide(REQUEST, n),
    "servicetriage.authority._policy.Delegation.active": lambda n: DELEGATION.active(n, "refund"),
    "servicetriage.playbooks.start_playbook": lambda n: start_playbook(PLAYBOOK, TICKET, n),
    "servicetriage.playbooks.check_playbooks": lambda n: check_playbooks([PLAYBOOK], now=n),
    "servicetriage.escalation._machine.start": lambda n: escalation.start(
        TICKET, TRIAGE, escalation.EscalationPolicy(), n, owner="li"
    ),
    "servicetriage.escalation._machine.advance_escalation": lambda n: escalation.advance_escalation(
        escalation.start(TICKET, TRIAGE, escalation.EscalationPolicy(), AWARE, owner="li"), n
    ),
    "servicetriage.escalation._ownership.open_work_order": lambda n: escalation.open_work_order(
        CASE, "billing", "refund", n, H
    ),
    "servicetriage.followup.promise_figures": lambda n: followup.promise_figures(TRACKED, n),
    "servicetriage.followup.overdue_orders": lambda n: followup.overdue_orders([followup.open_order(ORDER)], n),
    "servicetriage.followup.TrackedObligation.overdue": TRACKED[0].overdue,
    "servicetriage.followup.WorkOrderState.overdue": lambda n: followup.open_order(ORDER).overdue(n),
    "servicetriage.learning.propose": lambda n: learning.propose([], learning.LearningConfig(), n),
    "servicetriage.learning.penalize": lambda n: learning.penalize(REPORT, learning.PenaltyRule(), [], now=n),
    "servicetriage.learning.stale": lambda n: learning.stale([PLAYBOOK], n),
    "servicetriage.learning.drill_schedule": lambda n: learning.drill_schedule([PLAYBOOK], n),
    "servicetriage.review.report_review": lambda n: review.report_review("R1", author="li", at=n),
    "servicetriage.review.amendment_review": lambda n: review.amendment_review("A1", author="li", at=n),
    "servicetriage.review.advance_review": lambda n: review.advance_review(
        review.report_review("R1", author="li", at=AWARE), review.ReportEvent.SUBMIT, actor="li", at=n, reason="go"
    ),
    "servicetriage.versions.create": lambda n: versions.create(TARGET, {"steps": []}, author="ops", at=n),
    "servicetriage.versions.apply": lambda n: versions.apply(V1, AMENDMENT, author="ops", at=n),
    "servicetriage.versions.rollback": lambda n: versions.rollback(V1, V1, author="ops", at=n),
    "servicetriage.versions.History.apply": lambda n: versions.History([V1]).apply(AMENDMENT, author="ops", at=n),
    "servicetriage.versions.History.rollback": lambda n: versions.History([V1]).rollback(1, author="ops", at=n),
    "servicetriage.ledger.triage_record": lambda n: ledger.triage_record(TICKET, TRIAGE, DEFAULT_POLICY, now=n),
    "servicetriage.ledger.authority_record": lambda n: ledger.authority_record(
        REQUEST, authorize(REQUEST, AuthorityPolicy(), AWARE), AuthorityPolicy(), now=n
    ),
    "servicetriage.ledger.escalation_record": lambda n: ledger.escalation_record("T1", {}, {}, now=n),
    "servicetriage.signals.effective_pauses": lambda n: signals.effective_pauses((), n),
    "servicetriage.assignment._assign.assign": lambda n: assign([(TICKET, TRIAGE)], [], AssignmentPolicy(), n),
}

#: The one message shape: the argument's name, then the value.
MESSAGE = r"^(now|at): expected an aware datetime \(with a time zone\), got naive '2026-05-01T10:00:00'$"

#: Where the clock is an argument of the shell, not of the core: the store passes it on to the core functions above.
SHELL = ("servicetriage.store.", "servicetriage.strategies.")


def _public_functions_taking_a_clock() -> set[str]:
    names = ["servicetriage"] + [
        f"servicetriage.{m.name}" for m in pkgutil.iter_modules(servicetriage.__path__) if not m.name.startswith("_")
    ]
    found: set[str] = set()
    for name in names:
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", ()):
            value = getattr(module, public)
            candidates = [value] if inspect.isfunction(value) else []
            if inspect.isclass(value):
                candidates = [m for n, m in vars(value).items() if not n.startswith("_") and inspect.isfunction(m)]
            for function in candidates:
                if {"now", "at"} & set(inspect.signature(function).parameters):
                    found.add(f"{function.__module__}.{function.__qualname__}")
    return {name for name in found if not name.startswith(SHELL)}


def test_every_public_function_taking_a_clock_is_checked_here() -> None:
    """A new function that takes ``now`` or ``at`` must join the table below."""
    assert _public_functions_taking_a_clock() == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_naive_clock_is_a_ticket_error_naming_the_argument_and_the_value(name: str) -> None:
    """The same class and the same message shape, whatever the function."""
    CALLS[name](AWARE)  # the call is valid with an aware time
    with pytest.raises(TicketError, match=MESSAGE):
        CALLS[name](NAIVE)
