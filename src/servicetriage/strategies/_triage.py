"""Strategies for triage: scales, custom rules and whole triage policies."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from servicetriage.matrix import GLPI, SERVICENOW, PriorityMatrix
from servicetriage.model import Mark, Money
from servicetriage.signals import Signal
from servicetriage.strategies._calendar import priority_matrices as _priority_matrices
from servicetriage.triage import (
    Condition,
    CountStep,
    DeadlineStep,
    ItsmLevels,
    Keywords,
    MoneyStep,
    Raise,
    ResolutionTarget,
    Rule,
    Scale,
    TriagePolicy,
)

if TYPE_CHECKING:
    from servicetriage.calendar import BusinessCalendar

__all__ = ["conditions", "scales", "triage_policies", "triage_rules"]

_LEVEL_NAMES = ("lowest", "low", "medium", "high", "critical", "blocker")
_TEXT_FIELDS = ("category", "channel", "subject", "text", "customer.tier", "declared_urgency", "status")
_NUMBER_FIELDS = ("affected_customers", "repeat_contacts", "customer.reach", "money_at_stake.amount")
_ATTRIBUTE_FIELDS = ("attributes.plan", "attributes.region", "attributes.order_id")
_VALUES = ("flight", "ride", "billing", "general", "phone", "chat", "vip_business", "high", "open", "gold", "eu")


@st.composite
def scales(draw: st.DrawFn, *, min_levels: int = 2, max_levels: int = 6) -> Scale:
    """Draw ordinal scales of ``min_levels`` to ``max_levels`` levels with a threshold above the lowest level."""
    count = draw(st.integers(max(min_levels, 2), min(max_levels, len(_LEVEL_NAMES))))
    levels = _LEVEL_NAMES[len(_LEVEL_NAMES) - count :]
    threshold = draw(st.integers(1, count - 1))
    return Scale(levels=levels, threshold=levels[threshold])


def conditions() -> st.SearchStrategy[Condition]:
    """Draw valid rule conditions; they never read a protected attribute."""
    text = st.builds(
        Condition,
        field=st.sampled_from(_TEXT_FIELDS + _ATTRIBUTE_FIELDS),
        equals=st.sampled_from(_VALUES),
    )
    one_of = st.builds(
        Condition,
        field=st.sampled_from(_TEXT_FIELDS + _ATTRIBUTE_FIELDS),
        one_of=st.lists(st.sampled_from(_VALUES), min_size=1, max_size=3, unique=True).map(tuple),
    )
    contains = st.builds(
        Condition,
        field=st.sampled_from(("subject", "text", "category", *_ATTRIBUTE_FIELDS)),
        contains=st.sampled_from(("refund", "退款", "flight", "航班", "a")),
    )
    flags = st.builds(
        Condition,
        field=st.just("flags"),
        contains=st.sampled_from(("safety", "police", "regulator", "public_exposure")),
    )
    number = st.builds(
        Condition,
        field=st.sampled_from(_NUMBER_FIELDS),
        at_least=st.integers(0, 10_000).map(float),
    )
    return st.one_of(text, one_of, contains, flags, number)


@st.composite
def triage_rules(draw: st.DrawFn, *, urgency: Scale | None = None, importance: Scale | None = None) -> Rule:
    """Draw custom rules whose levels exist on the given scales (the default scales otherwise)."""
    urgency = urgency or Scale()
    importance = importance or Scale()
    raised = draw(st.sampled_from(("urgency", "importance", "both", "marks")))
    return Rule(
        name=draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)),
        when=tuple(draw(st.lists(conditions(), min_size=1, max_size=3))),
        urgency=draw(st.sampled_from(urgency.levels)) if raised in ("urgency", "both") else None,
        importance=draw(st.sampled_from(importance.levels)) if raised in ("importance", "both") else None,
        marks=frozenset(draw(st.sets(st.sampled_from([Mark.POSSIBLY_DECEPTIVE, Mark.VERIFY_AFTERWARDS]), max_size=1)))
        if raised == "marks"
        else frozenset(),
    )


@st.composite
def _itsm_levels(draw: st.DrawFn, urgency: Scale, importance: Scale) -> ItsmLevels:
    """Recorded-level tables that never raise a lower level above a higher one (as the policy requires)."""

    def table(scale: Scale) -> tuple[str, ...] | None:
        if draw(st.booleans()):
            return None
        ranks = sorted(draw(st.lists(st.integers(-1, len(scale.levels) - 1), max_size=5)), reverse=True)
        return tuple(scale.levels[r] if r >= 0 else "" for r in ranks)

    return ItsmLevels(impact=table(importance), urgency=table(urgency))


def _count_steps(draw: st.DrawFn, scale: Scale, bounds: tuple[int, ...]) -> tuple[CountStep, ...]:
    """Ascending count steps with non-decreasing levels (so the policy checks clean)."""
    picked = sorted(draw(st.sets(st.sampled_from(bounds), max_size=3)))
    ranks = sorted(draw(st.lists(st.integers(0, len(scale.levels) - 1), min_size=len(picked), max_size=len(picked))))
    return tuple(CountStep(at_least=b, level=scale.levels[r]) for b, r in zip(picked, ranks, strict=True))


@st.composite
def triage_policies(
    draw: st.DrawFn,
    *,
    rules: bool = True,
    calendars: st.SearchStrategy[BusinessCalendar | None] | None = None,
    matrices: st.SearchStrategy[PriorityMatrix] | None = None,
    all_signals: bool = False,
) -> TriagePolicy:
    """Draw valid triage policies: random scales, thresholds, signal settings and custom rules.

    Thresholds are drawn sorted and monotone, so `check_triage_policy`
    finds no error in them. ``rules`` allows custom rules; ``calendars``
    draws the business calendar (default: none, i.e. wall-clock time);
    ``matrices`` draws the priority matrix (default: the ServiceNow and
    GLPI presets and random monotone matrices); ``all_signals`` keeps every
    built-in signal on (by default some are switched off, never safety).
    """
    urgency = draw(scales())
    importance = draw(scales())
    u_levels, i_levels = urgency.levels, importance.levels

    def level(scale: Scale) -> str:
        return draw(st.sampled_from(scale.levels))

    def maybe(scale: Scale) -> str | None:
        return draw(st.none() | st.sampled_from(scale.levels))

    signals = tuple(s.value for s in Signal)
    if not all_signals:
        off = draw(st.sets(st.sampled_from([s.value for s in Signal if s is not Signal.SAFETY]), max_size=3))
        signals = tuple(s for s in signals if s not in off)
    windows = sorted(draw(st.sets(st.integers(1, 7 * 24), max_size=3)))
    window_ranks = sorted(
        draw(st.lists(st.integers(0, len(u_levels) - 1), min_size=len(windows), max_size=len(windows))), reverse=True
    )
    money_bounds = sorted(draw(st.sets(st.integers(0, 200_000), max_size=3)))
    money_ranks = sorted(
        draw(st.lists(st.integers(0, len(i_levels) - 1), min_size=len(money_bounds), max_size=len(money_bounds)))
    )
    targets_count = draw(st.integers(0, 6))
    hours = sorted(draw(st.lists(st.integers(1, 240), min_size=targets_count, max_size=targets_count)))
    return TriagePolicy(
        name=draw(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)),
        urgency=urgency,
        importance=importance,
        signals=signals,
        keywords=Keywords(
            safety=tuple(draw(st.sets(st.sampled_from(["求救", "mayday", "被打"]), max_size=2))),
            deceptive=tuple(draw(st.sets(st.sampled_from(["代付", "refund to my friend"]), max_size=2))),
        ),
        deadline=tuple(
            DeadlineStep(within=timedelta(hours=h), level=u_levels[r])
            for h, r in zip(windows, window_ranks, strict=True)
        ),
        # Overdue is at least as urgent as every deadline step (the policy requires it).
        overdue=u_levels[
            draw(st.integers(max(window_ranks, default=0), len(u_levels) - 1))
            if draw(st.booleans())
            else len(u_levels) - 1
        ],
        declared_urgency=dict(
            zip(
                ("low", "normal", "high", "critical"),
                (
                    u_levels[r]
                    for r in sorted(draw(st.lists(st.integers(0, len(u_levels) - 1), min_size=4, max_size=4)))
                ),
                strict=True,
            )
        ),
        police=Raise(urgency=maybe(urgency), importance=maybe(importance)),
        regulator=Raise(urgency=maybe(urgency), importance=maybe(importance)),
        public_exposure=Raise(urgency=maybe(urgency), importance=maybe(importance)),
        discrimination=Raise(urgency=maybe(urgency), importance=maybe(importance)),
        anger=Raise(urgency=maybe(urgency), importance=maybe(importance)),
        itsm=draw(_itsm_levels(urgency, importance)),
        reach=_count_steps(draw, importance, (250, 1_000, 10_000, 100_000)),
        vip={tier: level(importance) for tier in draw(st.sets(st.sampled_from(["vip_business", "vip_private"])))},
        money=tuple(
            MoneyStep(at_least=Money(b, "CNY"), level=i_levels[r])
            for b, r in zip(money_bounds, money_ranks, strict=True)
        ),
        affected=_count_steps(draw, importance, (2, 10, 100, 1_000)),
        repeat_contacts=_count_steps(draw, urgency, (1, 2, 3, 5)),
        complaint_risk_from=draw(st.integers(1, 5)),
        direct_to_top=draw(
            st.sampled_from([(("safety", "police"),), (), (("safety",), ("regulator", "public_exposure"))])
        ),
        rules=tuple(draw(st.lists(triage_rules(urgency=urgency, importance=importance), max_size=3))) if rules else (),
        matrix=draw(
            matrices
            if matrices is not None
            else st.one_of(st.just(SERVICENOW), st.just(GLPI), _priority_matrices(min_size=2, max_size=5))
        ),
        targets=tuple(ResolutionTarget(priority=p + 1, within=timedelta(hours=h)) for p, h in enumerate(hours)),
        calendar=draw(calendars) if calendars is not None else None,
    )
