"""Properties of triage: monotone in its signals and in time, order-free ranking, equal treatment."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.model import (
    Channel,
    CustomerTier,
    DeclaredUrgency,
    Flag,
    Money,
    Quadrant,
    Ticket,
    TicketStatus,
    Triage,
)
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy, check_triage_policy, classify, rank

NOW = sts.aware_datetimes()
POLICIES = st.one_of(st.just(DEFAULT_POLICY), sts.triage_policies())
SLOW_OK = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Fewer examples for the properties that draw whole queues or write files; ``--hypothesis-profile=thorough``
#: does not raise these (they are explicit), the ``slow`` variants below do.
FEWER = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def at_least_as_pressing(after: Triage, before: Triage) -> bool:
    """The partial order: urgent and important never lost, priority never worse (a larger number)."""
    return (
        (after.quadrant.urgent or not before.quadrant.urgent)
        and (after.quadrant.important or not before.quadrant.important)
        and after.priority <= before.priority
        and after.urgency.rank >= before.urgency.rank
        and after.importance.rank >= before.importance.rank
    )


_RAISES = (
    "flag",
    "channel",
    "keyword",
    "declared",
    "reach",
    "tier",
    "money",
    "affected",
    "repeat",
    "due",
)


def raise_signal(ticket: Ticket, which: str, data: st.DataObject) -> Ticket:
    """Return *ticket* with one signal raised (or unchanged when it cannot go higher)."""
    if which == "flag":
        return attrs.evolve(ticket, flags=ticket.flags | {data.draw(st.sampled_from(Flag))})
    if which == "channel":
        signalling = (Channel.REGULATOR, Channel.SOCIAL_MEDIA)
        if ticket.channel in signalling:
            return ticket  # switching between them would drop one signal, not raise one
        return attrs.evolve(ticket, channel=data.draw(st.sampled_from(signalling)))
    if which == "keyword":
        word = data.draw(st.sampled_from(["SOS", "救命", "报警", "police", "12315", "微博", "stranded", "gift card"]))
        return attrs.evolve(ticket, text=ticket.text + " " + word)
    if which == "declared":
        higher = [d for d in DeclaredUrgency if d.rank > ticket.declared_urgency.rank]
        return attrs.evolve(ticket, declared_urgency=data.draw(st.sampled_from(higher))) if higher else ticket
    if which == "reach":
        customer = attrs.evolve(ticket.customer, reach=ticket.customer.reach + data.draw(st.integers(1, 200_000)))
        return attrs.evolve(ticket, customer=customer)
    if which == "tier":
        if ticket.customer.tier is not CustomerTier.STANDARD:
            return ticket
        tier = data.draw(st.sampled_from([CustomerTier.VIP_BUSINESS, CustomerTier.VIP_PRIVATE]))
        return attrs.evolve(ticket, customer=attrs.evolve(ticket.customer, tier=tier))
    if which == "money":
        extra = data.draw(st.integers(1, 500_000))
        money = ticket.money_at_stake
        raised = Money(extra, "CNY") if money is None else Money(money.amount + extra, money.currency)
        return attrs.evolve(ticket, money_at_stake=raised)
    if which == "affected":
        return attrs.evolve(ticket, affected_customers=ticket.affected_customers + data.draw(st.integers(1, 5_000)))
    if which == "repeat":
        return attrs.evolve(ticket, repeat_contacts=ticket.repeat_contacts + data.draw(st.integers(1, 5)))
    # due: earlier (or set, when there was none, to a time no later than any other)
    if ticket.due is None:
        return ticket
    return attrs.evolve(ticket, due=ticket.due - timedelta(minutes=data.draw(st.integers(1, 5_000))))


@given(POLICIES, sts.tickets(), NOW, st.sampled_from(_RAISES), st.data())
def test_raising_any_signal_never_lowers_quadrant_or_priority(
    policy: TriagePolicy, ticket: Ticket, now: datetime, which: str, data: st.DataObject
) -> None:
    raised = raise_signal(ticket, which, data)
    before = classify(ticket, policy, now)
    after = classify(raised, policy, now)
    assert at_least_as_pressing(after, before), (which, before.explain(), after.explain())


@SLOW_OK
@given(
    st.one_of(
        st.just(DEFAULT_POLICY),
        sts.triage_policies(),
        sts.triage_policies(calendars=sts.calendars()),
    ),
    sts.tickets(statuses=st.sampled_from([TicketStatus.NEW, TicketStatus.OPEN])),
    NOW,
    st.integers(0, 60 * 24 * 30),
)
def test_a_later_now_never_lowers_the_urgency_of_an_open_unpaused_ticket(
    policy: TriagePolicy, ticket: Ticket, now: datetime, minutes: int
) -> None:
    ticket = attrs.evolve(ticket, pauses=())
    earlier = classify(ticket, policy, now)
    later = classify(ticket, policy, now + timedelta(minutes=minutes))
    assert later.urgency.rank >= earlier.urgency.rank
    assert at_least_as_pressing(later, earlier) or ticket.impact is not None


@st.composite
def queues(draw: st.DrawFn) -> list[Ticket]:
    drawn = draw(st.lists(sts.tickets(), max_size=6))
    return [attrs.evolve(t, id=f"T{index}") for index, t in enumerate(drawn)]


@FEWER
@given(POLICIES, queues(), NOW, st.randoms(use_true_random=False))
def test_rank_is_deterministic_and_independent_of_input_order(
    policy: TriagePolicy, tickets: list[Ticket], now: datetime, random: object
) -> None:
    shuffled = list(tickets)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    first = rank(tickets, policy, now)
    second = rank(shuffled, policy, now)
    assert [t.id for t, _ in first] == [t.id for t, _ in second]
    assert first == second
    assert rank(tickets, policy, now) == first


def _reprotect(ticket: Ticket, data: st.DataObject) -> Ticket:
    """Change only the protected attributes of *ticket*."""
    customer = attrs.evolve(
        ticket.customer,
        nationality=data.draw(st.none() | st.sampled_from(["CN", "US", "NG", "IN"])),
        gender=data.draw(st.none() | st.sampled_from(["female", "male", "other"])),
        age=data.draw(st.none() | st.integers(0, 150)),
    )
    attributes = dict(ticket.attributes)
    for name in ("nationality", "gender", "age", "language"):
        if data.draw(st.booleans()):
            attributes[name] = data.draw(st.sampled_from(["CN", "female", "42", "zh"]))
    return attrs.evolve(
        ticket, customer=customer, language=data.draw(st.sampled_from(["zh", "en", "ar", "und"])), attributes=attributes
    )


@FEWER
@given(POLICIES, queues(), NOW, st.data())
def test_changing_only_protected_attributes_changes_nothing(
    policy: TriagePolicy, tickets: list[Ticket], now: datetime, data: st.DataObject
) -> None:
    changed = [_reprotect(t, data) for t in tickets]
    for a, b in zip(tickets, changed, strict=True):
        assert classify(a, policy, now) == classify(b, policy, now)
    assert [t.id for t, _ in rank(tickets, policy, now)] == [t.id for t, _ in rank(changed, policy, now)]


@SLOW_OK
@given(
    st.one_of(sts.triage_policies(), sts.triage_policies(calendars=sts.calendars())),
    sts.tickets(max_level=6),
    NOW,
)
def test_classify_never_raises_on_a_valid_ticket(policy: TriagePolicy, ticket: Ticket, now: datetime) -> None:
    result = classify(ticket, policy, now)
    assert result.ticket_id == ticket.id
    assert result.quadrant is Quadrant.of(
        urgent=result.urgency.rank >= policy.urgency.levels.index(policy.urgency.threshold),
        important=result.importance.rank >= policy.importance.levels.index(policy.importance.threshold),
    )
    assert result.reasons, "every placement says why"
    assert result.explain().startswith(ticket.id)


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
@FEWER
@given(policy=st.one_of(sts.triage_policies(), sts.triage_policies(calendars=sts.calendars())))
def test_policy_load_of_dump_is_the_policy(fmt: config.Format, policy: TriagePolicy) -> None:
    assert config.load(config.dump(policy, fmt), TriagePolicy, fmt) == policy


@given(sts.triage_policies())
def test_strategy_policies_have_no_errors_in_their_thresholds(policy: TriagePolicy) -> None:
    assert not [f for f in check_triage_policy(policy) if "thresholds" in f.code or f.code == "protected-attribute"]


@pytest.mark.parametrize("quadrant", list(Quadrant), ids=lambda q: q.name)
def test_strategies_reach_every_quadrant(quadrant: Quadrant) -> None:
    """Each quadrant is found among the strategy's tickets by a search aimed at it, the same search on every run.

    Counting what 200 random tickets happened to reach failed now and then: a claim of reachability needs a
    search for each quadrant, derandomized so that it cannot depend on the seed. Each ticket is judged at the
    moment it was opened, before age or a deadline adds urgency (which would hide Q2 and Q4). The searches
    need 2 to about 230 tickets each; the budget is 2,000.
    """
    found = find(
        sts.tickets(),
        lambda ticket: classify(ticket, DEFAULT_POLICY, ticket.opened_at).quadrant is quadrant,
        settings=settings(max_examples=2000, derandomize=True, database=None, phases=[Phase.generate]),
    )
    assert classify(found, DEFAULT_POLICY, found.opened_at).quadrant is quadrant


@SLOW_OK
@given(sts.triage_policies(), sts.tickets(max_level=6))
def test_bound_rule_tests_answer_as_the_tests(policy: TriagePolicy, ticket: Ticket) -> None:
    """Each custom rule condition, bound once for the classifier, answers as the condition itself."""
    for rule in policy._engine.rules:
        for condition in rule.tests:
            assert bool(condition.bind()(ticket)) == bool(condition(ticket))
