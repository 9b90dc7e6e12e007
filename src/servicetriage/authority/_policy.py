"""The policy as data: tiers, conditions, limits, grants, guardrails, delegations and deadlines."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._inputs import members
from servicetriage._validators import check_non_empty_items, field_path, to_tuple
from servicetriage.errors import PolicyError
from servicetriage.model import (
    DEFAULT_TIERS,
    Channel,
    CustomerTier,
    Money,
    ObligationKind,
    Quadrant,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from servicetriage.authority._compile import CompiledPolicy
from servicetriage.authority._common import (
    _fail,
    _name,
    _optional_money,
    _period,
    _positive_duration,
    _show,
    _to_action,
)


def _to_names(value: Iterable[str] | str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(str(v) if isinstance(v, enum.Enum) else v for v in value)


def _check_names(instance: Any, attribute: attrs.Attribute[Any], value: frozenset[str]) -> None:
    check_non_empty_items(field_path(instance, attribute), value, show=_show)


def _to_quadrant_names(value: Iterable[Quadrant | str | int] | None) -> frozenset[str]:
    return frozenset(q.name for q in members(Quadrant, value, "conditions.quadrants", PolicyError))


def _to_customer_tiers(value: Iterable[CustomerTier | str] | None) -> frozenset[CustomerTier]:
    return members(CustomerTier, value, "conditions.customer_tiers", PolicyError)


def _to_channels(value: Iterable[Channel | str] | None) -> frozenset[Channel]:
    return members(Channel, value, "conditions.channels", PolicyError)


def _to_grants(value: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(value)


def _to_guardrails(value: Iterable[Guardrail]) -> tuple[Guardrail, ...]:
    return tuple(value)


def _to_delegations(value: Iterable[Delegation]) -> tuple[Delegation, ...]:
    return tuple(value)


def _to_obligation_rules(value: Iterable[ObligationRule]) -> tuple[ObligationRule, ...]:
    return tuple(value)


# --------------------------------------------------------------------------
# Tiers


def _to_tier_names(value: Iterable[str]) -> tuple[str, ...]:
    return to_tuple(value)


def _check_tier_names(_instance: Any, _attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        raise _fail("tiers", "at least one tier", list(value))
    seen: set[str] = set()
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"tiers[{index}]", "a non-empty tier name", name)
        if name in seen:
            raise _fail(f"tiers[{index}]", "a tier name not listed before", name)
        seen.add(name)


@attrs.frozen
class Tiers:
    """An ordered set of authority tiers, lowest first.

    ``Tiers()`` holds the default order agent < supervisor < manager <
    department_head < executive. A higher tier may do whatever a lower one
    may, so most questions reduce to comparing ranks:

    >>> tiers = Tiers()
    >>> tiers.rank("manager")
    2
    >>> tiers.at_least("manager", "supervisor")
    True
    >>> tiers.top
    'executive'
    """

    names: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=_to_tier_names, validator=_check_tier_names)
    _ranks: dict[str, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_ranks", {name: index for index, name in enumerate(self.names)})

    def rank(self, name: str) -> int:
        """Return the position of tier *name*, 0 for the lowest; `PolicyError` if unknown."""
        try:
            return self._ranks[name]
        except (KeyError, TypeError):
            msg = f"tier: unknown tier {name!r}; the tiers are {', '.join(self.names)}"
            raise PolicyError(msg) from None

    def at_least(self, tier: str, other: str) -> bool:
        """Whether *tier* ranks at or above *other*."""
        return self.rank(tier) >= self.rank(other)

    def name(self, rank: int) -> str:
        """Return the tier at position *rank*."""
        return self.names[rank]

    @property
    def top(self) -> str:
        """The highest tier (the one that decides what nobody else may)."""
        return self.names[-1]

    @property
    def bottom(self) -> str:
        """The lowest tier (the frontline)."""
        return self.names[0]

    def above(self, tier: str) -> str:
        """Return the tier just above *tier*, or *tier* itself if it is the top."""
        return self.names[min(self.rank(tier) + 1, len(self.names) - 1)]

    def highest(self, *tiers: str) -> str:
        """Return the highest of *tiers*."""
        return max(tiers, key=self.rank)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._ranks

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


# --------------------------------------------------------------------------
# Policy parts


@attrs.frozen(kw_only=True)
class Conditions:
    """When a grant or a guardrail applies. An empty set means "any".

    ``quadrants`` holds quadrant names (``"Q1"`` ... ``"Q4"``; a
    `Quadrant` or its number is accepted too).
    A condition on quadrants needs the request's triage; the others read the
    ticket. No condition can read a protected attribute (language,
    nationality...): equal treatment is built in.
    """

    quadrants: frozenset[str] = attrs.field(factory=frozenset, converter=_to_quadrant_names)
    categories: frozenset[str] = attrs.field(factory=frozenset, converter=_to_names, validator=_check_names)
    customer_tiers: frozenset[CustomerTier] = attrs.field(factory=frozenset, converter=_to_customer_tiers)
    channels: frozenset[Channel] = attrs.field(factory=frozenset, converter=_to_channels)

    def covers(self, other: Conditions) -> bool:
        """Whether *self* admits every request that *other* admits.

        ``a.covers(b)`` is true when *a* is at least as broad as *b* on every
        condition (an empty set is the broadest).
        """
        return all(
            not mine or (bool(theirs) and theirs <= mine)
            for mine, theirs in (
                (self.quadrants, other.quadrants),
                (self.categories, other.categories),
                (self.customer_tiers, other.customer_tiers),
                (self.channels, other.channels),
            )
        )

    @property
    def unconditional(self) -> bool:
        """Whether these conditions admit every request."""
        return not (self.quadrants or self.categories or self.customer_tiers or self.channels)


def _to_max_amount(value: Any) -> Money | None:
    return _optional_money(value, "limits.max_amount")


def _to_max_total(value: Any) -> Money | None:
    return _optional_money(value, "limits.max_total_per_customer")


def _to_above(value: Any) -> Money | None:
    return _optional_money(value, "guardrail.above")


def _check_count(_instance: Limits, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise _fail(f"limits.{attribute.name}", "a whole number >= 1", value)


def _check_period(instance: Limits, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    _positive_duration(instance, attribute, value)
    if instance.max_total_per_customer is not None and value is None:
        raise _fail("limits.period", "a duration (such as '30d') for max_total_per_customer", value)
    first, total = instance.max_amount, instance.max_total_per_customer
    if first is not None and total is not None and first.currency != total.currency:
        raise _fail("limits.max_total_per_customer", f"the currency of max_amount ({first.currency})", total)


@attrs.frozen(kw_only=True)
class Limits:
    """How far a grant reaches. ``None`` means no limit of that kind.

    - ``max_amount``: the most one request may be worth (inclusive).
    - ``max_count_per_ticket``: how many times this action may be taken on
      one ticket, this request included.
    - ``max_total_per_customer`` over ``period``: the most all requests of
      this kind for one customer may add up to within the last ``period``
      (the caller passes the prior usage in the request).
    """

    max_amount: Money | None = attrs.field(default=None, converter=_to_max_amount)
    max_count_per_ticket: int | None = attrs.field(default=None, validator=_check_count)
    max_total_per_customer: Money | None = attrs.field(default=None, converter=_to_max_total)
    period: timedelta | None = attrs.field(default=None, validator=_check_period)

    @property
    def currency(self) -> str | None:
        """The currency of the money limits, if any."""
        for money in (self.max_amount, self.max_total_per_customer):
            if money is not None:
                return money.currency
        return None

    @property
    def needs_amount(self) -> bool:
        """Whether a request must carry an amount to be judged against these limits."""
        return self.max_amount is not None or self.max_total_per_customer is not None

    def describe(self) -> str:
        """Describe the limits in words."""
        parts = []
        if self.max_amount is not None:
            parts.append(f"up to {self.max_amount} a request")
        if self.max_count_per_ticket is not None:
            parts.append(f"at most {self.max_count_per_ticket} per ticket")
        if self.max_total_per_customer is not None:
            parts.append(f"at most {self.max_total_per_customer} per customer in {_period(self.period)}")
        return ", ".join(parts) or "no limit"


@attrs.frozen(kw_only=True)
class ObligationRule:
    """An obligation a grant attaches to what it allows: *kind* to *to* within *within*."""

    kind: ObligationKind
    within: timedelta = attrs.field(validator=_positive_duration)
    to: str = attrs.field(validator=_name)
    note: str = ""


def _check_obligation_rules(_instance: Grant, _attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, item in enumerate(value):
        if not isinstance(item, ObligationRule):
            raise _fail(f"grant.obligations[{index}]", "an ObligationRule", item)


def _check_grant_action(instance: Grant, attribute: attrs.Attribute[Any], value: str) -> None:
    _name(instance, attribute, value)


@attrs.frozen(kw_only=True)
class Grant:
    """Authority given in advance: *tier* may take *action* when *when* holds, within *limits*.

    ``action`` is an `ActionKind` value or a
    custom kind. ``obligations`` come with every request this grant allows.
    """

    id: str = attrs.field(validator=_name)
    tier: str = attrs.field(validator=_name)
    action: str = attrs.field(converter=_to_action, validator=_check_grant_action)
    when: Conditions = attrs.field(factory=Conditions)
    limits: Limits = attrs.field(factory=Limits)
    obligations: tuple[ObligationRule, ...] = attrs.field(
        default=(), converter=_to_obligation_rules, validator=_check_obligation_rules
    )
    note: str = ""


@attrs.frozen(kw_only=True)
class Guardrail:
    """A forbid rule: it overrides every grant.

    It applies to the action kinds in ``actions`` (empty: every kind) when
    ``when`` holds and, if ``above`` is set, when the amount is above it
    ("no cash refund above 5000 CNY"). A guardrail that needs a fact the
    request lacks (an amount, the triage) fails closed: the request is never
    allowed until the fact is supplied. An amount in another currency than
    ``above`` cannot be compared and is forbidden.
    """

    id: str = attrs.field(validator=_name)
    actions: frozenset[str] = attrs.field(factory=frozenset, converter=_to_names, validator=_check_names)
    when: Conditions = attrs.field(factory=Conditions)
    above: Money | None = attrs.field(default=None, converter=_to_above)
    message: str = ""

    @property
    def forbids_everything(self) -> bool:
        """Whether this guardrail forbids every request of its kinds."""
        return self.when.unconditional and self.above is None


def _check_until(instance: Delegation, _attribute: attrs.Attribute[Any], value: datetime) -> None:
    require_aware("delegation.valid_until", value, PolicyError)
    require_aware("delegation.valid_from", instance.valid_from, PolicyError)
    if value <= instance.valid_from:
        start = instance.valid_from.isoformat()
        msg = f"delegation.valid_until: expected a time after valid_from {start}, got {value.isoformat()}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Delegation:
    """Temporary authority: person *to* acts with the authority of *tier* from ``valid_from`` until ``valid_until``.

    The period is half-open (``valid_from <= now < valid_until``); outside it
    the delegation does nothing. ``actions`` narrows it to some action kinds
    (empty: every kind). A delegation never lowers anyone's own tier.
    """

    id: str = attrs.field(validator=_name)
    to: str = attrs.field(validator=_name)
    tier: str = attrs.field(validator=_name)
    actions: frozenset[str] = attrs.field(factory=frozenset, converter=_to_names, validator=_check_names)
    valid_from: datetime
    valid_until: datetime = attrs.field(validator=_check_until)
    note: str = ""

    def active(self, now: datetime, action: str) -> bool:
        """Whether this delegation covers *action* at *now*."""
        if now.utcoffset() is None:
            require_aware("now", now)
        return self.valid_from <= now < self.valid_until and (not self.actions or action in self.actions)


@attrs.frozen(kw_only=True)
class Deadlines:
    """How long after a decision each built-in obligation falls due."""

    call_back_within: timedelta = attrs.field(default=timedelta(hours=2), validator=_positive_duration)
    """Call the customer back when the actor lacks authority ("we will discuss internally and call you back")."""
    report_upward_within: timedelta = attrs.field(default=timedelta(minutes=30), validator=_positive_duration)
    """Ask the approving tier for a decision."""
    q1_report_within: timedelta = attrs.field(default=timedelta(minutes=15), validator=_positive_duration)
    """Report a Q1 deviation taken under delegated authority upward."""
    summary_within: timedelta = attrs.field(default=timedelta(hours=24), validator=_positive_duration)
    """File the post-incident summary of a Q1 deviation."""
    work_order_within: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive_duration)
    """Notify the department that must carry out an instruction."""


def _check_policy(policy: AuthorityPolicy) -> None:
    tiers = Tiers(policy.tiers)
    sections: tuple[tuple[str, tuple[Grant | Guardrail | Delegation, ...]], ...] = (
        ("grants", policy.grants),
        ("guardrails", policy.guardrails),
        ("delegations", policy.delegations),
    )
    kinds = {"grants": Grant, "guardrails": Guardrail, "delegations": Delegation}
    for section, items in sections:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, kinds[section]):
                msg = f"{section}[{index}]: expected a {kinds[section].__name__}, got {item!r}"
                raise PolicyError(msg)
            if item.id in seen:
                msg = f"{section}[{index}].id: expected a unique id, got {item.id!r} (also {section}[{seen[item.id]}])"
                raise PolicyError(msg)
            seen[item.id] = index
            tier = item.tier if isinstance(item, Grant | Delegation) else None
            if tier is not None and tier not in tiers:
                msg = f"{section}[{index}].tier: expected one of {', '.join(tiers.names)}, got {tier!r}"
                raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class AuthorityPolicy:
    """Tiers, grants, guardrails and delegations, compiled once when built.

    Invalid policies cannot be built: unknown tiers and duplicate ids raise
    `PolicyError` naming the path
    (``grants[3].tier: ...``). Use `with_grant` and friends to derive a
    new policy; the original is never changed.
    """

    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=_to_tier_names, validator=_check_tier_names)
    grants: tuple[Grant, ...] = attrs.field(default=(), converter=_to_grants)
    guardrails: tuple[Guardrail, ...] = attrs.field(default=(), converter=_to_guardrails)
    delegations: tuple[Delegation, ...] = attrs.field(default=(), converter=_to_delegations)
    separation_of_duties: bool = True
    """Set aside an approval by the requester: the request needs another approver (never forbidden)."""
    deadlines: Deadlines = attrs.field(factory=Deadlines)
    _compiled: _compile.CompiledPolicy = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check_policy(self)
        object.__setattr__(self, "_compiled", _compile.CompiledPolicy(self))

    def __getstate__(self) -> dict[str, Any]:
        return {a.name: getattr(self, a.name) for a in attrs.fields(AuthorityPolicy) if a.init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_compiled", _compile.CompiledPolicy(self))

    @property
    def compiled(self) -> CompiledPolicy:
        """The compiled form, built once with the policy."""
        return self._compiled

    @property
    def content_hash(self) -> str:
        """The policy's content hash (`servicetriage.digest.content_hash`), computed once when it was built."""
        return self._compiled.content_hash

    @property
    def tier_order(self) -> Tiers:
        """The policy's tiers as a `Tiers` helper."""
        return self._compiled.tiers

    def with_grant(self, grant: Grant) -> AuthorityPolicy:
        """Return a new policy with *grant* added (replacing a grant with the same id)."""
        kept = tuple(g for g in self.grants if g.id != grant.id)
        return attrs.evolve(self, grants=(*kept, grant))

    def without_grant(self, grant_id: str) -> AuthorityPolicy:
        """Return a new policy without the grant named *grant_id*."""
        return attrs.evolve(self, grants=tuple(g for g in self.grants if g.id != grant_id))

    def with_guardrail(self, guardrail: Guardrail) -> AuthorityPolicy:
        """Return a new policy with *guardrail* added (replacing one with the same id)."""
        kept = tuple(g for g in self.guardrails if g.id != guardrail.id)
        return attrs.evolve(self, guardrails=(*kept, guardrail))

    def with_delegation(self, delegation: Delegation) -> AuthorityPolicy:
        """Return a new policy with *delegation* added (replacing one with the same id)."""
        kept = tuple(d for d in self.delegations if d.id != delegation.id)
        return attrs.evolve(self, delegations=(*kept, delegation))

    def grants_for(self, action: str) -> tuple[Grant, ...]:
        """Return the grants for *action*, lowest tier first."""
        return tuple(
            sorted(
                (g for g in self.grants if g.action == action), key=lambda g: (self._compiled.tiers.rank(g.tier), g.id)
            )
        )


# The compiled form reads the classes above: bound here, after them, as a module (so either may be imported first).
from servicetriage.authority import _compile  # noqa: E402
