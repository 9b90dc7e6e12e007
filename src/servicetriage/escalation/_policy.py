"""The escalation policy as data: recipients, steps, progress reports, chains."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from servicetriage._inputs import duration, members
from servicetriage._validators import check_priorities, non_empty, to_tuple
from servicetriage.calendar import BusinessCalendar
from servicetriage.digest import content_hash
from servicetriage.errors import PolicyError
from servicetriage.model import (
    DEFAULT_TIERS,
    Pause,
    Quadrant,
    Triage,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


_ZERO = timedelta(0)


class BusinessClock(Protocol):
    """What escalation needs from a business calendar (see `servicetriage.calendar`)."""

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """Return the instant *duration* of business time after *start*."""
        ...  # pragma: no cover


# --------------------------------------------------------------------------
# Validators


def _names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    where = f"{type(instance).__name__.lower()}.{attribute.name}"
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            msg = f"{where}[{index}]: expected a non-empty name, got {name!r}"
            raise PolicyError(msg)
    if len(set(value)) != len(value):
        msg = f"{where}: expected distinct names, got {list(value)!r}"
        raise PolicyError(msg)


def _fmt(value: timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return sign + (text or "0s")


def _non_negative_duration(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    duration(value, f"{type(instance).__name__.lower()}.{attribute.name}", PolicyError, positive=False)


def _positive_duration(instance: Any, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is not None:
        duration(value, f"{type(instance).__name__.lower()}.{attribute.name}", PolicyError)


# --------------------------------------------------------------------------
# Targets and steps


class RecipientKind(enum.Enum):
    """Whom a step notifies: a tier, a role or a named person."""

    TIER = "tier"
    ROLE = "role"
    PERSON = "person"


@attrs.frozen(order=True)
class Recipient:
    """One recipient of a notification, rendered ``tier:manager``, ``role:duty_officer``..."""

    kind: RecipientKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


class WhenEmpty(enum.Enum):
    """What a step with no target does (the rule is explicit; ``skip`` is the default)."""

    SKIP = "skip"
    """Pass over the step as if it were not there: its delay and repeats do not count."""
    WAIT = "wait"
    """A pure pause: its delay (and repeats) count, nobody is notified."""


def _check_repeat(_instance: Step, _attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        msg = f"step.repeat: expected a whole number >= 0, or -1 for 'until acknowledged', got {value!r}"
        raise PolicyError(msg)


def _check_repeat_every(instance: Step, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    _positive_duration(instance, attribute, value)
    if instance.repeat != 0 and value is None:
        msg = f"step.repeat_every: a step with repeat = {instance.repeat} needs an interval > 0, got none"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Step:
    """One rung of a chain: whom to notify, and how long after the previous rung.

    ``delay`` counts from the previous step's last notification (from the
    start for step 0). ``repeat`` more notifications follow ``repeat_every``
    apart; ``-1`` repeats until acknowledged or resolved.
    """

    tiers: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    roles: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    people: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    delay: timedelta = attrs.field(default=_ZERO, validator=_non_negative_duration)
    repeat: int = attrs.field(default=0, validator=_check_repeat)
    repeat_every: timedelta | None = attrs.field(default=None, validator=_check_repeat_every)
    when_empty: WhenEmpty = WhenEmpty.SKIP
    note: str = ""

    @property
    def targets(self) -> tuple[Recipient, ...]:
        """Every target of the step: tiers, then roles, then people."""
        return (
            *(Recipient(RecipientKind.TIER, t) for t in self.tiers),
            *(Recipient(RecipientKind.ROLE, r) for r in self.roles),
            *(Recipient(RecipientKind.PERSON, p) for p in self.people),
        )

    @property
    def empty(self) -> bool:
        """Whether the step notifies nobody."""
        return not (self.tiers or self.roles or self.people)


@attrs.frozen(kw_only=True)
class ProgressReport:
    """A progress report upward, due every ``every`` while the case is open.

    ``to`` names a tier. A reported progress (`EventKind.PROGRESS`)
    restarts the timer; otherwise a reminder falls due every ``every``.
    """

    to: str = attrs.field(validator=non_empty)
    every: timedelta = attrs.field(validator=_positive_duration)
    note: str = ""


def _to_quadrants(value: Iterable[Quadrant | str | int]) -> frozenset[Quadrant]:
    return members(Quadrant, value, "chain.quadrants", PolicyError)


def _check_priorities(instance: Any, _attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    check_priorities(f"{type(instance).__name__.lower()}.priorities", value)


@attrs.frozen(kw_only=True)
class Chain:
    """An escalation chain, selected by quadrant and/or priority.

    Empty ``quadrants`` (or ``priorities``) means any. ``direct_to_top``
    notifies the executive tier at the start, as does a triage marked
    `DIRECT_TO_TOP`. ``business_time`` makes
    step delays (and the two timeouts) count business time under the
    escalation policy's ``calendar``. ``exhausted_after`` is how long the last
    notice may go unanswered before the chain counts as exhausted;
    ``ack_timeout`` (``None``: never) how long a case may stay acknowledged
    but unresolved before it climbs again from step 0.
    """

    id: str = attrs.field(validator=non_empty)
    quadrants: frozenset[Quadrant] = attrs.field(default=frozenset(), converter=_to_quadrants)
    priorities: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset, validator=_check_priorities)
    steps: tuple[Step, ...] = attrs.field(default=(), converter=to_tuple)
    reports: tuple[ProgressReport, ...] = attrs.field(default=(), converter=to_tuple)
    direct_to_top: bool = False
    business_time: bool = False
    exhausted_after: timedelta = attrs.field(default=_ZERO, validator=_non_negative_duration)
    ack_timeout: timedelta | None = attrs.field(default=None, validator=_positive_duration)
    description: str = ""

    def applies_to(self, triage: Triage) -> bool:
        """Whether this chain covers *triage*'s quadrant and priority."""
        return (not self.quadrants or triage.quadrant in self.quadrants) and (
            not self.priorities or triage.priority in self.priorities
        )


def _check_tiers(instance: EscalationPolicy, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        msg = "escalationpolicy.tiers: expected at least one tier, got []"
        raise PolicyError(msg)
    _names(instance, attribute, value)


def _check_chains(_instance: EscalationPolicy, _attribute: attrs.Attribute[Any], value: tuple[Chain, ...]) -> None:
    seen: dict[str, int] = {}
    for index, chain in enumerate(value):
        if chain.id in seen:
            msg = f"escalationpolicy.chains[{index}].id: duplicate id {chain.id!r} (first at chains[{seen[chain.id]}])"
            raise PolicyError(msg)
        seen[chain.id] = index


def _check_executive(instance: EscalationPolicy, _attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and value not in instance.tiers:
        msg = f"escalationpolicy.executive: expected one of the tiers {list(instance.tiers)!r}, got {value!r}"
        raise PolicyError(msg)


def _check_calendar(_instance: Any, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        msg = f"escalationpolicy.calendar: expected a BusinessCalendar or none, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class EscalationPolicy:
    """The escalation chains of an organisation (the ``[escalation]`` table of a policy file).

    ``chains`` are tried in order; the first that applies to a triage wins.
    ``executive`` is the tier the direct line reaches (default: the last tier).
    ``calendar`` is the business calendar that chains with ``business_time``
    and work orders opened under the policy count in (none: wall-clock time).
    """

    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=to_tuple, validator=_check_tiers)
    chains: tuple[Chain, ...] = attrs.field(default=(), converter=to_tuple, validator=_check_chains)
    executive: str | None = attrs.field(default=None, validator=_check_executive)
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_check_calendar)
    _content_hash: str = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Once per policy: every escalation started under it carries this hash on its actions.
        object.__setattr__(self, "_content_hash", content_hash(self))

    @property
    def content_hash(self) -> str:
        """The policy's content hash (`servicetriage.digest.content_hash`), computed once when it was built."""
        return self._content_hash

    @property
    def top(self) -> str:
        """The executive tier: ``executive`` or the last tier."""
        return self.executive if self.executive is not None else self.tiers[-1]

    def select(self, triage: Triage) -> Chain | None:
        """Return the first chain that applies to *triage*, or ``None``."""
        for chain in self.chains:
            if chain.applies_to(triage):
                return chain
        return None
