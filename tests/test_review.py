"""Incident reports and their review state machines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from servicetriage import strategies as sts
from servicetriage.errors import TicketError, TransitionError
from servicetriage.model import Money
from servicetriage.review import (
    AMENDMENT_TRANSITIONS,
    REPORT_TRANSITIONS,
    AmendmentState,
    Deviation,
    IncidentReport,
    ReportEvent,
    ReportState,
    Review,
    TimelineEvent,
    advance_review,
    amendment_review,
    report_review,
    validate_report,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _report(**changes: object) -> IncidentReport:
    fields: dict[str, object] = {"id": "R1", "ticket_id": "T1", "owner": "li", "opened_at": T0}
    fields.update(changes)
    return IncidentReport(**fields)  # type: ignore[arg-type]


def test_a_report_resolved_before_it_was_opened_is_rejected() -> None:
    with pytest.raises(TicketError, match=r"resolved_at: resolved at .* before it was opened"):
        _report(resolved_at=T0 - timedelta(minutes=1))


def test_a_timeline_out_of_order_is_rejected_naming_the_event() -> None:
    events = (TimelineEvent(at=T0 + timedelta(hours=2), what="rebooked"), TimelineEvent(at=T0, what="call"))
    with pytest.raises(TicketError, match=r"timeline\[1\]\.at: out of order"):
        _report(timeline=events)


def test_an_event_before_the_incident_is_rejected() -> None:
    with pytest.raises(TicketError, match=r"timeline\[0\]\.at: .* before the incident"):
        _report(timeline=(TimelineEvent(at=T0 - timedelta(hours=1), what="call"),))


def test_naive_times_and_bad_scores_are_rejected() -> None:
    with pytest.raises(TicketError, match=r"report.opened_at: expected an aware datetime"):
        _report(opened_at=datetime(2026, 3, 1))
    with pytest.raises(TicketError, match=r"satisfaction_after: expected a score from 1 to 5"):
        _report(satisfaction_after=7)


def test_an_authorization_by_a_tier_that_lacked_it_is_rejected() -> None:
    def may_authorize(tier: str, kind: str, amount: Money | None) -> bool:
        return tier != "agent" or amount is None or amount <= Money.parse("500 CNY")

    ok = Deviation(kind="rebooking", authorized_by="li", tier="agent", amount=Money.parse("300 CNY"))
    too_much = Deviation(kind="refund", authorized_by="li", tier="agent", amount=Money.parse("900 CNY"), grant="g1")
    report = _report(deviations=(ok, too_much))
    with pytest.raises(TicketError, match=r"deviations\[1\]: li at tier 'agent' lacked the authority for 'refund'"):
        validate_report(report, may_authorize)
    assert validate_report(_report(deviations=(ok,)), may_authorize).deviations == (ok,)


def test_a_report_goes_through_review_and_back_after_changes() -> None:
    review = report_review("R1", author="li", at=T0)
    steps = ["submit", "start", "request-changes", "submit", "start", "accept"]
    for minutes, event in enumerate(steps):
        review = advance_review(
            review, event, actor="wang", at=T0 + timedelta(minutes=minutes), reason=f"step {minutes}"
        )
    assert review.state is ReportState.ACCEPTED
    assert [t.event.value for t in review.trail[1:]] == [s.replace("-", "_") for s in steps]  # type: ignore[union-attr]


def test_an_illegal_transition_names_the_state_and_the_event() -> None:
    review = report_review("R1", author="li", at=T0)
    with pytest.raises(TransitionError, match="report R1: cannot accept in state draft"):
        advance_review(review, ReportEvent.ACCEPT, actor="wang", at=T0, reason="looks fine")


def test_times_must_not_go_backwards() -> None:
    review = report_review("R1", author="li", at=T0)
    with pytest.raises(TransitionError, match="before the last transition"):
        advance_review(review, "submit", actor="li", at=T0 - timedelta(seconds=1), reason="done")


def test_nobody_approves_their_own_amendment() -> None:
    review = amendment_review("A1", author="zhang", at=T0)
    with pytest.raises(TransitionError, match="nobody approves their own amendment"):
        advance_review(review, "approve", actor="zhang", at=T0, reason="I like it")
    approved = advance_review(review, "approve", actor="wang", at=T0, reason="typical deviation")
    assert advance_review(approved, "apply", actor="zhang", at=T0, reason="done").state is AmendmentState.APPLIED


def test_a_transition_needs_an_actor_and_a_reason() -> None:
    review = report_review("R1", author="li", at=T0)
    with pytest.raises(TransitionError, match="expected a reason"):
        advance_review(review, "submit", actor="li", at=T0, reason=" ")
    with pytest.raises(TransitionError, match="expected an actor"):
        advance_review(review, "submit", actor="", at=T0, reason="done")
    with pytest.raises(TransitionError, match="no event 'publish'"):
        advance_review(review, "publish", actor="li", at=T0, reason="done")


@settings(max_examples=40)
@given(sts.incident_reports())
def test_generated_reports_are_consistent(report: IncidentReport) -> None:
    assert report.resolved_at is None or report.resolved_at >= report.opened_at
    assert [e.at for e in report.timeline] == sorted(e.at for e in report.timeline)


_ACTORS = st.sampled_from(["li", "wang", "zhang"])
_REPORT_EVENTS = st.sampled_from([e.value for e in ReportEvent])
_AMENDMENT_EVENTS = st.sampled_from(["approve", "reject", "apply"])


class ReviewMachine(RuleBasedStateMachine):
    """Random sequences of transitions, legal or not, on a report and an amendment."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.report = report_review("R1", author="li", at=T0)
        self.amendment = amendment_review("A1", author="zhang", at=T0)

    def _try(self, review: Review, event: str, actor: str, minutes: int) -> Review:
        at = self.now + timedelta(minutes=minutes)
        try:
            after = advance_review(review, event, actor=actor, at=at, reason="because")
        except TransitionError:
            return review
        self.now = max(self.now, at)
        assert after.trail[: len(review.trail)] == review.trail  # append-only
        return after

    @rule(event=_REPORT_EVENTS, actor=_ACTORS, minutes=st.integers(-5, 30))
    def report_event(self, event: str, actor: str, minutes: int) -> None:
        self.report = self._try(self.report, event, actor, minutes)

    @rule(event=_AMENDMENT_EVENTS, actor=_ACTORS, minutes=st.integers(-5, 30))
    def amendment_event(self, event: str, actor: str, minutes: int) -> None:
        self.amendment = self._try(self.amendment, event, actor, minutes)

    @invariant()
    def trails_are_valid(self) -> None:
        tables: tuple[tuple[Review, Mapping[Any, Any]], ...] = (
            (self.report, REPORT_TRANSITIONS),
            (self.amendment, AMENDMENT_TRANSITIONS),
        )
        for review, table in tables:
            previous = review.trail[0]
            assert previous.event is None
            for step in review.trail[1:]:
                assert step.source == previous.state
                assert table[(step.source, step.event)] == step.state
                assert step.at >= previous.at
                previous = step
        for step in self.amendment.trail:
            if step.state is AmendmentState.APPROVED:
                assert step.actor != self.amendment.author


TestReviewMachine = ReviewMachine.TestCase
TestReviewMachine.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)


def test_a_review_cannot_be_built_with_an_impossible_trail() -> None:
    review = advance_review(report_review("R1", author="li", at=T0), "submit", actor="li", at=T0, reason="done")
    created, submitted = review.trail
    skipped = attrs.evolve(submitted, event=ReportEvent.ACCEPT, state=ReportState.ACCEPTED)
    with pytest.raises(TransitionError, match=r"report R1\.trail\[1\]: cannot accept in state draft"):
        Review(subject=review.subject, id="R1", author="li", trail=(created, skipped))
    with pytest.raises(TransitionError, match=r"report R1\.trail\[0\]\.actor: expected the author 'wang', got 'li'"):
        Review(subject=review.subject, id="R1", author="wang", trail=(created,))
    with pytest.raises(TransitionError, match=r"report R1\.trail: expected at least the creation"):
        Review(subject=review.subject, id="R1", author="li", trail=())
    backwards = attrs.evolve(submitted, at=T0 - timedelta(minutes=1))
    with pytest.raises(TransitionError, match=r"report R1\.trail\[1\]\.at: .* is before"):
        Review(subject=review.subject, id="R1", author="li", trail=(created, backwards))
    proposed = amendment_review("A1", author="zhang", at=T0)
    approved = advance_review(proposed, "approve", actor="wang", at=T0, reason="ok")
    own = attrs.evolve(approved.trail[1], actor="zhang")
    with pytest.raises(TransitionError, match=r"amendment A1\.trail\[1\]: zhang approved their own amendment"):
        Review(subject=proposed.subject, id="A1", author="zhang", trail=(proposed.trail[0], own))
