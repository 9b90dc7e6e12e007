"""Delegated authority: who may decide what, within which limits, and what follows.

The company grants authority in advance, by tier and by kind of action. A
frontline agent who "hears the gunfire" may then design a deviation from the
written procedure (a refund, a rebooking on another airline, a goodwill gift)
within their grant, at once, without asking anyone; above it, the decision
names the lowest tier that may approve and what the agent must do meanwhile.

- A [`Grant`][servicetriage.authority.Grant] gives a tier an action kind under
  [`Conditions`][servicetriage.authority.Conditions] with
  [`Limits`][servicetriage.authority.Limits]. A higher tier may do whatever a
  lower one may.
- A [`Guardrail`][servicetriage.authority.Guardrail] forbids; it overrides
  every grant. Nothing is allowed unless a grant allows it (default deny), and
  an action that no tier may approve goes to the top tier, never to "allowed".
- [`authorize`][servicetriage.authority.authorize] returns a
  [`Decision`][servicetriage.authority.Decision]: the outcome, the lowest tier
  that may approve, the headroom, the reasons and the obligations with
  absolute deadlines.

A policy is compiled once when it is built (an index by action kind and
category, grants sorted by tier), so a decision costs the same with ten
grants or ten thousand. Everything here is immutable and picklable.
"""

from __future__ import annotations

import enum
from bisect import bisect_left
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._validators import check_non_empty, check_non_empty_items, field_path, to_tuple
from servicetriage.digest import content_hash
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    DEFAULT_TIERS,
    ActionKind,
    Channel,
    Customer,
    CustomerTier,
    Finding,
    FrozenMap,
    Money,
    Obligation,
    ObligationKind,
    Quadrant,
    Reason,
    Severity,
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "TICKET_FACTS",
    "Actor",
    "AuthorityPolicy",
    "CompiledPolicy",
    "Conditions",
    "Deadlines",
    "Decision",
    "Delegation",
    "Grant",
    "Guardrail",
    "Limits",
    "ObligationRule",
    "Outcome",
    "Request",
    "Tiers",
    "Usage",
    "authorize",
    "check_authority_policy",
    "compile_policy",
]

_QUADRANT_NAMES = frozenset(q.name for q in Quadrant)

#: The ticket facts a grant or a guardrail reads that the ticket model fills with a default when they are
#: not given: a request names those it was given in `Request.given`.
TICKET_FACTS = frozenset({"ticket.category", "ticket.channel", "ticket.customer.tier"})
_FACT_CATEGORY = "ticket.category"
_FACT_CHANNEL = "ticket.channel"
_FACT_CUSTOMER_TIER = "ticket.customer.tier"
# What the model puts in place of a fact that was not given.
_DEFAULT_CATEGORY: Any = attrs.fields(Ticket).category.default
_DEFAULT_CHANNEL: Any = attrs.fields(Ticket).channel.default
_DEFAULT_CUSTOMER_TIER: Any = attrs.fields(Customer).tier.default


# --------------------------------------------------------------------------
# Validators


def _reason(code: str, message: str, rule: str | None, evidence: dict[str, str] | None = None) -> Reason:
    """Build a Reason (the evidence becomes an immutable mapping)."""
    frozen: Any = FrozenMap(evidence or {})
    return Reason(code, message, rule, frozen)


def _show(value: object) -> str:
    """How a policy message shows a value: money as ``'500 CNY'``, anything else as its repr."""
    return f"'{value}'" if isinstance(value, Money) else repr(value)


def _fail(field: str, expected: str, value: object) -> PolicyError:
    return PolicyError(f"{field}: expected {expected}, got {_show(value)}")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    check_non_empty(field_path(instance, attribute), value, show=_show)


def _input_name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    """Like ``_name`` for request data: a bad value is a `TicketError`."""
    check_non_empty(field_path(instance, attribute), value, error=TicketError)


def _optional_name(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        _input_name(instance, attribute, value)


def _positive_money(instance: Any, attribute: attrs.Attribute[Any], value: Money | None) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise _fail(f"{type(instance).__name__.lower()}.{attribute.name}", "money such as '500 CNY'", value)
    if value.amount < 0:
        raise _fail(f"{type(instance).__name__.lower()}.{attribute.name}", "an amount >= 0", value)


def _positive_duration(instance: Any, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise _fail(f"{type(instance).__name__.lower()}.{attribute.name}", "a positive duration", value)


def _to_names(value: Iterable[str] | str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(str(v) if isinstance(v, enum.Enum) else v for v in value)


def _check_names(instance: Any, attribute: attrs.Attribute[Any], value: frozenset[str]) -> None:
    check_non_empty_items(field_path(instance, attribute), value, show=_show)


def _to_quadrant_names(value: Iterable[Quadrant | str | int] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, Quadrant | str | int):
        value = (value,)
    names = set()
    for item in value:
        if isinstance(item, Quadrant):
            names.add(item.name)
        elif isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= 4:
            names.add(f"Q{item}")
        elif isinstance(item, str) and item.strip().upper() in _QUADRANT_NAMES:
            names.add(item.strip().upper())
        else:
            raise _fail("conditions.quadrants", "'Q1', 'Q2', 'Q3' or 'Q4'", item)
    return frozenset(names)


def _enum_set(enum_cls: type[enum.Enum], field: str) -> Any:
    def convert(value: Any) -> frozenset[Any]:
        if value is None:
            return frozenset()
        if isinstance(value, enum_cls | str):
            value = (value,)
        result = set()
        for item in value:
            try:
                result.add(item if isinstance(item, enum_cls) else enum_cls(item))
            except ValueError:
                choices = ", ".join(repr(m.value) for m in enum_cls)
                raise _fail(field, f"one of {choices}", item) from None
        return frozenset(result)

    return convert


_customer_tiers = _enum_set(CustomerTier, "conditions.customer_tiers")
_channels = _enum_set(Channel, "conditions.channels")


def _to_customer_tiers(value: Iterable[CustomerTier | str] | None) -> frozenset[CustomerTier]:
    result: frozenset[CustomerTier] = _customer_tiers(value)
    return result


def _to_channels(value: Iterable[Channel | str] | None) -> frozenset[Channel]:
    result: frozenset[Channel] = _channels(value)
    return result


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


def _to_action(value: str | enum.Enum) -> str:
    return str(value) if isinstance(value, enum.Enum) else value


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


def _period(value: timedelta | None) -> str:
    """Render a period in words: '30 days', '12 hours', '90 minutes'."""
    if value is None:
        return "any time"
    seconds = int(value.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


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

    max_amount: Money | None = attrs.field(default=None, validator=_positive_money)
    max_count_per_ticket: int | None = attrs.field(default=None, validator=_check_count)
    max_total_per_customer: Money | None = attrs.field(default=None, validator=_positive_money)
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
    above: Money | None = attrs.field(default=None, validator=_positive_money)
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
    _compiled: CompiledPolicy = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check_policy(self)
        object.__setattr__(self, "_compiled", CompiledPolicy(self))

    def __getstate__(self) -> dict[str, Any]:
        return {a.name: getattr(self, a.name) for a in attrs.fields(AuthorityPolicy) if a.init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_compiled", CompiledPolicy(self))

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


# --------------------------------------------------------------------------
# Requests


@attrs.frozen(kw_only=True)
class Actor:
    """A person acting at a tier."""

    id: str = attrs.field(validator=_input_name)
    tier: str = attrs.field(validator=_input_name)


def _check_usage_at(_instance: Usage, _attribute: attrs.Attribute[Any], value: datetime) -> None:
    require_aware("usage.at", value)


def _check_usage_amount(_instance: Usage, _attribute: attrs.Attribute[Any], value: Money | None) -> None:
    if value is not None and (not isinstance(value, Money) or value.amount < 0):
        shown = f"'{value}'" if isinstance(value, Money) else repr(value)
        msg = f"usage.amount: expected money >= 0 such as '500 CNY', got {shown}"
        raise TicketError(msg)


@attrs.frozen(kw_only=True)
class Usage:
    """An action already granted: what, how much, when, on which ticket, for which customer.

    The library stores nothing; the caller passes the usage that counts
    toward per-ticket and per-customer limits with each request.
    ``ticket_id`` ``None`` means "this request's ticket" and ``customer_id``
    ``None`` "this request's customer": a record that does not say where it
    belongs counts against the request, never for it. An ``amount`` is never
    negative. A record without an ``amount`` cannot be added to a
    per-customer total: a grant with such a total cannot be judged until the
    amount is supplied, unless the amounts that are known (the request's
    own, plus those of the other records) already exceed the total, which
    no further usage can bring back under it.
    """

    action: str = attrs.field(converter=_to_action, validator=_input_name)
    at: datetime = attrs.field(validator=_check_usage_at)
    amount: Money | None = attrs.field(default=None, validator=_check_usage_amount)
    ticket_id: str | None = attrs.field(default=None, validator=_optional_name)
    customer_id: str | None = attrs.field(default=None, validator=_optional_name)


def _input_of(cls: type, field: str, *, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """A validator for request data: *field* must be a *cls* (or None if *optional*), else a TicketError."""

    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, cls) and not (optional and value is None):
            article = "an" if cls.__name__[0] in "AEIOU" else "a"
            msg = f"{field}: expected {'None or ' if optional else ''}{article} {cls.__name__}, got {value!r}"
            raise TicketError(msg)

    return check


def _to_optional_usage(value: Any) -> Any:
    if value is None or isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return value  # the validator names it
    return tuple(value)


def _check_usage_items(_instance: Request, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, tuple):
        msg = f"request.usage: expected None or a list of Usage, got {value!r}"
        raise TicketError(msg)
    for index, item in enumerate(value):
        if not isinstance(item, Usage):
            msg = f"request.usage[{index}]: expected a Usage, got {item!r}"
            raise TicketError(msg)


def _check_request_amount(_instance: Request, _attribute: attrs.Attribute[Any], value: Money | None) -> None:
    if value is not None and (not isinstance(value, Money) or value.amount < 0):
        shown = f"'{value}'" if isinstance(value, Money) else repr(value)
        msg = f"request.amount: expected money >= 0 such as '500 CNY', got {shown}"
        raise TicketError(msg)


def _to_given(value: Iterable[str] | str | None) -> Any:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, frozenset | set | list | tuple):
        return frozenset(value)
    return value  # the validator names it


def _check_given(_instance: Request, _attribute: attrs.Attribute[Any], value: Any) -> None:
    choices = ", ".join(repr(f) for f in sorted(TICKET_FACTS))
    if not isinstance(value, frozenset):
        msg = f"request.given: expected a set of {choices}, got {value!r}"
        raise TicketError(msg)
    for item in sorted(value, key=repr):
        if item not in TICKET_FACTS:
            msg = f"request.given: expected one of {choices}, got {item!r}"
            raise TicketError(msg)


@attrs.frozen(kw_only=True)
class Request:
    """One proposed action to decide.

    ``playbook`` names the contingency plan that matched the ticket (``None``
    if none did): a Q1 case without one is handled under delegated deviation
    authority, and the decision says so. ``department`` names who must carry
    out a ``department_instruction``. ``approver`` is the person who approved
    the request, if any: never the requester.

    A fact that is not given is never assumed. ``amount``, ``triage``,
    ``department`` and ``usage`` are ``None`` when not given (``usage=()``
    says "no prior usage"). The ticket's category, channel and customer tier
    always hold a value, the model's default (``general``, ``email``,
    ``standard``) when the caller gave none; so a value that differs from
    the default counts as given, and a value equal to it counts as given
    only when ``given`` names it (`TICKET_FACTS`: ``"ticket.category"``,
    ``"ticket.channel"``, ``"ticket.customer.tier"``). A grant or a
    guardrail whose condition reads a fact the request lacks cannot be
    judged: the request is never allowed on it (see `authorize`).
    """

    actor: Actor = attrs.field(validator=_input_of(Actor, "request.actor"))
    action: str = attrs.field(converter=_to_action, validator=_input_name)
    ticket: Ticket = attrs.field(validator=_input_of(Ticket, "request.ticket"))
    amount: Money | None = attrs.field(default=None, validator=_check_request_amount)
    triage: Triage | None = attrs.field(default=None, validator=_input_of(Triage, "request.triage", optional=True))
    usage: tuple[Usage, ...] | None = attrs.field(
        default=None, converter=_to_optional_usage, validator=_check_usage_items
    )
    approver: Actor | None = attrs.field(default=None, validator=_input_of(Actor, "request.approver", optional=True))
    playbook: str | None = None
    department: str | None = None
    given: frozenset[str] = attrs.field(factory=frozenset, converter=_to_given, validator=_check_given)

    @property
    def known_ticket_facts(self) -> frozenset[str]:
        """The `TICKET_FACTS` this request holds: given explicitly, or different from the model's default."""
        ticket = self.ticket
        known = set(self.given)
        if ticket.category != _DEFAULT_CATEGORY:
            known.add(_FACT_CATEGORY)
        if ticket.channel is not _DEFAULT_CHANNEL:
            known.add(_FACT_CHANNEL)
        if ticket.customer.tier is not _DEFAULT_CUSTOMER_TIER:
            known.add(_FACT_CUSTOMER_TIER)
        return frozenset(known)


# --------------------------------------------------------------------------
# Decisions


class Outcome(enum.Enum):
    """What a decision says."""

    ALLOWED = "allowed"
    """The actor (or the approver) holds the authority: act now."""
    NEEDS_APPROVAL = "needs_approval"
    """A higher tier must approve; the decision names the lowest such tier."""
    FORBIDDEN = "forbidden"
    """A guardrail forbids it; no tier may approve."""
    NEEDS_INFO = "needs_info"
    """A fact is missing (an amount, the triage, a department); supply it and ask again."""


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to a request: the outcome and everything that comes with it.

    - ``lowest_tier``: the lowest tier that may approve (for ``ALLOWED``, the
      lowest tier whose grant allows it; for ``NEEDS_APPROVAL``, whom to ask,
      the top tier when no grant covers the request at all).
    - ``tier``: the tier the actor acted at (raised by a delegation, if any).
    - ``headroom``: for ``ALLOWED``, what is left under the best grant after
      this request (``None``: no amount limit); for ``NEEDS_APPROVAL``, the
      most the actor may still grant on their own here (``None`` when the
      request has no amount).
    - ``guardrail``: the guardrail that forbids (``FORBIDDEN``).
    - ``missing``: the facts to supply (``NEEDS_INFO``).
    - ``reasons``: every guardrail that matched or could not be judged and
      every grant for this action and category, satisfied or not, with the
      failing condition.
    - ``obligations``: what must be done by when, with absolute deadlines.
    - ``policy_hash``: the content hash of the policy that decided
      (computed once, when the policy was compiled); ``policy_version``
      its version number when the policy came from a store.
    """

    outcome: Outcome
    action: str
    actor: str
    tier: str
    lowest_tier: str | None = None
    headroom: Money | None = None
    guardrail: str | None = None
    missing: tuple[str, ...] = ()
    delegation: str | None = None
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    policy_hash: str = ""
    policy_version: int | None = None

    @property
    def allowed(self) -> bool:
        """Whether the action may be taken now."""
        return self.outcome is Outcome.ALLOWED

    def explain(self) -> str:
        """Render the decision as readable text: outcome, tier, reasons and obligations."""
        head = f"{self.outcome.value}: {self.actor} ({self.tier}) {self.action}"
        lines = [head]
        if self.lowest_tier is not None:
            lines.append(f"  lowest tier that may approve: {self.lowest_tier}")
        if self.headroom is not None:
            lines.append(f"  headroom: {self.headroom}")
        if self.guardrail is not None:
            lines.append(f"  forbidden by: {self.guardrail}")
        if self.missing:
            lines.append(f"  missing: {', '.join(self.missing)}")
        lines.extend(f"  - {reason}" for reason in self.reasons)
        lines.extend(f"  * {obligation}" for obligation in self.obligations)
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Compiled form
#
# The hot path builds its results with the private constructors below: they
# set the slots of an attrs class directly, skipping the keyword parsing of
# the generated ``__init__``. They are only used with values that are valid
# by construction (decimals and currencies read from validated money, reasons
# made at compile time), and ``_member_setters`` refuses a class whose fields
# it would not set completely.


def _member_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """Return the slot setters of *cls* for *names*, which must be all of its attrs fields, in order."""
    fields = tuple(a.name for a in attrs.fields(cls))
    if fields != names or "__attrs_post_init__" in vars(cls):
        msg = f"{cls.__name__}: fast constructor expects fields {names}, the class has {fields}"
        raise TypeError(msg)
    return tuple(vars(cls)[name].__set__ for name in names)


_new = object.__new__


def _money_constructor() -> Callable[[Decimal, str], Money]:
    set_amount, set_currency = _member_setters(Money, ("amount", "currency"))

    def money(amount: Decimal, currency: str) -> Money:
        made = _new(Money)
        set_amount(made, amount)
        set_currency(made, currency)
        return made

    return money


def _obligation_constructor() -> Callable[[ObligationKind, datetime, str, str, str | None], Obligation]:
    set_kind, set_due, set_to, set_note, set_rule = _member_setters(Obligation, ("kind", "due", "to", "note", "rule"))

    def obligation(kind: ObligationKind, due: datetime, to: str, note: str, rule: str | None) -> Obligation:
        made = _new(Obligation)
        set_kind(made, kind)
        set_due(made, due)
        set_to(made, to)
        set_note(made, note)
        set_rule(made, rule)
        return made

    return obligation


def _reason_constructor() -> Callable[[str, str, str | None, FrozenMap[str, str]], Reason]:
    set_code, set_message, set_rule, set_evidence = _member_setters(Reason, ("code", "message", "rule", "evidence"))

    def reason(code: str, message: str, rule: str | None, evidence: FrozenMap[str, str]) -> Reason:
        made = _new(Reason)
        set_code(made, code)
        set_message(made, message)
        set_rule(made, rule)
        set_evidence(made, evidence)
        return made

    return reason


_DECISION_FIELDS = (
    "outcome",
    "action",
    "actor",
    "tier",
    "lowest_tier",
    "headroom",
    "guardrail",
    "missing",
    "delegation",
    "reasons",
    "obligations",
    "policy_hash",
    "policy_version",
)


def _decision_constructor() -> Callable[..., Decision]:
    (
        set_outcome,
        set_action,
        set_actor,
        set_tier,
        set_lowest,
        set_headroom,
        set_guardrail,
        set_missing,
        set_delegation,
        set_reasons,
        set_obligations,
        set_policy_hash,
        set_policy_version,
    ) = _member_setters(Decision, _DECISION_FIELDS)

    def decision(  # noqa: PLR0917
        outcome: Outcome,
        action: str,
        actor: str,
        tier: str,
        lowest_tier: str | None,
        headroom: Money | None,
        guardrail: str | None,
        missing: tuple[str, ...],
        delegation: str | None,
        reasons: tuple[Reason, ...],
        obligations: tuple[Obligation, ...],
        policy_hash: str,
        policy_version: int | None = None,
    ) -> Decision:
        made = _new(Decision)
        set_outcome(made, outcome)
        set_action(made, action)
        set_actor(made, actor)
        set_tier(made, tier)
        set_lowest(made, lowest_tier)
        set_headroom(made, headroom)
        set_guardrail(made, guardrail)
        set_missing(made, missing)
        set_delegation(made, delegation)
        set_reasons(made, reasons)
        set_obligations(made, obligations)
        set_policy_hash(made, policy_hash)
        set_policy_version(made, policy_version)
        return made

    return decision


_fast_money = _money_constructor()
_fast_obligation = _obligation_constructor()
_fast_reason = _reason_constructor()
_fast_decision = _decision_constructor()
_NO_EVIDENCE: FrozenMap[str, str] = FrozenMap()

_SOD = "separation_of_duties"


def _self_approval_reason(actor_id: str, outcome: Outcome, lowest: str | None, names: tuple[str, ...]) -> Reason:
    """Why a requester's own approval was set aside, and who may approve instead."""
    message = f"{actor_id} may not approve their own request"
    if outcome is Outcome.NEEDS_APPROVAL and lowest is not None:
        may = ", ".join(names[names.index(lowest) :])
        message += f"; another approver may: {may}"
    elif outcome is Outcome.ALLOWED:
        message += "; their own authority is enough"
    return _fast_reason("guardrail.separation_of_duties", message, _SOD, _NO_EVIDENCE)
# Enum members read through the class cost a lookup each; the hot path uses these.
_ALLOWED = Outcome.ALLOWED
_NEEDS_APPROVAL = Outcome.NEEDS_APPROVAL
_FORBIDDEN = Outcome.FORBIDDEN
_NEEDS_INFO = Outcome.NEEDS_INFO
_CALL_BACK = ObligationKind.CALL_BACK
_REPORT_UPWARD = ObligationKind.REPORT_UPWARD
_FILE_SUMMARY = ObligationKind.FILE_SUMMARY
_NOTIFY_DEPARTMENT = ObligationKind.NOTIFY_DEPARTMENT
_DEPARTMENT_INSTRUCTION = ActionKind.DEPARTMENT_INSTRUCTION.value
_ASK_APPROVAL = "ask for approval of the request"
_CALL_BACK_NOTE = "we will discuss internally and call you back"
_Q1_REPORT_NOTE = "report the deviation and its progress"
_SUMMARY_NOTE = "post-incident summary of the deviation"
_CUSTOMER = "customer"
_ZERO = Decimal(0)
_NEEDS_QUADRANT = "triage.quadrant"
_NEEDS_AMOUNT = "amount"
_NEEDS_DEPARTMENT = "department"
_NEEDS_USAGE = "usage"
_NEEDS_USAGE_AMOUNT = "usage.amount"
# How a reason names each fact a grant or a guardrail may lack.
_FACT_WORDS = {
    _NEEDS_QUADRANT: "the quadrant",
    _FACT_CATEGORY: "the category",
    _FACT_CUSTOMER_TIER: "the customer tier",
    _FACT_CHANNEL: "the channel",
    _NEEDS_USAGE: "the prior usage",
    _NEEDS_USAGE_AMOUNT: "the amount of each prior usage",
    _NEEDS_AMOUNT: "the amount",
}
_GRANT_NEEDS_MESSAGES = {
    _NEEDS_QUADRANT: "grant depends on the quadrant: triage missing",
    _FACT_CATEGORY: "grant depends on the category: ticket.category not given",
    _FACT_CUSTOMER_TIER: "grant depends on the customer tier: ticket.customer.tier not given",
    _FACT_CHANNEL: "grant depends on the channel: ticket.channel not given",
    _NEEDS_USAGE: "grant counts prior usage: usage not given",
    _NEEDS_USAGE_AMOUNT: "grant adds up prior usage: a prior usage has no amount",
    _NEEDS_AMOUNT: "grant has an amount limit: amount missing",
}
_FALLBACK_REASON = _reason(
    "fallback.delegated_authority",
    "no contingency plan matches this Q1 case: frontline staff act under delegated deviation authority",
    None,
)
_DEPARTMENT_REASON = _reason(
    "request.needs_info", "an instruction to another department must name the department", None
)


def _gap_reason(action: str, top: str) -> Reason:
    return _reason(
        "authority.gap", f"no tier holds a grant for {action} here: it goes to the top tier", None, {"tier": top}
    )


def _opt(values: frozenset[Any]) -> frozenset[Any] | None:
    return values or None


class _CGrant:
    """A grant prepared for fast evaluation: sets, decimals and ready reasons."""

    __slots__ = (
        "categories",
        "channels",
        "count_max",
        "currency",
        "customer_tiers",
        "grant",
        "id",
        "max_amount",
        "obligations",
        "period",
        "plain",
        "quadrants",
        "rank",
        "reasons",
        "rules",
        "total_max",
    )

    def __init__(self, grant: Grant, rank: int) -> None:
        limits = grant.limits
        self.grant = grant
        self.id = grant.id
        self.rank = rank
        self.quadrants = _opt(grant.when.quadrants)
        self.categories = _opt(grant.when.categories)
        self.customer_tiers = _opt(grant.when.customer_tiers)
        self.channels = _opt(grant.when.channels)
        self.currency = limits.currency
        self.max_amount = limits.max_amount.amount if limits.max_amount is not None else None
        self.total_max = limits.max_total_per_customer.amount if limits.max_total_per_customer is not None else None
        self.period = limits.period
        self.count_max = limits.max_count_per_ticket
        self.obligations = grant.obligations
        self.rules = tuple((rule.kind, rule.within, rule.to, rule.note, grant.id) for rule in grant.obligations)
        self.reasons = _grant_reasons(grant)
        self.plain = (
            self.quadrants is None
            and self.customer_tiers is None
            and self.channels is None
            and self.count_max is None
            and self.total_max is None
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_CGrant, (self.grant, self.rank))


def _grant_reasons(grant: Grant) -> dict[str, Reason]:
    g, lim, when = grant, grant.limits, grant.when
    evidence = {"tier": g.tier, "limits": lim.describe()}
    reasons = {
        "ok": _reason("grant.satisfied", f"{g.tier} may decide {g.action} ({lim.describe()})", g.id, evidence),
    }
    needs = []
    if when.quadrants:
        quadrants = ", ".join(sorted(when.quadrants))
        reasons["quadrant"] = _reason(
            "grant.condition", f"grant is for quadrants {quadrants} only", g.id, {"quadrants": quadrants}
        )
        needs.append(_NEEDS_QUADRANT)
    if when.categories:
        needs.append(_FACT_CATEGORY)
    if when.customer_tiers:
        needs.append(_FACT_CUSTOMER_TIER)
    if when.channels:
        needs.append(_FACT_CHANNEL)
    if lim.max_count_per_ticket is not None or lim.max_total_per_customer is not None:
        needs.append(_NEEDS_USAGE)
    if lim.max_total_per_customer is not None:
        needs.append(_NEEDS_USAGE_AMOUNT)
    if lim.needs_amount:
        needs.append(_NEEDS_AMOUNT)
    for fact in needs:
        reasons[f"needs:{fact}"] = _reason("grant.needs_info", _GRANT_NEEDS_MESSAGES[fact], g.id, {"missing": fact})
    if when.customer_tiers:
        shown = ", ".join(sorted(t.value for t in when.customer_tiers))
        reasons["customer_tier"] = _reason(
            "grant.condition", f"grant is for customer tiers {shown} only", g.id, {"customer_tiers": shown}
        )
    if when.channels:
        shown = ", ".join(sorted(c.value for c in when.channels))
        reasons["channel"] = _reason(
            "grant.condition", f"grant is for channels {shown} only", g.id, {"channels": shown}
        )
    if lim.needs_amount:
        reasons["currency"] = _reason(
            "grant.currency", f"grant limits are in {lim.currency}", g.id, {"currency": str(lim.currency)}
        )
    if lim.max_amount is not None:
        reasons["amount"] = _reason(
            "grant.limit", f"amount above the limit of {lim.max_amount} a request", g.id, {"limit": str(lim.max_amount)}
        )
    if lim.max_count_per_ticket is not None:
        reasons["count"] = _reason(
            "grant.limit",
            f"already used {lim.max_count_per_ticket} time(s) on this ticket",
            g.id,
            {"limit": str(lim.max_count_per_ticket)},
        )
    if lim.max_total_per_customer is not None:
        reasons["total"] = _reason(
            "grant.limit",
            f"customer total would exceed {lim.max_total_per_customer} in {_period(lim.period)}",
            g.id,
            {"limit": str(lim.max_total_per_customer)},
        )
        reasons["mixed"] = _reason("grant.limit", "prior usage in another currency cannot be added up", g.id, {})
    return reasons


class _CGuard:
    """A guardrail prepared for fast evaluation."""

    __slots__ = (
        "above",
        "categories",
        "channels",
        "currency",
        "customer_tiers",
        "guardrail",
        "id",
        "quadrants",
        "reasons",
    )

    def __init__(self, guardrail: Guardrail) -> None:
        self.guardrail = guardrail
        self.id = guardrail.id
        self.quadrants = _opt(guardrail.when.quadrants)
        self.categories = _opt(guardrail.when.categories)
        self.customer_tiers = _opt(guardrail.when.customer_tiers)
        self.channels = _opt(guardrail.when.channels)
        self.above = guardrail.above.amount if guardrail.above is not None else None
        self.currency = guardrail.above.currency if guardrail.above is not None else None
        message = guardrail.message or f"guardrail {guardrail.id} forbids this"
        self.reasons = {
            "match": _reason("guardrail.matched", message, guardrail.id, {}),
            "currency": _reason(
                "guardrail.unevaluable",
                f"amount cannot be compared with {guardrail.above}: fails closed",
                guardrail.id,
                {},
            ),
        }
        for fact in (_NEEDS_QUADRANT, _FACT_CATEGORY, _FACT_CUSTOMER_TIER, _FACT_CHANNEL, _NEEDS_AMOUNT):
            self.reasons[fact] = _guard_needs(guardrail.id, (fact,))

    def needs(self, lacking: list[str]) -> Reason:
        """The reason this guardrail gives when it cannot be judged without the *lacking* facts."""
        return self.reasons[lacking[0]] if len(lacking) == 1 else _guard_needs(self.id, tuple(lacking))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_CGuard, (self.guardrail,))


def _guard_needs(guard_id: str, lacking: tuple[str, ...]) -> Reason:
    words = " and ".join(_FACT_WORDS[fact] for fact in lacking)
    evidence = {"missing": ", ".join(lacking)}
    return _reason("guardrail.needs_info", f"guardrail needs {words}: fails closed", guard_id, evidence)


def _slices(items: list[tuple[frozenset[str], Any]], key: Any) -> tuple[dict[str, tuple[Any, ...]], tuple[Any, ...]]:
    """Index items by category: each category gets its own items plus the wildcard ones, in order."""
    wild = [item for cats, item in items if not cats]
    by_cat: dict[str, list[Any]] = {}
    for cats, item in items:
        for cat in cats:
            by_cat.setdefault(cat, []).append(item)
    table = {cat: tuple(sorted([*own, *wild], key=key)) for cat, own in by_cat.items()}
    return table, tuple(sorted(wild, key=key))


_Rules = tuple[tuple[ObligationKind, timedelta, str, str, str], ...]
# What a plain slice decides for one band and one tier: outcome, lowest tier, forbidding guardrail,
# reasons, a limit (ALLOWED: the best limit, None for none; NEEDS_APPROVAL: the headroom) and obligations.
_Entry = tuple[Outcome, str | None, str | None, tuple[Reason, ...], Decimal | None, _Rules]


class _Bands:
    """A plain slice judged in advance for one currency.

    A slice is plain when its grants limit only the amount of a request and
    its guardrails read only the amount. Its outcome then depends on the
    amount only through the band between consecutive limits it falls in
    (limits are inclusive: an amount equal to a limit stays within it), so
    for every band and every tier of the actor the outcome, lowest tier,
    reasons, best limit and obligations are prepared here, in one flat
    table. Only the headroom and the deadlines are left for the decision.
    ``others`` holds the slice judged for its other currencies, if any.
    """

    __slots__ = ("currency", "others", "ranks", "table", "thresholds")

    def __init__(
        self,
        grants: tuple[_CGrant, ...],
        guards: tuple[_CGuard, ...],
        currency: str,
        names: tuple[str, ...],
        gap: Reason,
    ) -> None:
        self.currency = currency
        self.others: dict[str, _Bands] | None = None
        limits = {g.max_amount for g in grants if g.max_amount is not None and g.currency == currency}
        limits.update(g.above for g in guards if g.above is not None and g.currency == currency)
        self.thresholds: tuple[Decimal, ...] = tuple(sorted(limits))
        self.ranks = len(names)
        table: list[_Entry] = []
        for band in range(len(self.thresholds) + 1):
            table.extend(self._band(grants, guards, names, gap, band))
        self.table = tuple(table)

    def _band(
        self, grants: tuple[_CGrant, ...], guards: tuple[_CGuard, ...], names: tuple[str, ...], gap: Reason, band: int
    ) -> list[_Entry]:
        """The entries of *band* for each rank (in band b the amount exceeds exactly the b smallest thresholds)."""
        currency = self.currency
        exceeded = set(self.thresholds[:band])
        reasons: list[Reason] = []
        forbidding: str | None = None
        for guard in guards:
            if guard.above is None:
                key = "match"
            elif guard.currency != currency:
                key = "currency"
            elif guard.above not in exceeded:
                continue
            else:
                key = "match"
            if forbidding is None:
                forbidding = guard.id
            reasons.append(guard.reasons[key])
        satisfied: list[_CGrant] = []
        for grant in grants:
            if grant.max_amount is not None:
                if grant.currency != currency:
                    reasons.append(grant.reasons["currency"])
                    continue
                if grant.max_amount in exceeded:
                    reasons.append(grant.reasons["amount"])
                    continue
            reasons.append(grant.reasons["ok"])
            satisfied.append(grant)
        shown = tuple(reasons)
        if forbidding is not None:
            return [(_FORBIDDEN, None, forbidding, shown, None, ())] * len(names)
        lowest = names[satisfied[0].rank] if satisfied else names[-1]
        entries: list[_Entry] = []
        for rank in range(len(names)):
            held = [g for g in satisfied if g.rank <= rank]
            if held:
                limits = [g.max_amount for g in held]
                best = None if None in limits else max(a for a in limits if a is not None)
                rules = tuple(rule for g in held for rule in g.rules)
                entries.append((_ALLOWED, lowest, None, shown, best, rules))
                continue
            # The most the actor may grant alone: the largest limit at their tier or below, met or not.
            own = [g.max_amount for g in grants if g.rank <= rank and g.currency == currency]
            allowance = max((a for a in own if a is not None), default=_ZERO)
            reasons_here = shown if satisfied else (*shown, gap)
            entries.append((_NEEDS_APPROVAL, lowest, None, reasons_here, allowance, ()))
        return entries


def _plain_slices(
    grants: tuple[_CGrant, ...], guards: tuple[_CGuard, ...], names: tuple[str, ...], gap: Reason
) -> _Bands | None:
    """Judge a slice in advance for each of its currencies, or None if it is not plain or reads no amount."""
    if not all(g.plain for g in grants):
        return None
    if any(g.quadrants is not None or g.customer_tiers is not None or g.channels is not None for g in guards):
        return None
    currencies = {g.currency for g in grants if g.currency is not None}
    currencies.update(g.currency for g in guards if g.currency is not None)
    if not currencies:
        return None
    first, *rest = sorted(currencies)
    bands = _Bands(grants, guards, first, names, gap)
    if rest:
        bands.others = {currency: _Bands(grants, guards, currency, names, gap) for currency in rest}
    return bands


class CompiledPolicy:
    """An `AuthorityPolicy` indexed for fast decisions.

    Grants are indexed by action kind, then by category (grants without a
    category condition join every category), sorted by tier; guardrails
    likewise. A decision looks at one slice only, so its cost does not grow
    with the number of grants for other actions and categories. Every reason
    a grant, a guardrail or a delegation may give, and every obligation it
    carries, is prepared here, so a decision only picks them. Immutable by
    convention and picklable (it rebuilds itself from the policy).
    """

    __slots__ = (
        "_all_grants",
        "_all_guards",
        "_all_guards_any",
        "_call_back",
        "_delegations",
        "_grants",
        "_guards",
        "_guards_any",
        "_names",
        "_plain",
        "_q1_report",
        "_ranks",
        "_report_upward",
        "_sod",
        "_summary",
        "_wild_grants",
        "_work_order",
        "content_hash",
        "policy",
        "tiers",
    )

    def __init__(self, policy: AuthorityPolicy) -> None:
        self.policy = policy
        # Once per policy: every Decision it makes carries this hash.
        self.content_hash = content_hash(policy)
        self.tiers = Tiers(policy.tiers)
        self._names = self.tiers.names
        self._ranks = dict(self.tiers._ranks)  # noqa: SLF001
        self._sod = policy.separation_of_duties
        deadlines = policy.deadlines
        self._call_back = deadlines.call_back_within
        self._report_upward = deadlines.report_upward_within
        self._q1_report = deadlines.q1_report_within
        self._summary = deadlines.summary_within
        self._work_order = deadlines.work_order_within
        rank = self.tiers.rank
        by_action: dict[str, list[tuple[frozenset[str], _CGrant]]] = {}
        for grant in policy.grants:
            by_action.setdefault(grant.action, []).append((grant.when.categories, _CGrant(grant, rank(grant.tier))))
        grant_key = lambda c: (c.rank, c.id)  # noqa: E731
        self._grants: dict[str, dict[str, tuple[_CGrant, ...]]] = {}
        self._wild_grants: dict[str, tuple[_CGrant, ...]] = {}
        for action, items in by_action.items():
            self._grants[action], self._wild_grants[action] = _slices(items, grant_key)
        guard_key = lambda c: c.id  # noqa: E731
        every = [(g.when.categories, _CGuard(g)) for g in policy.guardrails if not g.actions]
        guard_actions: dict[str, list[tuple[frozenset[str], _CGuard]]] = {}
        for guardrail in policy.guardrails:
            for action in guardrail.actions:
                guard_actions.setdefault(action, []).append((guardrail.when.categories, _CGuard(guardrail)))
        self._guards: dict[str, tuple[dict[str, tuple[_CGuard, ...]], tuple[_CGuard, ...]]] = {
            action: _slices([*items, *every], guard_key) for action, items in guard_actions.items()
        }
        self._guards_any = _slices(every, guard_key)
        # For a request whose category is not given: every grant and guardrail of the action, whatever its category.
        self._all_grants: dict[str, tuple[_CGrant, ...]] = {
            action: tuple(sorted((c for _cats, c in items), key=grant_key)) for action, items in by_action.items()
        }
        self._all_guards: dict[str, tuple[_CGuard, ...]] = {
            action: tuple(sorted((c for _cats, c in [*items, *every]), key=guard_key))
            for action, items in guard_actions.items()
        }
        self._all_guards_any = tuple(sorted((c for _cats, c in every), key=guard_key))
        self._plain: dict[str, tuple[dict[str, _Bands | None], _Bands | None]] = {}
        names = self._names
        for action in sorted(set(self._grants) | set(self._guards)):
            if action == _DEPARTMENT_INSTRUCTION:
                continue
            grant_table, grant_wild = self._grants.get(action, {}), self._wild_grants.get(action, ())
            guard_table, guard_wild = self._guards.get(action) or self._guards_any
            gap = _gap_reason(action, names[-1])
            self._plain[action] = (
                {
                    cat: _plain_slices(grant_table.get(cat, grant_wild), guard_table.get(cat, guard_wild), names, gap)
                    for cat in set(grant_table) | set(guard_table)
                },
                _plain_slices(grant_wild, guard_wild, names, gap),
            )
        delegations: dict[str, list[tuple[int, Delegation, Reason, Reason]]] = {}
        for delegation in policy.delegations:
            until = delegation.valid_until.isoformat()
            delegations.setdefault(delegation.to, []).append(
                (
                    rank(delegation.tier),
                    delegation,
                    _reason(
                        "delegation.active",
                        f"{delegation.to} acts as {delegation.tier} by delegation until {until}",
                        delegation.id,
                    ),
                    _reason(
                        "delegation.active",
                        f"approver {delegation.to} acts as {delegation.tier} by delegation",
                        delegation.id,
                    ),
                )
            )
        self._delegations = {
            person: tuple(sorted(items, key=lambda i: (-i[0], i[1].id))) for person, items in delegations.items()
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (CompiledPolicy, (self.policy,))

    def grants_in_slice(self, action: str, category: str) -> tuple[Grant, ...]:
        """Return the grants a request for *action* on *category* is judged against, lowest tier first."""
        table = self._grants.get(action)
        if table is None:
            return ()
        return tuple(c.grant for c in table.get(category, self._wild_grants[action]))

    def _rank(self, actor: Actor, field: str) -> int:
        rank = self._ranks.get(actor.tier)
        if rank is None:
            msg = f"{field}.tier: expected one of {', '.join(self._names)}, got {actor.tier!r}"
            raise TicketError(msg)
        return rank

    def _delegated(
        self, person: str, rank: int, action: str, now: datetime
    ) -> tuple[int, Delegation, Reason, Reason] | None:
        """The highest delegation lending *person* more than *rank* for *action* at *now*, if any."""
        for item in self._delegations.get(person, ()):
            if item[0] > rank and item[1].active(now, action):
                return item
        return None

    def decide(self, request: Request, now: datetime) -> Decision:
        """Decide *request* at *now*; see `authorize`."""
        if now.utcoffset() is None:
            require_aware("now", now)
        action = request.action
        ticket = request.ticket
        category = ticket.category
        actor = request.actor
        names = self._names
        rank = self._ranks.get(actor.tier)
        if rank is None:
            rank = self._rank(actor, "request.actor")
        reasons: list[Reason] = []
        delegation_id: str | None = None
        if self._delegations:
            lent = self._delegated(actor.id, rank, action, now)
            if lent is not None:
                rank, delegation_id = lent[0], lent[1].id
                reasons.append(lent[2])
        approver = request.approver
        authority = rank
        forbidding: str | None = None
        # Separation of duties: a requester's own approval does not count. The request is judged on the
        # requester's authority alone and, when that is not enough, asks another approver (NEEDS_APPROVAL).
        self_approved = approver is not None and approver.id == actor.id and self._sod
        if self_approved:
            approver = None
        if approver is not None:
            approver_rank = self._rank(approver, "request.approver")
            if self._delegations:
                lent = self._delegated(approver.id, approver_rank, action, now)
                if lent is not None:
                    approver_rank = lent[0]
                    reasons.append(lent[3])
            authority = max(authority, approver_rank)
        triage = request.triage
        quadrant = triage.quadrant._name_ if triage is not None else None
        amount = request.amount
        given = request.given
        # A category equal to the model's default may stand for "not given": then every grant and guardrail
        # of the action is a candidate, and those with a category condition cannot be judged.
        category_known = category != _DEFAULT_CATEGORY or _FACT_CATEGORY in given
        plain = self._plain.get(action)
        if (
            approver is None
            and not self_approved
            and amount is not None
            and plain is not None
            and (category_known or not plain[0])
        ):
            bands = plain[0].get(category, plain[1])
            if bands is not None:
                if bands.currency != amount.currency:
                    bands = bands.others.get(amount.currency) if bands.others is not None else None
                if bands is not None:
                    return self._decide_plain(request, now, rank, delegation_id, reasons, bands)
        customer = ticket.customer
        channel = ticket.channel
        customer_tier = customer.tier
        channel_known = channel is not _DEFAULT_CHANNEL or _FACT_CHANNEL in given
        tier_known = customer_tier is not _DEFAULT_CUSTOMER_TIER or _FACT_CUSTOMER_TIER in given
        usage = request.usage
        missing: set[str] | None = None

        # Guardrails: any match forbids; any that cannot be judged fails closed.
        if category_known:
            guard_table, guard_wild = self._guards.get(action) or self._guards_any
            guard_candidates = guard_table.get(category, guard_wild)
        else:
            guard_candidates = self._all_guards.get(action, self._all_guards_any)
        for guard in guard_candidates:
            lacking: list[str] | None = None
            if guard.quadrants is not None:
                if quadrant is None:
                    lacking = [_NEEDS_QUADRANT]
                elif quadrant not in guard.quadrants:
                    continue
            if guard.categories is not None and not category_known:
                lacking = [*lacking, _FACT_CATEGORY] if lacking else [_FACT_CATEGORY]
            if guard.customer_tiers is not None:
                if not tier_known:
                    lacking = [*lacking, _FACT_CUSTOMER_TIER] if lacking else [_FACT_CUSTOMER_TIER]
                elif customer_tier not in guard.customer_tiers:
                    continue
            if guard.channels is not None:
                if not channel_known:
                    lacking = [*lacking, _FACT_CHANNEL] if lacking else [_FACT_CHANNEL]
                elif channel not in guard.channels:
                    continue
            key = "match"
            if guard.above is not None:
                if amount is None:
                    lacking = [*lacking, _NEEDS_AMOUNT] if lacking else [_NEEDS_AMOUNT]
                elif amount.currency != guard.currency:
                    key = "currency"
                elif amount.amount <= guard.above:
                    continue
            if lacking is not None:
                if missing is None:
                    missing = set()
                missing.update(lacking)
                reasons.append(guard.needs(lacking))
                continue
            if forbidding is None:
                forbidding = guard.id
            reasons.append(guard.reasons[key])

        if action == _DEPARTMENT_INSTRUCTION and not request.department:
            if missing is None:
                missing = set()
            missing.add(_NEEDS_DEPARTMENT)
            reasons.append(_DEPARTMENT_REASON)

        # Grants: the lowest satisfied tier, the lowest tier that needs more facts.
        satisfied_rank: int | None = None
        unknown_rank: int | None = None
        grant_missing: list[tuple[int, str]] = []
        determining: list[_CGrant] = []
        best_left: Decimal | None = None
        unlimited = False
        allowance: Decimal | None = None
        count_used: int | None = None
        totals: dict[tuple[str, timedelta], tuple[Decimal, str | None] | None] | None = None
        if category_known:
            table = self._grants.get(action)
            candidates = () if table is None else table.get(category, self._wild_grants[action])
        else:
            candidates = self._all_grants.get(action, ())
        if amount is not None:
            amt: Decimal | None = amount.amount
            cur: str | None = amount.currency
        else:
            amt = cur = None
        for grant in candidates:
            r = grant.reasons
            needs: list[str] | None = None
            limit_left: Decimal | None = None
            if not category_known and grant.categories is not None:
                needs = [_FACT_CATEGORY]
            if grant.plain:
                # Only an amount per request (or no limit at all): the common case.
                limit_left = grant.max_amount
                if limit_left is not None:
                    if amt is None:
                        needs = [*needs, _NEEDS_AMOUNT] if needs else _ONLY_AMOUNT
                    elif cur != grant.currency:
                        reasons.append(r["currency"])
                        continue
                    else:
                        if grant.rank <= rank and (allowance is None or limit_left > allowance):
                            allowance = limit_left
                        if amt > limit_left:
                            reasons.append(r["amount"])
                            continue
            else:
                if grant.quadrants is not None:
                    if quadrant is None:
                        needs = [*needs, _NEEDS_QUADRANT] if needs else [_NEEDS_QUADRANT]
                    elif quadrant not in grant.quadrants:
                        reasons.append(r["quadrant"])
                        continue
                if grant.customer_tiers is not None:
                    if not tier_known:
                        needs = [*needs, _FACT_CUSTOMER_TIER] if needs else [_FACT_CUSTOMER_TIER]
                    elif customer_tier not in grant.customer_tiers:
                        reasons.append(r["customer_tier"])
                        continue
                if grant.channels is not None:
                    if not channel_known:
                        needs = [*needs, _FACT_CHANNEL] if needs else [_FACT_CHANNEL]
                    elif channel not in grant.channels:
                        reasons.append(r["channel"])
                        continue
                if grant.count_max is not None:
                    if usage is None:
                        needs = [*needs, _NEEDS_USAGE] if needs else [_NEEDS_USAGE]
                    else:
                        if count_used is None:
                            ticket_id = ticket.id
                            count_used = sum(
                                1 for u in usage if u.action == action and u.ticket_id in (ticket_id, None)
                            )
                        if count_used + 1 > grant.count_max:
                            reasons.append(r["count"])
                            continue
                if grant.currency is not None:
                    if amt is None:
                        needs = [*needs, _NEEDS_AMOUNT] if needs else _ONLY_AMOUNT
                    elif cur != grant.currency:
                        reasons.append(r["currency"])
                        continue
                    else:
                        limit_left = grant.max_amount
                        over_max = limit_left is not None and amt > limit_left
                        room_known = True
                        if grant.total_max is not None:
                            assert grant.period is not None
                            if usage is None:
                                used: tuple[Decimal, str | None] | None = _NO_USAGE
                            else:
                                tkey = (grant.currency, grant.period)
                                if totals is None:
                                    totals = {}
                                if tkey not in totals:
                                    totals[tkey] = _used(usage, action, customer.id, grant.currency, grant.period, now)
                                used = totals[tkey]
                            if used is None:
                                reasons.append(r["mixed"])
                                continue
                            known, lacking_usage = used
                            room = grant.total_max - known
                            if lacking_usage is not None:
                                # What is missing only adds to the total (amounts are never negative): an amount
                                # over the limit already is decided without it.
                                if over_max or amt > room:
                                    reasons.append(r["amount"] if over_max else r["total"])
                                    continue
                                needs = [*needs, lacking_usage] if needs else [lacking_usage]
                                room_known = False
                            else:
                                limit_left = room if limit_left is None else min(limit_left, room)
                        if room_known:
                            assert limit_left is not None
                            if grant.rank <= rank and (allowance is None or limit_left > allowance):
                                allowance = limit_left
                            if amt > limit_left:
                                reasons.append(r["amount"] if over_max else r["total"])
                                continue
            if needs:
                reasons.append(r[f"needs:{needs[0]}"])
                grant_missing.extend((grant.rank, name) for name in needs)
                if unknown_rank is None:
                    unknown_rank = grant.rank
                continue
            reasons.append(r["ok"])
            if satisfied_rank is None:
                satisfied_rank = grant.rank
            if grant.rank <= authority:
                if grant.rules:
                    determining.append(grant)
                if limit_left is None:
                    unlimited = True
                elif amt is not None:
                    left = limit_left - amt
                    if best_left is None or left > best_left:
                        best_left = left
        lowest: str | None = None
        headroom: Money | None = None
        missing_out: tuple[str, ...] = ()
        obligations: tuple[Obligation, ...]
        if forbidding is not None:
            outcome = _FORBIDDEN
            obligations = (_fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        elif missing:
            # Ask for everything at once: the guardrails' facts and those a grant below any satisfied one needs.
            outcome = _NEEDS_INFO
            if grant_missing:
                bound = satisfied_rank if satisfied_rank is not None else len(names)
                missing.update(name for grank, name in grant_missing if grank < bound)
            missing_out = tuple(sorted(missing))
            obligations = (_fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        elif satisfied_rank is not None and satisfied_rank <= authority:
            outcome = _ALLOWED
            lowest = names[satisfied_rank]
            if not unlimited and best_left is not None and cur is not None:
                headroom = _fast_money(best_left, cur)
            allowed = [
                _fast_obligation(kind, now + within, to, note, grant_id)
                for grant in determining
                for kind, within, to, note, grant_id in grant.rules
            ]
            if approver is not None and authority > rank:
                reasons.append(_fast_reason("approval.granted", f"approved by {approver.id}", None, _NO_EVIDENCE))
            if action == _DEPARTMENT_INSTRUCTION and request.department:
                allowed.append(
                    _fast_obligation(
                        _NOTIFY_DEPARTMENT,
                        now + self._work_order,
                        request.department,
                        f"work order for ticket {ticket.id}",
                        None,
                    )
                )
            if quadrant == "Q1" and request.playbook is None:
                above = names[rank + 1] if rank + 1 < len(names) else names[-1]
                allowed.append(_fast_obligation(_REPORT_UPWARD, now + self._q1_report, above, _Q1_REPORT_NOTE, None))
                allowed.append(_fast_obligation(_FILE_SUMMARY, now + self._summary, above, _SUMMARY_NOTE, None))
            obligations = _merge(allowed) if len(allowed) > 1 else tuple(allowed)
        elif unknown_rank is not None and (satisfied_rank is None or unknown_rank < satisfied_rank):
            outcome = _NEEDS_INFO
            bound = satisfied_rank if satisfied_rank is not None else len(names)
            missing_out = tuple(sorted({name for grank, name in grant_missing if grank < bound}))
            obligations = (_fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        else:
            outcome = _NEEDS_APPROVAL
            if satisfied_rank is None:
                lowest = names[-1]
                reasons.append(_gap_reason(action, lowest))
            else:
                lowest = names[satisfied_rank]
            if cur is not None:
                headroom = _fast_money(allowance if allowance is not None and allowance >= _ZERO else _ZERO, cur)
            obligations = (
                _fast_obligation(_REPORT_UPWARD, now + self._report_upward, lowest, _ASK_APPROVAL, None),
                _fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),
            )
        if self_approved:
            reasons.append(_self_approval_reason(actor.id, outcome, lowest, names))
        if quadrant == "Q1" and request.playbook is None:
            reasons.append(_FALLBACK_REASON)
        return _fast_decision(
            outcome,
            action,
            actor.id,
            names[rank],
            lowest,
            headroom,
            forbidding,
            missing_out,
            delegation_id,
            tuple(reasons),
            obligations,
            self.content_hash,
        )

    def _decide_plain(  # noqa: PLR0917
        self,
        request: Request,
        now: datetime,
        rank: int,
        delegation_id: str | None,
        reasons: list[Reason],
        bands: _Bands,
    ) -> Decision:
        """Decide a request on a plain slice from the band its amount falls in (see `_Bands`)."""
        amount = request.amount
        assert amount is not None
        amt = amount.amount
        outcome, lowest, forbidding, shown, limit, rules = bands.table[
            bisect_left(bands.thresholds, amt) * bands.ranks + rank
        ]
        triage = request.triage
        fallback = triage is not None and triage.quadrant._name_ == "Q1" and request.playbook is None
        headroom: Money | None = None
        obligations: tuple[Obligation, ...]
        if outcome is _ALLOWED:
            if limit is not None:
                headroom = _fast_money(limit - amt, amount.currency)
            if rules or fallback:
                allowed = [_fast_obligation(kind, now + within, to, note, rid) for kind, within, to, note, rid in rules]
                if fallback:
                    names = self._names
                    above = names[rank + 1] if rank + 1 < len(names) else names[-1]
                    allowed.append(
                        _fast_obligation(_REPORT_UPWARD, now + self._q1_report, above, _Q1_REPORT_NOTE, None)
                    )
                    allowed.append(_fast_obligation(_FILE_SUMMARY, now + self._summary, above, _SUMMARY_NOTE, None))
                obligations = _merge(allowed) if len(allowed) > 1 else tuple(allowed)
            else:
                obligations = ()
        elif outcome is _NEEDS_APPROVAL:
            assert lowest is not None
            assert limit is not None
            headroom = _fast_money(limit, amount.currency)
            obligations = (
                _fast_obligation(_REPORT_UPWARD, now + self._report_upward, lowest, _ASK_APPROVAL, None),
                _fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),
            )
        else:
            obligations = (_fast_obligation(_CALL_BACK, now + self._call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        if reasons or fallback:
            reasons.extend(shown)
            if fallback:
                reasons.append(_FALLBACK_REASON)
            shown = tuple(reasons)
        return _fast_decision(
            outcome,
            request.action,
            request.actor.id,
            self._names[rank],
            lowest,
            headroom,
            forbidding,
            (),
            delegation_id,
            shown,
            obligations,
            self.content_hash,
        )


_ONLY_AMOUNT = [_NEEDS_AMOUNT]
_NO_USAGE: tuple[Decimal, str | None] = (_ZERO, _NEEDS_USAGE)


def _used(  # noqa: PLR0917
    usage: tuple[Usage, ...], action: str, customer_id: str, currency: str, period: timedelta, now: datetime
) -> tuple[Decimal, str | None] | None:
    """Add up *action* already granted to the customer within *period* before *now*.

    The total of the amounts known, and ``"usage.amount"`` if a record that counts has no amount (else
    None): the true total is at least the known one. None if currencies mix.
    """
    try:
        start = now - period
    except OverflowError:  # a period reaching before year 1 covers every record
        start = datetime.min.replace(tzinfo=now.tzinfo)
    total = Decimal(0)
    lacking = False
    for item in usage:
        if item.action != action or not (start < item.at <= now):
            continue
        if item.customer_id is not None and item.customer_id != customer_id:
            continue
        if item.amount is None:
            lacking = True
            continue
        if item.amount.currency != currency:
            return None
        total += item.amount.amount
    return total, (_NEEDS_USAGE_AMOUNT if lacking else None)


def _merge(obligations: list[Obligation]) -> tuple[Obligation, ...]:
    """Merge duplicates (same kind, recipient and note), keeping the earliest deadline in the first one's place."""
    merged: dict[tuple[ObligationKind, str, str], Obligation] = {}
    for obligation in obligations:
        key = (obligation.kind, obligation.to, obligation.note)
        seen = merged.get(key)
        if seen is None or obligation.due < seen.due:
            merged[key] = obligation
    return tuple(merged.values())


def compile_policy(policy: AuthorityPolicy) -> CompiledPolicy:
    """Return the compiled form of *policy* (built once, when the policy was built)."""
    return policy.compiled


def authorize(request: Request, policy: AuthorityPolicy | CompiledPolicy, now: datetime) -> Decision:
    """Decide whether *request* may go ahead under *policy* at *now*.

    The outcome, in order of precedence:

    1. ``FORBIDDEN`` when a guardrail matches (or the approver is the
       requester, under separation of duties);
    2. ``NEEDS_INFO`` when a guardrail cannot be judged without a missing
       fact (it fails closed), or a department instruction names no
       department;
    3. ``ALLOWED`` when a grant at the actor's tier or below (or the
       approver's) is satisfied;
    4. ``NEEDS_INFO`` when a grant at a lower tier than any satisfied one
       cannot be judged without a missing fact (the amount, the triage);
    5. ``NEEDS_APPROVAL`` naming the lowest tier with a satisfied grant, or
       the top tier when no grant covers the request: never ``ALLOWED``.

    Every outcome other than ``ALLOWED`` obliges the actor to call the
    customer back; ``NEEDS_APPROVAL`` also obliges them to ask the approving
    tier. Raises `TicketError` when the actor's
    tier is unknown or *now* is naive.
    """
    if type(policy) is AuthorityPolicy:
        return policy._compiled.decide(request, now)  # noqa: SLF001
    compiled = policy.compiled if isinstance(policy, AuthorityPolicy) else policy
    return compiled.decide(request, now)


# --------------------------------------------------------------------------
# Static checks


def _finding(code: str, severity: Severity, path: str, message: str) -> Finding:
    return Finding(code=code, severity=severity, path=path, message=message)


def _at_least(mine: Money | int | None, theirs: Money | int | None) -> bool:
    """Whether limit *mine* is at least as generous as *theirs* (None is unlimited)."""
    if mine is None:
        return True
    if theirs is None:
        return False
    if isinstance(mine, Money) and isinstance(theirs, Money):
        return mine.currency == theirs.currency and mine.amount >= theirs.amount
    return mine >= theirs  # type: ignore[operator]


def _covers_limits(mine: Limits, theirs: Limits) -> bool:
    return (
        _at_least(mine.max_amount, theirs.max_amount)
        and _at_least(mine.max_count_per_ticket, theirs.max_count_per_ticket)
        and _at_least(mine.max_total_per_customer, theirs.max_total_per_customer)
        and (mine.max_total_per_customer is None or mine.period == theirs.period)
    )


def check_authority_policy(policy: AuthorityPolicy) -> tuple[Finding, ...]:
    """Find problems in *policy* that loading cannot: each a `Finding`.

    Codes:

    - ``authority.unapprovable`` (warning): an action kind named by a
      guardrail or a delegation that no tier may approve; every such request
      goes to the top tier.
    - ``authority.no_grant`` (info): a well-known action kind with no grant.
    - ``authority.limit_shrinks`` (warning): a higher tier has a smaller limit
      than a lower tier for the same action, where the higher tier's grant
      covers every request the lower one does (it inherits the larger limit
      anyway).
    - ``authority.dead_grant`` (warning): a guardrail without an amount
      forbids every request a grant covers, so the grant never allows
      anything.
    - ``authority.duplicate_grant`` (warning) and ``authority.shadowed_grant``
      (info): a grant that never decides anything because another grant at
      the same or a lower tier is at least as broad and as generous.
    - ``authority.forbids_everything`` (error): a guardrail without
      conditions or amount, forbidding every request of its kinds.
    - ``authority.mixed_currencies`` (warning): money in several currencies
      within one action kind; requests in the other currency cannot use
      those limits and guardrails fail closed on them.

    Unknown tiers and duplicate ids never reach this function: the policy
    cannot be built with them (``grants[3].tier: ...``).
    """
    tiers = policy.tier_order
    findings: list[Finding] = []
    granted = {g.action for g in policy.grants}
    referenced: dict[str, str] = {}
    for gi, guardrail in enumerate(policy.guardrails):
        path = f"guardrails[{gi}]"
        if guardrail.forbids_everything:
            kinds = ", ".join(sorted(guardrail.actions)) or "every action"
            findings.append(
                _finding(
                    "authority.forbids_everything",
                    Severity.ERROR,
                    path,
                    f"guardrail {guardrail.id!r} has no condition and no amount: it forbids {kinds} outright",
                )
            )
        for action in sorted(guardrail.actions):
            referenced.setdefault(action, f"{path}.actions")
    for di, delegation in enumerate(policy.delegations):
        for action in sorted(delegation.actions):
            referenced.setdefault(action, f"delegations[{di}].actions")
    for action, path in sorted(referenced.items()):
        if action not in granted:
            findings.append(
                _finding(
                    "authority.unapprovable",
                    Severity.WARNING,
                    path,
                    f"no tier holds a grant for {action!r}: every such request goes to the top tier ({tiers.top})",
                )
            )
    findings.extend(
        _finding("authority.no_grant", Severity.INFO, "grants", f"no grant for {kind.value!r}: it goes to the top tier")
        for kind in ActionKind
        if kind.value not in granted and kind.value not in referenced
    )

    index = {id(g): i for i, g in enumerate(policy.grants)}
    by_action: dict[str, list[Grant]] = {}
    for grant in policy.grants:
        by_action.setdefault(grant.action, []).append(grant)
    for action, grants in sorted(by_action.items()):
        currencies = sorted({c for g in grants if (c := g.limits.currency) is not None})
        currencies += [
            g.above.currency
            for g in policy.guardrails
            if g.above is not None and (not g.actions or action in g.actions) and g.above.currency not in currencies
        ]
        if len(set(currencies)) > 1:
            findings.append(
                _finding(
                    "authority.mixed_currencies",
                    Severity.WARNING,
                    "grants",
                    f"{action!r} has limits in {', '.join(sorted(set(currencies)))}: a request in one currency "
                    "cannot use limits in another",
                )
            )
        # Candidates that may cover a grant: same category bucket or no category condition.
        wild = [g for g in grants if not g.when.categories]
        bucket: dict[str, list[Grant]] = {}
        for grant in grants:
            for category in grant.when.categories:
                bucket.setdefault(category, []).append(grant)
        for grant in grants:
            rank = tiers.rank(grant.tier)
            first = min(grant.when.categories) if grant.when.categories else None
            candidates = wild + (bucket.get(first, []) if first is not None else [])
            path = f"grants[{index[id(grant)]}]"
            for guardrail in policy.guardrails:
                if (
                    guardrail.above is None
                    and (not guardrail.actions or action in guardrail.actions)
                    and guardrail.when.covers(grant.when)
                ):
                    findings.append(
                        _finding(
                            "authority.dead_grant",
                            Severity.WARNING,
                            path,
                            f"grant {grant.id!r} never allows anything: guardrail {guardrail.id!r} forbids every "
                            "request it covers",
                        )
                    )
                    break
            # A lower tier's grant whose cell this grant covers, with larger limits: the limit shrinks upward.
            covered = (
                grants
                if not grant.when.categories
                else sorted(
                    {id(o): o for c in grant.when.categories for o in bucket[c]}.values(), key=lambda o: index[id(o)]
                )
            )
            lower = next(
                (
                    o
                    for o in covered
                    if tiers.rank(o.tier) < rank
                    and grant.when.covers(o.when)
                    and _covers_limits(o.limits, grant.limits)
                    and not _covers_limits(grant.limits, o.limits)
                ),
                None,
            )
            if lower is not None:
                findings.append(
                    _finding(
                        "authority.limit_shrinks",
                        Severity.WARNING,
                        f"{path}.limits",
                        f"{grant.tier} has smaller limits ({grant.limits.describe()}) than {lower.tier} "
                        f"in {lower.id!r} ({lower.limits.describe()}) where both apply",
                    )
                )
                continue
            for other in candidates:
                if other is grant:
                    continue
                other_rank = tiers.rank(other.tier)
                if other_rank > rank or not other.when.covers(grant.when):
                    continue
                if not _covers_limits(other.limits, grant.limits):
                    continue
                same = other_rank == rank and other.when == grant.when and other.limits == grant.limits
                if same and other.obligations == grant.obligations:
                    if index[id(other)] < index[id(grant)]:
                        findings.append(
                            _finding(
                                "authority.duplicate_grant",
                                Severity.WARNING,
                                path,
                                f"grant {grant.id!r} repeats {other.id!r}",
                            )
                        )
                        break
                    continue
                if same and index[id(other)] > index[id(grant)]:
                    continue
                findings.append(
                    _finding(
                        "authority.shadowed_grant",
                        Severity.INFO,
                        path,
                        f"grant {grant.id!r} never decides anything: {other.id!r} ({other.tier}) "
                        "is at least as broad and as generous",
                    )
                )
                break
    return tuple(findings)
