"""What is asked and what is answered: the actor, prior usage, the request, the outcome and the decision."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.errors import TicketError
from servicetriage.model import (
    Money,
    Obligation,
    Reason,
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
from servicetriage.authority._common import (
    _DEFAULT_CATEGORY,
    _DEFAULT_CHANNEL,
    _DEFAULT_CUSTOMER_TIER,
    _FACT_CATEGORY,
    _FACT_CHANNEL,
    _FACT_CUSTOMER_TIER,
    TICKET_FACTS,
    _input_name,
    _optional_money,
    _optional_name,
    _to_action,
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


def _to_usage_amount(value: Any) -> Money | None:
    return _optional_money(value, "usage.amount", TicketError)


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
    amount: Money | None = attrs.field(default=None, converter=_to_usage_amount)
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


def _to_request_amount(value: Any) -> Money | None:
    return _optional_money(value, "request.amount", TicketError)


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
    amount: Money | None = attrs.field(default=None, converter=_to_request_amount)
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
