"""Strategies for delegated authority: grants, guardrails, policies and requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from servicetriage.authority import (
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


def _limits(currencies: tuple[str, ...], max_amount: int) -> st.SearchStrategy[Limits]:
    @st.composite
    def draw_limits(draw: st.DrawFn) -> Limits:
        currency = draw(st.sampled_from(currencies))
        amount = draw(st.none() | _amounts((currency,), max_amount))
        count = draw(st.none() | st.integers(1, 3))
        total = draw(st.none() | _amounts((currency,), max_amount * 3))
        return Limits(
            max_amount=amount,
            max_count_per_ticket=count,
            max_total_per_customer=total,
            period=timedelta(days=30) if total is not None else None,
        )

    return draw_limits()


@st.composite
def grants(
    draw: st.DrawFn,
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    ids: st.SearchStrategy[str] | None = None,
) -> Grant:
    """Draw a grant for one of *tiers* and *actions*, with conditions and limits."""
    obligations = draw(
        st.lists(
            st.builds(
                ObligationRule,
                kind=st.sampled_from([ObligationKind.REPORT_UPWARD, ObligationKind.FILE_SUMMARY]),
                within=st.integers(1, 48 * 60).map(lambda m: timedelta(minutes=m)),
                to=st.sampled_from(tiers),
            ),
            max_size=1,
        )
    )
    return Grant(
        id=draw(ids if ids is not None else st.from_regex(r"g[0-9]{1,4}", fullmatch=True)),
        tier=draw(st.sampled_from(tiers)),
        action=draw(st.sampled_from(actions)),
        when=draw(authority_conditions(categories=categories)),
        limits=draw(_limits(currencies, max_amount)),
        obligations=tuple(obligations),
    )


@st.composite
def guardrails(
    draw: st.DrawFn,
    *,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    ids: st.SearchStrategy[str] | None = None,
) -> Guardrail:
    """Draw a guardrail over some of *actions*, usually with a condition or an amount."""
    return Guardrail(
        id=draw(ids if ids is not None else st.from_regex(r"x[0-9]{1,4}", fullmatch=True)),
        actions=draw(st.frozensets(st.sampled_from(actions), max_size=2)),
        when=draw(authority_conditions(categories=categories)),
        above=draw(st.none() | _amounts(currencies, max_amount)),
        message="forbidden by a drawn guardrail",
    )


@st.composite
def authority_policies(
    draw: st.DrawFn,
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_grants: int = 12,
    max_guardrails: int = 2,
    max_delegations: int = 1,
) -> AuthorityPolicy:
    """Draw valid authority policies: grants, guardrails and delegations with unique ids.

    Drawn delegations go to the people the :func:`requests` strategy draws
    (``p1``, ``p2``, ``p3``) and are active around 2026-05-01.
    """
    grant_list = draw(
        st.lists(
            grants(tiers=tiers, actions=actions, categories=categories, currencies=currencies),
            max_size=max_grants,
            unique_by=lambda g: g.id,
        )
    )
    guardrail_list = draw(
        st.lists(
            guardrails(actions=actions, categories=categories, currencies=currencies),
            max_size=max_guardrails,
            unique_by=lambda g: g.id,
        )
    )
    delegation_list = []
    for index in range(draw(st.integers(0, max_delegations))):
        start = _NOW + timedelta(hours=draw(st.integers(-48, 24)))
        delegation_list.append(
            Delegation(
                id=f"d{index}",
                to=draw(st.sampled_from(_PEOPLE)),
                tier=draw(st.sampled_from(tiers)),
                actions=draw(st.frozensets(st.sampled_from(actions), max_size=1)),
                valid_from=start,
                valid_until=start + timedelta(hours=draw(st.integers(1, 72))),
            )
        )
    return AuthorityPolicy(
        tiers=tiers,
        grants=tuple(grant_list),
        guardrails=tuple(guardrail_list),
        delegations=tuple(delegation_list),
        separation_of_duties=draw(st.booleans()),
        deadlines=Deadlines(),
    )


@st.composite
def requests(
    draw: st.DrawFn,
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    actions: tuple[str, ...] = _ACTIONS,
    categories: tuple[str, ...] = _CATEGORIES,
    currencies: tuple[str, ...] = ("CNY",),
    max_amount: int = 5_000,
    now: datetime = _NOW,
) -> Request:
    """Draw requests that policies from :func:`authority_policies` (same arguments) can judge.

    Some lack an amount or a triage, some carry an approver (sometimes the
    requester) and prior usage within the last 40 days before *now*.
    """
    customer = Customer(id=draw(st.sampled_from(["C1", "C2"])), tier=draw(st.sampled_from(CustomerTier)))
    ticket = Ticket(
        id=draw(st.sampled_from(["T1", "T2"])),
        opened_at=now - timedelta(hours=1),
        customer=customer,
        category=draw(st.sampled_from(categories)),
        channel=draw(st.sampled_from([Channel.PHONE, Channel.CHAT, Channel.EMAIL])),
    )
    quadrant = draw(st.none() | st.sampled_from(Quadrant))
    triage = None
    if quadrant is not None:
        level = Level(0, "drawn")
        triage = Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=quadrant.value,
            urgency=level,
            importance=level,
            due=None,
            reasons=(),
        )
    action = draw(st.sampled_from(actions))
    usage = draw(
        st.lists(
            st.builds(
                Usage,
                action=st.sampled_from(actions),
                at=st.integers(0, 40 * 24 * 60).map(lambda m: now - timedelta(minutes=m)),
                amount=st.none() | _amounts(currencies, max_amount),
                ticket_id=st.sampled_from(["T1", "T2"]),
                customer_id=st.none() | st.sampled_from(["C1", "C2"]),
            ),
            max_size=3,
        )
    )
    actor = Actor(id=draw(st.sampled_from(_PEOPLE)), tier=draw(st.sampled_from(tiers)))
    approver = draw(st.none() | st.builds(Actor, id=st.sampled_from(_PEOPLE), tier=st.sampled_from(tiers)))
    return Request(
        actor=actor,
        action=action,
        ticket=ticket,
        amount=draw(st.none() | _amounts(currencies, max_amount)),
        triage=triage,
        usage=tuple(usage),
        approver=approver,
        playbook=draw(st.none() | st.just("seven-steps")),
        department=draw(st.none() | st.just("operations")),
    )
