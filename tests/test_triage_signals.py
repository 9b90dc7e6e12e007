"""Signal concepts, pluggable detectors, recorded ITSM levels and lives first, as triage sees them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.errors import PolicyError
from servicetriage.matrix import GLPI, SERVICENOW
from servicetriage.model import Customer, Mark, Quadrant, Ticket, TicketStatus
from servicetriage.signals.detectors import Detection
from servicetriage.signals.lexicon import ConceptSettings, LexiconSettings
from servicetriage.triage import DEFAULT_POLICY, Condition, ItsmLevels, Rule, TriagePolicy, classify, rank, rank_key

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)


def ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {"id": "T1", "opened_at": NOW, "customer": Customer(id="C1")}
    values.update(fields)
    return Ticket(**values)  # type: ignore[arg-type]


class Fixed:
    """A detector that always finds the same concepts."""

    def __init__(self, *found: str, name: str = "fixed") -> None:
        self.found = found
        self.name = name

    def detect(self, ticket: Ticket) -> Iterable[Detection]:
        return [Detection(concept=c, term="model", detector=self.name, confidence=0.8) for c in self.found]


class Broken:
    name = "vendor-api"

    def detect(self, ticket: Ticket) -> Iterable[Detection]:
        raise TimeoutError("no answer in 200 ms")


class Nonsense:
    name = "junk"

    def detect(self, ticket: Ticket) -> Iterable[object]:
        return ["safety"]


# --------------------------------------------------------------------------
# Concepts reach the placement


def test_a_concept_found_by_the_lexicon_is_named_with_its_evidence() -> None:
    policy = TriagePolicy(
        lexicon=LexiconSettings(
            use_defaults=False, concepts={"safety.trapped": ConceptSettings(add={"en": ("won't let me out",)})}
        )
    )
    result = classify(ticket(subject="help", text="the driver won't let me out"), policy, NOW)
    assert result.quadrant is Quadrant.Q1
    assert result.concepts == {"safety.trapped"}
    assert "safety" in result.signals
    (reason,) = [r for r in result.reasons if r.rule == "concepts.safety.trapped"]
    expected = {"concept": "safety.trapped", "language": "en", "field": "text", "position": "11"}
    assert {k: reason.evidence[k] for k in expected} == expected


def test_a_plugged_in_detector_adds_its_concepts() -> None:
    policy = TriagePolicy(lexicon=LexiconSettings(enabled=False), detectors=(Fixed("regulator.financial"),))
    result = classify(ticket(text="anything"), policy, NOW)
    assert result.concepts == {"regulator.financial"}
    assert result.quadrant is Quadrant.Q1
    assert any("by fixed (0.8)" in r.message for r in result.reasons)


@pytest.mark.parametrize("detector", [Broken(), Nonsense(), Fixed("safety.weather")])
def test_a_failing_detector_fails_closed_for_a_person_to_read(detector: object) -> None:
    policy = TriagePolicy(detectors=(detector,))
    result = classify(ticket(text="please update my address"), policy, NOW)
    assert Mark.HUMAN_REVIEW in result.marks
    assert result.quadrant.urgent, "never silently left in Q4"
    assert any(r.code == "detector.failed" for r in result.reasons)


def test_a_detector_that_is_not_one_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"triage.detectors\[0\]"):
        TriagePolicy(detectors=("lexicon",))


@given(sts.tickets())
def test_deception_is_marked_in_every_quadrant(base: Ticket) -> None:
    policy = TriagePolicy(detectors=(Fixed("deception"),))
    result = classify(base, policy, NOW)
    assert Mark.POSSIBLY_DECEPTIVE in result.marks


def test_discrimination_is_urgent_and_important() -> None:
    result = classify(ticket(text="x"), TriagePolicy(detectors=(Fixed("discrimination"),)), NOW)
    assert result.quadrant is Quadrant.Q1
    assert Mark.COMPLAINT_RISK in result.marks


def test_anger_alone_is_urgent_not_important() -> None:
    result = classify(ticket(text="x"), TriagePolicy(detectors=(Fixed("anger"),)), NOW)
    assert result.quadrant is Quadrant.Q3


@pytest.mark.parametrize("attribute", ["lang", "mother_tongue", "passport_country", "ethnicity", "religion"])
def test_proxies_of_protected_attributes_are_refused_in_rules(attribute: str) -> None:
    with pytest.raises(PolicyError, match="protected"):
        TriagePolicy(rules=(Rule(name="r", when=(Condition(field=f"attributes.{attribute}", equals="x"),)),))


# --------------------------------------------------------------------------
# Recorded impact and urgency (ITSM fields)


def test_a_p1_incident_lands_in_q1() -> None:
    result = classify(ticket(text="Email service down for the whole company", impact=1, urgency=1), DEFAULT_POLICY, NOW)
    assert (result.quadrant, result.priority) == (Quadrant.Q1, 1)
    assert "itsm" in result.signals


def test_a_p1_incident_ranks_before_a_declared_urgent_invoice() -> None:
    incident = ticket(id="INC1", impact=1, urgency=1, text="Email down for everyone")
    invoice = ticket(id="T2", declared_urgency="high", text="please resend my invoice")
    assert [t.id for t, _ in rank([invoice, incident], DEFAULT_POLICY, NOW)] == ["INC1", "T2"]


@pytest.mark.parametrize("matrix", [SERVICENOW, GLPI])
def test_every_recorded_pair_agrees_with_its_priority(matrix: object) -> None:
    """A top-two level makes a need urgent or important; priority 1 is always Q1."""
    policy = TriagePolicy(matrix=matrix)  # type: ignore[arg-type]
    for impact in range(1, policy.matrix.impacts + 1):
        for urgency in range(1, policy.matrix.urgencies + 1):
            result = classify(ticket(text="x", impact=impact, urgency=urgency), policy, NOW)
            assert result.quadrant.important == (impact <= 2), (impact, urgency)
            assert result.quadrant.urgent == (urgency <= 2), (impact, urgency)
            if result.priority == 1:
                assert result.quadrant is Quadrant.Q1


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(sts.tickets(max_level=5), st.integers(1, 5), st.integers(1, 5))
def test_a_higher_recorded_level_never_lowers_a_placement(base: Ticket, level: int, higher: int) -> None:
    low, high = max(level, higher), min(level, higher)
    for field, scale in (("impact", "importance"), ("urgency", "urgency")):
        before = classify(attrs.evolve(base, **{field: low}), DEFAULT_POLICY, NOW)  # type: ignore[arg-type]
        after = classify(attrs.evolve(base, **{field: high}), DEFAULT_POLICY, NOW)  # type: ignore[arg-type]
        assert getattr(after, scale).rank >= getattr(before, scale).rank


def test_recorded_levels_can_be_mapped_or_switched_off() -> None:
    mapped = TriagePolicy(itsm=ItsmLevels(impact=("critical", "critical", "", ""), urgency=()))
    assert classify(ticket(text="x", impact=2, urgency=1), mapped, NOW).importance.name == "critical"
    assert classify(ticket(text="x", impact=3, urgency=1), mapped, NOW).importance.name == "low"
    assert classify(ticket(text="x", impact=2, urgency=1), mapped, NOW).urgency.name == "low"
    off = TriagePolicy(signals=[s for s in DEFAULT_POLICY.signals if s != "itsm"])
    assert classify(ticket(text="x", impact=1, urgency=1), off, NOW).quadrant is Quadrant.Q4


def test_a_mapping_to_an_unknown_level_is_refused_with_its_path() -> None:
    message = r"triage.itsm.impact\[1\]: expected a level of the importance scale .* got 'severe'"
    with pytest.raises(PolicyError, match=message):
        TriagePolicy(itsm=ItsmLevels(impact=("critical", "severe")))


# --------------------------------------------------------------------------
# Lives first


def test_a_live_sos_ranks_before_an_overdue_complaint_in_the_same_quadrant() -> None:
    complaint = ticket(
        id="T0098", text="third time I write about my broadband", repeat_contacts=4,
        due=datetime(2026, 5, 6, 6, 0, tzinfo=UTC), affected_customers=200,
    )  # fmt: skip
    sos = ticket(id="T0147", flags={"safety"}, text="Passenger feels unsafe")
    queue = rank([complaint, sos], DEFAULT_POLICY, NOW)
    assert [t.id for t, _ in queue] == ["T0147", "T0098"]


def test_a_closed_safety_ticket_is_not_live() -> None:
    closed = ticket(flags={"safety"}, status=TicketStatus.CLOSED)
    result = classify(closed, DEFAULT_POLICY, NOW)
    assert rank_key(closed, result)[1] is True


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(sts.tickets(), min_size=2, max_size=8, unique_by=lambda t: t.id))
def test_within_a_quadrant_live_safety_comes_first(tickets: list[Ticket]) -> None:
    queue = rank(tickets, DEFAULT_POLICY, NOW)
    for (a, ra), (b, rb) in itertools.pairwise(queue):
        if ra.quadrant is rb.quadrant:
            live_a = "safety" in ra.signals and a.status.is_open
            live_b = "safety" in rb.signals and b.status.is_open
            assert live_a or not live_b


def test_a_mapping_that_raises_a_lower_recorded_level_higher_is_refused() -> None:
    message = r"triage.itsm.urgency\[1\]: recorded urgency 2 would raise urgency to 'critical', above .*'high'"
    with pytest.raises(PolicyError, match=message):
        TriagePolicy(itsm=ItsmLevels(urgency=("high", "critical")))
    with pytest.raises(PolicyError, match=r"triage.itsm.impact\[1\]: .* above what the higher impact 1 raises it to"):
        TriagePolicy(itsm=ItsmLevels(impact=("", "high")))
