"""Strategies for delegated authority: grants, guardrails, policies and requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from servicetriage.authority import (
    TICKET_FACTS,
    Actor,
    AuthorityPolicy,
    Conditions,
    Deadlines,
    Delegation,
    Grant,
    Guardrail,
    Limits,
    ObligationRule,
    Request,
    Usage,
)
from servicetriage.model import (
    DEFAULT_TIERS,
    ActionKind,
    Channel,
    Customer,
    CustomerTier,
    Level,
    Money,
    ObligationKind,
    Quadrant,
    Ticket,
    Triage,
)

__all__ = [
    "authority_conditions",
    "authority_policies",
    "grants",
    "guardrails",
    "requests",
]

_NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
_ACTIONS: tuple[str, ...] = (ActionKind.REFUND.value, ActionKind.COMPENSATION.value, ActionKind.REBOOKING.value)
_CATEGORIES: tuple[str, ...] = ("flight", "billing", "ride")
_PEOPLE = ("p1", "p2", "p3")


def _amounts(currencies: tuple[str, ...], max_amount: int) -> st.SearchStrategy[Money]:
    # Round hundreds mostly, so that limits and amounts often meet exactly at a boundary.
    return st.builds(
        lambda hundreds, cents, cur: Money(Decimal(hundreds * 100) + Decimal(cents) / 100, cur),
        st.integers(0, max(max_amount // 100, 1)),
        st.sampled_from([0, 0, 0, 1, 99]),
        st.sampled_from(currencies),
    )


def authority_conditions(
    *, categories: tuple[str, ...] = _CATEGORIES, empty_weight: bool = True
) -> st.SearchStrategy[Conditions]:
    """Grant or guardrail conditions over quadrants, categories, customer tiers and channels.

    Each condition is often empty ("any"), so that drawn grants apply often.
    """

    def some(values: st.SearchStrategy[object]) -> st.SearchStrategy[frozenset[object]]:
        subset = st.frozensets(values, min_size=1, max_size=2)
        return st.one_of(st.just(frozenset()), st.just(frozenset()), subset) if empty_weight else subset

    return st.builds(
        Conditions,
        quadrants=some(st.sampled_from([q.name for q in Quadrant])),
        categories=some(st.sampled_from(categories)),
        customer_tiers=some(st.sampled_from(CustomerTier)),
        channels=some(st.sampled_from([Channel.PHONE, Channel.CHAT, Channel.EMAIL])),
    )


def _category_only(categories: tuple[str, ...]) -> st.SearchStrategy[Conditions]:
    subset = st.frozensets(st.sampled_from(categories), min_size=1, max_size=2)
    return st.builds(Conditions, categories=st.just(frozenset()) | subset)


def _limits(currencies: tuple[str, ...], max_amount: int) -> st.SearchStrategy[Limits]:
    amounts = {c: st.none() | _amounts((c,), max_amount) for c in currencies}
    totals = {c: st.none() | _amounts((c,), max_amount * 3) for c in currencies}
    counts = st.none() | st.integers(1, 3)
    currency_choice = st.sampled_from(currencies)

    @st.composite
    def draw_limits(draw: st.DrawFn) -> Limits:
        currency = draw(currency_choice)
        total = draw(totals[currency])
        return Limits(
            max_amount=draw(amounts[currency]),
            max_count_per_ticket=draw(counts),
            max_total_per_customer=total,
            period=timedelta(days=30) if total is not None else None,
        )

    return draw_limits()


_IDS = tuple(f"g{i}" for i in range(40))
_GUARD_IDS = tuple(f"x{i}" for i in range(10))


def grants(
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    ids: st.SearchStrategy[str] | None = None,
    amount_only: bool = False,
) -> st.SearchStrategy[Grant]:
    """Draw a grant for one of *tiers* and *actions*, with conditions and limits.

    With ``amount_only``, the only condition is the category and the only
    limit the amount per request (the shape most policies have).
    """
    obligations = st.lists(
        st.builds(
            ObligationRule,
            kind=st.sampled_from([ObligationKind.REPORT_UPWARD, ObligationKind.FILE_SUMMARY]),
            within=st.integers(1, 48 * 60).map(lambda m: timedelta(minutes=m)),
            to=st.sampled_from(tiers),
        ),
        max_size=1,
    ).map(tuple)
    return st.builds(
        Grant,
        id=ids if ids is not None else st.sampled_from(_IDS),
        tier=st.sampled_from(tiers),
        action=st.sampled_from(actions),
        when=_category_only(categories) if amount_only else authority_conditions(categories=categories),
        limits=st.builds(Limits, max_amount=st.none() | _amounts(currencies, max_amount))
        if amount_only
        else _limits(currencies, max_amount),
        obligations=obligations,
    )


def guardrails(
    *,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    ids: st.SearchStrategy[str] | None = None,
    amount_only: bool = False,
) -> st.SearchStrategy[Guardrail]:
    """Draw a guardrail over some of *actions*, usually with a condition or an amount.

    With ``amount_only``, the only condition is the category.
    """
    return st.builds(
        Guardrail,
        id=ids if ids is not None else st.sampled_from(_GUARD_IDS),
        actions=st.frozensets(st.sampled_from(actions), max_size=2),
        when=_category_only(categories) if amount_only else authority_conditions(categories=categories),
        above=st.none() | _amounts(currencies, max_amount),
        message=st.just("forbidden by a drawn guardrail"),
    )


def authority_policies(
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_grants: int = 12,
    max_guardrails: int = 2,
    max_delegations: int = 1,
    amount_only: bool = False,
) -> st.SearchStrategy[AuthorityPolicy]:
    """Draw valid authority policies: grants, guardrails and delegations with unique ids.

    With ``amount_only``, grants and guardrails read only the category and
    the amount (see `grants`).

    Drawn delegations go to the people the `requests` strategy draws
    (``p1``, ``p2``, ``p3``) and are active around 2026-05-01.
    """
    grant_lists = st.lists(
        grants(tiers=tiers, actions=actions, categories=categories, currencies=currencies, amount_only=amount_only),
        max_size=max_grants,
        unique_by=lambda g: g.id,
    )
    guardrail_lists = st.lists(
        guardrails(actions=actions, categories=categories, currencies=currencies, amount_only=amount_only),
        max_size=max_guardrails,
        unique_by=lambda g: g.id,
    )
    delegation = st.tuples(
        st.sampled_from(_PEOPLE),
        st.sampled_from(tiers),
        st.frozensets(st.sampled_from(actions), max_size=1),
        st.integers(-48, 24),
        st.integers(1, 72),
    )
    delegation_lists = st.lists(delegation, max_size=max_delegations)

    @st.composite
    def draw_policy(draw: st.DrawFn) -> AuthorityPolicy:
        delegation_list = []
        for index, (person, tier, kinds, offset, hours) in enumerate(draw(delegation_lists)):
            start = _NOW + timedelta(hours=offset)
            delegation_list.append(
                Delegation(
                    id=f"d{index}",
                    to=person,
                    tier=tier,
                    actions=kinds,
                    valid_from=start,
                    valid_until=start + timedelta(hours=hours),
                )
            )
        return AuthorityPolicy(
            tiers=tiers,
            grants=tuple(draw(grant_lists)),
            guardrails=tuple(draw(guardrail_lists)),
            delegations=tuple(delegation_list),
            separation_of_duties=draw(st.booleans()),
            deadlines=Deadlines(),
        )

    return draw_policy()


def requests(
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    now: datetime = _NOW,
) -> st.SearchStrategy[Request]:
    """Draw requests that policies from `authority_policies` (same arguments) can judge.

    Some lack an amount, a triage or the prior usage, some carry an approver
    (sometimes the requester) and prior usage within the last 40 days before
    *now* (some of it without a ticket id or an amount). The ticket's
    category is sometimes the model's default (``general``), and the
    channel and customer tier are often their defaults; ``given`` names a
    random part of `TICKET_FACTS`, so
    some defaults stand for facts that were given and some for facts that
    were not.
    """
    customer_ids = st.sampled_from(["C1", "C2"])
    ticket_ids = st.sampled_from(["T1", "T2"])
    customer_tiers = st.sampled_from(CustomerTier)
    category_choice = st.sampled_from((*categories, "general"))
    given_facts = st.frozensets(st.sampled_from(sorted(TICKET_FACTS)))
    channels = st.sampled_from([Channel.PHONE, Channel.CHAT, Channel.EMAIL])
    quadrants = st.none() | st.sampled_from(Quadrant)
    action_choice = st.sampled_from(actions)
    amounts = st.none() | _amounts(currencies, max_amount)
    usage_lists = st.lists(
        st.builds(
            Usage,
            action=action_choice,
            at=st.integers(0, 40 * 24 * 60).map(lambda m: now - timedelta(minutes=m)),
            amount=amounts,
            ticket_id=ticket_ids | st.none(),
            customer_id=st.none() | customer_ids,
        ),
        max_size=3,
    ).map(tuple)
    usages = usage_lists | st.none()
    actors = st.builds(Actor, id=st.sampled_from(_PEOPLE), tier=st.sampled_from(tiers))
    approvers = st.none() | actors
    playbooks = st.none() | st.just("seven-steps")
    departments = st.none() | st.just("operations")
    level = Level(0, "drawn")

    @st.composite
    def draw_request(draw: st.DrawFn) -> Request:
        customer = Customer(id=draw(customer_ids), tier=draw(customer_tiers))
        ticket = Ticket(
            id=draw(ticket_ids),
            opened_at=now - timedelta(hours=1),
            customer=customer,
            category=draw(category_choice),
            channel=draw(channels),
        )
        quadrant = draw(quadrants)
        triage = None
        if quadrant is not None:
            triage = Triage(
                ticket_id=ticket.id,
                quadrant=quadrant,
                priority=quadrant.value,
                urgency=level,
                importance=level,
                due=None,
                reasons=(),
            )
        return Request(
            actor=draw(actors),
            action=draw(action_choice),
            ticket=ticket,
            amount=draw(amounts),
            triage=triage,
            usage=draw(usages),
            approver=draw(approvers),
            playbook=draw(playbooks),
            department=draw(departments),
            given=draw(given_facts),
        )

    return draw_request()
