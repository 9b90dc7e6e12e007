"""How far a learned proposal reaches: the conditions its evidence shares, and the grants already in force.

A proposal is no broader than its evidence. `Scope.of` reads, from the
reports behind it, every condition an authority grant can hold (category,
quadrant, customer tier, channel) and keeps, for each, the values the
reports show: three rebookings all in Q1 make a grant for Q1 only. A fact
that some report leaves out (no quadrant, no channel recorded) cannot be a
condition that holds for that report: the scope leaves it open and names it
in ``unrecorded``, so the proposal says so. A report's category and
customer tier always hold a value, the model's default (``general``,
``standard``) when none was given; as in `servicetriage.authority`, where
a fact equal to its default is not assumed to be known, the default counts
as not recorded.

`against` compares a proposed grant with the grants in force for the same
action: one at the same or a lower tier that already admits everything the
proposal would (as broad on every condition, as generous in amount, no
per-ticket or per-customer cap) makes it pointless; the others are
described (``narrower than grant 'supervisor-rebooking' (supervisor):
quadrants Q1 (the grant: any)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.authority import AuthorityPolicy, Conditions, Grant
from servicetriage.errors import PolicyError
from servicetriage.review import IncidentReport

if TYPE_CHECKING:
    from servicetriage.model import Money

__all__ = ["Relation", "Scope", "against"]

_DEFAULT_CATEGORY: Any = attrs.fields(IncidentReport).category.default
_DEFAULT_TIER: Any = attrs.fields(IncidentReport).customer_tier.default

_DIMENSIONS = ("categories", "quadrants", "customer_tiers", "channels")


@attrs.frozen(kw_only=True)
class Scope:
    """The conditions every report of a proposal's evidence meets; an empty tuple means "any".

    ``unrecorded`` names the facts (``category``, ``quadrant``, ``customer
    tier``, ``channel``) some report leaves out (or holds at its default),
    which therefore cannot be conditions.
    """

    categories: tuple[str, ...] = ()
    quadrants: tuple[str, ...] = ()
    customer_tiers: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    unrecorded: tuple[str, ...] = ()

    @classmethod
    def of(cls, reports: Iterable[IncidentReport]) -> Scope:
        """The scope *reports* share: for each condition, the values seen, if every report records one."""
        items = list(reports)
        facts = {
            "category": [r.category if r.category != _DEFAULT_CATEGORY else None for r in items],
            "quadrant": [r.quadrant.name if r.quadrant is not None else None for r in items],
            "customer tier": [r.customer_tier.value if r.customer_tier is not _DEFAULT_TIER else None for r in items],
            "channel": [r.channel.value if r.channel is not None else None for r in items],
        }
        unrecorded = tuple(name for name, values in facts.items() if None in values)

        def seen(name: str) -> tuple[str, ...]:
            values = facts[name]
            return () if None in values else tuple(sorted({v for v in values if v is not None}))

        return cls(
            categories=seen("category"),
            quadrants=seen("quadrant"),
            customer_tiers=seen("customer tier"),
            channels=seen("channel"),
            unrecorded=unrecorded,
        )

    def holds_for(self, report: IncidentReport) -> bool:
        """Whether *report* meets every condition of the scope."""
        facts = {
            "categories": report.category,
            "quadrants": report.quadrant.name if report.quadrant is not None else None,
            "customer_tiers": report.customer_tier.value,
            "channels": report.channel.value if report.channel is not None else None,
        }
        return all(not getattr(self, name) or facts[name] in getattr(self, name) for name in _DIMENSIONS)

    @property
    def conditions(self) -> Conditions:
        """The scope as an authority grant's conditions."""
        return Conditions(
            categories=frozenset(self.categories),
            quadrants=frozenset(self.quadrants),
            customer_tiers=frozenset(self.customer_tiers),
            channels=frozenset(self.channels),
        )

    def when(self) -> dict[str, list[str]]:
        """The scope as a grant's ``when`` table (plain data); only the conditions it holds."""
        return {name: list(getattr(self, name)) for name in _DIMENSIONS if getattr(self, name)}

    def describe(self) -> str:
        """The scope in words: ``flight_disruption; quadrants Q1; customer tiers standard``."""
        parts = [
            f"{name.replace('_', ' ')} {', '.join(getattr(self, name))}"
            for name in _DIMENSIONS[1:]
            if getattr(self, name)
        ]
        if self.categories:
            parts.insert(0, ", ".join(self.categories))
        text = "; ".join(parts) or "any case"
        if self.unrecorded:
            text += f" (any {' or '.join(self.unrecorded)}: not recorded by every report)"
        return text


@attrs.frozen(kw_only=True)
class Relation:
    """What the grants in force make of a proposed grant.

    ``covered_by`` names a grant at the proposed tier or below that already
    allows all of it (the proposal is then not made); ``notes`` describe
    its relation to the other grants for the same action.
    """

    covered_by: str | None = None
    notes: tuple[str, ...] = ()


def _names(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted(v if isinstance(v, str) else str(v.value) for v in values))


def _differences(mine: Conditions, theirs: Conditions, *, narrower: bool) -> list[str]:
    """Where *mine* is narrower (or, with ``narrower=False``, broader) than *theirs*, in words."""
    found = []
    for name in _DIMENSIONS:
        own, other = getattr(mine, name), getattr(theirs, name)
        if narrower:
            differs = bool(own) and (not other or own < other)
        else:
            differs = bool(other) and (not own or not own <= other)
        if differs:
            label = name.replace("_", " ")
            found.append(f"{label} {', '.join(_names(own)) or 'any'} (the grant: {', '.join(_names(other)) or 'any'})")
    return found


def _amount_covers(grant: Grant, limit: Money | None) -> bool:
    cap = grant.limits.max_amount
    if cap is None:
        return True
    return limit is not None and limit.currency == cap.currency and limit.amount <= cap.amount


def against(policy: AuthorityPolicy, *, action: str, tier: str, scope: Scope, limit: Money | None) -> Relation:
    """How the grants in force for *action* relate to granting it to *tier* within *scope*, up to *limit*."""
    tiers = policy.tier_order
    if tier not in tiers:
        msg = f"learning.tiers: tier {tier!r} is not a tier of the authority policy ({', '.join(tiers)})"
        raise PolicyError(msg)
    mine = scope.conditions
    rank = tiers.rank(tier)
    notes: list[str] = []
    for grant in policy.grants_for(action):
        capped = grant.limits.max_count_per_ticket is not None or grant.limits.max_total_per_customer is not None
        covers = grant.when.covers(mine) and _amount_covers(grant, limit) and not capped
        below = tiers.rank(grant.tier) <= rank
        if below and covers:
            return Relation(covered_by=grant.id)
        cap = grant.limits.max_amount
        if below:
            parts = _differences(mine, grant.when, narrower=False)
            if not _amount_covers(grant, limit):
                parts.append(f"up to {limit or 'any amount'} (the grant: {cap})")
            if capped:
                parts.append(f"without the grant's cap ({grant.limits.describe()})")
            notes.append(f"extends grant {grant.id!r} ({grant.tier}): " + "; ".join(parts))
        elif grant.when.covers(mine) and _amount_covers(grant, limit):
            parts = _differences(mine, grant.when, narrower=True)
            if cap is None and limit is not None:
                parts.append(f"up to {limit} (the grant: any amount)")
            elif cap is not None and limit is not None and limit.amount < cap.amount:
                parts.append(f"up to {limit} (the grant: {cap})")
            notes.append(f"narrower than grant {grant.id!r} ({grant.tier}): " + ("; ".join(parts) or "the same reach"))
        else:
            parts = _differences(mine, grant.when, narrower=False)
            if not _amount_covers(grant, limit):
                parts.append(f"up to {limit or 'any amount'} (the grant: {cap})")
            notes.append(f"reaches beyond grant {grant.id!r} ({grant.tier}): " + "; ".join(parts))
    return Relation(notes=tuple(notes))
