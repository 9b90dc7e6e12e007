"""The shared vocabulary: tickets, customers, money, quadrants and reasons.

Every value here is immutable (``@attrs.frozen``) and validated when it is
built: a bad value raises `TicketError` (for
ticket data) or `PolicyError` (for policy data)
naming the field and the value. Times are aware `datetime`
values; money is a `Decimal` with a currency, never a float.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from servicetriage._inputs import member, money
from servicetriage.errors import PolicyError, TicketError

__all__ = [
    "DEFAULT_TIERS",
    "PROTECTED_ATTRIBUTES",
    "ActionKind",
    "AttributeValue",
    "Channel",
    "Customer",
    "CustomerTier",
    "DeclaredUrgency",
    "Finding",
    "Flag",
    "FrozenMap",
    "Level",
    "Mark",
    "Money",
    "Obligation",
    "ObligationKind",
    "Pause",
    "Quadrant",
    "Reason",
    "Severity",
    "Ticket",
    "TicketStatus",
    "Triage",
    "require_aware",
]

K = TypeVar("K")
V = TypeVar("V")

#: The value types allowed in a ticket's free ``attributes`` mapping.
AttributeValue = str | int | float | bool

#: Customer and ticket attributes that a triage rule may never read (the
#: default; a policy may name more).
PROTECTED_ATTRIBUTES: tuple[str, ...] = (
    "language",
    "nationality",
    "gender",
    "age",
    # Obvious proxies of the above, and other grounds of discrimination: a rule may read none of them.
    "lang",
    "locale",
    "mother_tongue",
    "native_language",
    "passport_country",
    "citizenship",
    "country_of_birth",
    "ethnicity",
    "race",
    "religion",
    "sex",
    "birth_date",
    "date_of_birth",
    "disability",
)

#: The default ordered authority tiers, lowest first.
DEFAULT_TIERS: tuple[str, ...] = (
    "agent",
    "supervisor",
    "manager",
    "department_head",
    "executive",
)


# --------------------------------------------------------------------------
# Helpers shared by validators


def require_aware(field: str, value: object, error: type[Exception] = TicketError) -> datetime:
    """Return *value* if it is an aware datetime, else raise *error* naming *field*."""
    if not isinstance(value, datetime):
        msg = f"{field}: expected an aware datetime, got {value!r}"
        raise error(msg)
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{field}: expected an aware datetime (with a time zone), got naive {value.isoformat()!r}"
        raise error(msg)
    return value


#: The times the library reads: from 1900 to the end of 2999 (`servicetriage.config.check_time` checks them where
#: files are read). With durations of at most 100 years, no deadline computed from them can leave the calendar.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _in_range(instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    """Check an aware time (or ``None``) from `EARLIEST` to before `LATEST`.

    A ticket opened in 9999 would overflow every deadline computed from it.
    """
    if value is None:
        return
    if type(value) is not datetime or value.tzinfo is None or value.utcoffset() is None:
        require_aware(f"{type(instance).__name__.lower()}.{attribute.name}", value)
    if not EARLIEST <= value < LATEST:
        msg = (
            f"{type(instance).__name__.lower()}.{attribute.name}: expected a time from 1900 to 2999, "
            f"got {value.isoformat()!r}"
        )
        raise TicketError(msg)


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if type(value) is datetime and value.tzinfo is not None and value.utcoffset() is not None:
        return  # the common valid case, without building the field name
    if value is not None:
        require_aware(f"{type(instance).__name__.lower()}.{attribute.name}", value)


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if type(value) is int and value >= 0:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{type(instance).__name__.lower()}.{attribute.name}: expected a whole number >= 0, got {value!r}"
        raise TicketError(msg)


def _non_empty_str(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if type(value) is str and value and not value[0].isspace():
        return  # a first character that is not blank: strip() leaves it
    if not isinstance(value, str) or not value.strip():
        msg = f"{type(instance).__name__.lower()}.{attribute.name}: expected a non-empty string, got {value!r}"
        raise TicketError(msg)


def _str(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str and not isinstance(value, str):
        msg = f"{type(instance).__name__.lower()}.{attribute.name}: expected a string, got {value!r}"
        raise TicketError(msg)


E = TypeVar("E", bound=enum.Enum)


def _convert_enum(enum_cls: type[E], field: str, value: object) -> E:
    """Return *value* as an *enum_cls* member, or raise naming *field* and the choices."""
    return member(enum_cls, value, field, TicketError)


# --------------------------------------------------------------------------
# FrozenMap


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable, picklable mapping.

    Used for free-form attributes so that tickets stay hashable and safe to
    share between threads.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        """Return the value for *key*, or *default* (the dict's own fast lookup)."""
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


def _to_attributes(value: object) -> FrozenMap[str, AttributeValue]:
    if value is None:
        return FrozenMap()
    if isinstance(value, FrozenMap):
        return value
    if not isinstance(value, Mapping):
        msg = f"ticket.attributes: expected a mapping of names to values, got {value!r}"
        raise TicketError(msg)
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            msg = f"ticket.attributes: expected non-empty string keys, got {key!r}"
            raise TicketError(msg)
        if not isinstance(item, str | int | float | bool):
            msg = f"ticket.attributes.{key}: expected a string, number or boolean, got {item!r}"
            raise TicketError(msg)
    return FrozenMap(value)


# --------------------------------------------------------------------------
# Enumerations


class Quadrant(enum.Enum):
    """Urgency x importance, judged from the customer's side.

    The value is the handling order: Q1 first.
    """

    Q1 = 1
    """Urgent and important: handle first, at once; start the matching contingency plan."""
    Q2 = 2
    """Important, not urgent: planned work; build and drill playbooks."""
    Q3 = 3
    """Urgent, not important to the company: prepared standard answers; stay alert."""
    Q4 = 4
    """Neither: standard procedure, in order."""

    @property
    def urgent(self) -> bool:
        """Whether the quadrant is an urgent one (Q1, Q3)."""
        return self in (Quadrant.Q1, Quadrant.Q3)

    @property
    def important(self) -> bool:
        """Whether the quadrant is an important one (Q1, Q2)."""
        return self in (Quadrant.Q1, Quadrant.Q2)

    @property
    def handling(self) -> str:
        """How a need in this quadrant is handled, in one sentence."""
        return _HANDLING[self]

    @classmethod
    def of(cls, *, urgent: bool, important: bool) -> Quadrant:
        """The quadrant for an urgent/important pair."""
        if urgent:
            return cls.Q1 if important else cls.Q3
        return cls.Q2 if important else cls.Q4

    def __str__(self) -> str:
        return self.name


_HANDLING = {
    Quadrant.Q1: "first, at once: launch the matching contingency plan; without one, act under delegated authority",
    Quadrant.Q2: "planned work: build and drill playbooks so fewer needs ever reach Q1",
    Quadrant.Q3: "prepared standard answer, promptly; stay alert to complaint risk and verify where deceptive",
    Quadrant.Q4: "standard procedure, in order",
}


class Channel(enum.Enum):
    """Where the need reached us."""

    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL_MEDIA = "social_media"
    IN_PERSON = "in_person"
    REGULATOR = "regulator"


class CustomerTier(enum.Enum):
    """A customer's service tier. VIP tiers weigh more: a policy raises their importance."""

    STANDARD = "standard"
    VIP_BUSINESS = "vip_business"
    VIP_PRIVATE = "vip_private"

    @property
    def vip(self) -> bool:
        """Whether the tier is a VIP one."""
        return self is not CustomerTier.STANDARD


class DeclaredUrgency(enum.Enum):
    """How urgent the customer says the need is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ``low`` up to 3 for ``critical``."""
        return _DECLARED_RANK[self]


_DECLARED_RANK = {
    DeclaredUrgency.LOW: 0,
    DeclaredUrgency.NORMAL: 1,
    DeclaredUrgency.HIGH: 2,
    DeclaredUrgency.CRITICAL: 3,
}


class Flag(enum.Enum):
    """Flags a caller (or an upstream system) sets on a ticket."""

    SAFETY = "safety"
    """A safety signal: an SOS, a threat to life or health."""
    POLICE = "police"
    """The police called or are involved."""
    REGULATOR = "regulator"
    """A complaint to, or an enquiry from, a regulator."""
    PUBLIC_EXPOSURE = "public_exposure"
    """The need is visible in public: social media, the press, a trade show."""


class TicketStatus(enum.Enum):
    """Where a ticket is in its life."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Whether the ticket still waits for us."""
        return self in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class Mark(enum.Enum):
    """Notes on a triage that do not change its place but ask for an action."""

    VERIFY_AFTERWARDS = "verify_afterwards"
    """A safety signal was handled as real; check afterwards whether it was a false alarm."""
    POSSIBLY_DECEPTIVE = "possibly_deceptive"
    """The request matches a pattern of deceptive requests: verify before acting."""
    COMPLAINT_RISK = "complaint_risk"
    """Neglect would turn this need into a complaint."""
    OVERDUE = "overdue"
    """The due time has passed."""
    DIRECT_TO_TOP = "direct_to_top"
    """The gravest cases: may go straight to top management."""
    HUMAN_REVIEW = "human_review"
    """A signal detector failed on this ticket: a person reads it now (the triage failed closed)."""


class Severity(enum.Enum):
    """How serious a static-check finding is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ActionKind(enum.StrEnum):
    """Well-known kinds of deviation an agent may take.

    Fields that hold an action kind are plain strings, so a policy may also
    use custom kinds; these are the names the library knows.
    """

    REFUND = "refund"
    COMPENSATION = "compensation"
    REBOOKING = "rebooking"
    GOODWILL_GIFT = "goodwill_gift"
    FEE_WAIVER = "fee_waiver"
    PROCEDURE_DEVIATION = "procedure_deviation"
    DEPARTMENT_INSTRUCTION = "department_instruction"


# --------------------------------------------------------------------------
# Money

_MONEY_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]{3})\s*$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        msg = f"money.amount: expected a decimal string or integer (never a float), got {value!r}"
        raise PolicyError(msg)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        msg = f"money.amount: expected a decimal number, got {value!r}"
        raise PolicyError(msg) from None


#: The largest amount of money the library accepts (in magnitude): 10^18 units of any currency. Far larger
#: amounts only overflow decimal arithmetic later, in a sum or a comparison.
MAX_AMOUNT_DIGITS = 18


def _check_amount(_instance: Money, _attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if not value.is_finite():
        msg = f"money.amount: expected a finite amount, got {value!r}"
        raise PolicyError(msg)
    exponent = value.as_tuple().exponent
    too_fine = isinstance(exponent, int) and exponent < -MAX_AMOUNT_DIGITS
    if value and (value.adjusted() >= MAX_AMOUNT_DIGITS or too_fine):
        msg = (
            f"money.amount: expected an amount below 10^{MAX_AMOUNT_DIGITS} with at most "
            f"{MAX_AMOUNT_DIGITS} decimals, got {value!r}"
        )
        raise PolicyError(msg)


def _check_currency(_instance: Money, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _CURRENCY_RE.match(value):
        msg = f"money.currency: expected a three-letter upper-case currency code, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(order=False)
class Money:
    """An amount of money in one currency.

    Arithmetic and comparison across currencies raise `ValueError`.
    """

    amount: Decimal = attrs.field(converter=_to_decimal, validator=_check_amount)
    currency: str = attrs.field(validator=_check_currency)

    @classmethod
    def parse(cls, text: object) -> Money:
        """Parse ``"500 CNY"`` or ``"12.50 EUR"``.

        >>> Money.parse("500 CNY")
        Money(amount=Decimal('500'), currency='CNY')
        """
        if isinstance(text, Money):
            return text
        match = _MONEY_RE.match(text) if isinstance(text, str) else None
        if match is None:
            msg = f"money: expected '<amount> <currency>' such as '500 CNY', got {text!r}"
            raise PolicyError(msg)
        return cls(Decimal(match.group(1)), match.group(2).upper())

    def _same(self, other: object) -> None:
        if not isinstance(other, Money):
            msg = f"expected Money, got {other!r}"
            raise TypeError(msg)
        if other.currency != self.currency:
            msg = f"cannot combine {self} with {other}: currencies differ"
            raise PolicyError(msg)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _to_money(value: Any) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    result: Money = money(value, "ticket.money_at_stake", TicketError)
    return result


# --------------------------------------------------------------------------
# Reasons and findings


def _to_evidence(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> FrozenMap[str, str]:
    # A named converter so that type checkers see the parameter type (a bare generic class is not bound).
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@attrs.frozen
class Reason:
    """Why a result came out as it did: one structured, auditable record.

    ``code`` names the signal or rule kind (``signal.safety``,
    ``rule.complaint_risk``, ``grant.matched``); ``rule`` names the policy
    entry that fired, when there is one; ``evidence`` holds the facts that
    were read (field names to rendered values).
    """

    code: str
    message: str
    rule: str | None = None
    evidence: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_to_evidence)

    def __str__(self) -> str:
        if self.rule:
            return f"{self.message} [{self.rule}]"
        return self.message


@attrs.frozen
class Finding:
    """A problem (or a remark) that a static check found in a policy."""

    code: str
    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.path}: {self.message} ({self.code})"


class ObligationKind(enum.Enum):
    """What a decision, an escalation or a plan obliges someone to do."""

    REPORT_UPWARD = "report_upward"
    """Report the case (or its progress) to a higher tier."""
    FILE_SUMMARY = "file_summary"
    """File a post-incident summary."""
    CALL_BACK = "call_back"
    """Call the customer back: "we will discuss internally and call you back"."""
    NOTIFY_DEPARTMENT = "notify_department"
    """Tell another department of a work order it must carry out."""
    FOLLOW_UP = "follow_up"
    """Follow up a work order with the department that carries it out."""
    REPORT_TO_CUSTOMER = "report_to_customer"
    """Tell the customer what was done."""
    VERIFY = "verify"
    """Verify a claim or a signal afterwards."""


@attrs.frozen(kw_only=True)
class Obligation:
    """Something someone must do by an absolute time.

    ``to`` names who receives it: a tier, a role, a department, a person or
    ``"customer"``. ``rule`` names the policy entry that created it.
    """

    kind: ObligationKind
    due: datetime
    to: str
    note: str = ""
    rule: str | None = None

    def __str__(self) -> str:
        return f"{self.kind.value} to {self.to} by {self.due.isoformat()}" + (f": {self.note}" if self.note else "")


# --------------------------------------------------------------------------
# Customers and tickets
def _to_tier(value: object) -> CustomerTier:
    if type(value) is CustomerTier:
        return value
    return _convert_enum(CustomerTier, "customer.tier", value)


def _to_channel(value: object) -> Channel:
    if type(value) is Channel:
        return value
    return _convert_enum(Channel, "ticket.channel", value)


def _to_declared(value: object) -> DeclaredUrgency:
    if type(value) is DeclaredUrgency:
        return value
    return _convert_enum(DeclaredUrgency, "ticket.declared_urgency", value)


def _to_status(value: object) -> TicketStatus:
    if type(value) is TicketStatus:
        return value
    return _convert_enum(TicketStatus, "ticket.status", value)


def _check_optional_age(_instance: Customer, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150):
        msg = f"customer.age: expected a whole number from 0 to 150, got {value!r}"
        raise TicketError(msg)


def _optional_str(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{type(instance).__name__.lower()}.{attribute.name}: expected a string, got {value!r}"
        raise TicketError(msg)


@attrs.frozen(kw_only=True)
class Customer:
    """Who the need belongs to.

    ``reach`` is how many people hear this customer's story (the "250 law":
    behind every customer stand about 250 others). ``nationality``,
    ``gender`` and ``age`` are protected: no triage rule may read them.
    """

    id: str = attrs.field(validator=_non_empty_str)
    tier: CustomerTier = attrs.field(default=CustomerTier.STANDARD, converter=_to_tier)
    reach: int = attrs.field(default=250, validator=_non_negative)
    nationality: str | None = attrs.field(default=None, validator=_optional_str)
    gender: str | None = attrs.field(default=None, validator=_optional_str)
    age: int | None = attrs.field(default=None, validator=_check_optional_age)


def _check_pause(instance: Pause, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is None:
        return
    _in_range(instance, attribute, value)
    if attribute.name == "end" and value < instance.start:
        msg = f"pause.end: expected a time at or after start {instance.start.isoformat()}, got {value.isoformat()}"
        raise TicketError(msg)


@attrs.frozen
class Pause:
    """An interval during which the ticket's clock stops (waiting on the customer).

    ``end`` is ``None`` while the pause lasts.
    """

    start: datetime = attrs.field(validator=_check_pause)
    end: datetime | None = attrs.field(default=None, validator=_check_pause)


def _to_flags(value: Iterable[Flag | str] | None) -> frozenset[Flag]:
    if value is None:
        return frozenset()
    if isinstance(value, frozenset) and (not value or all(isinstance(v, Flag) for v in value)):
        return value  # already flags (the default, or a copy): the hot path of bulk loading
    if isinstance(value, str):
        value = [value]
    return frozenset(_convert_enum(Flag, f"ticket.flags[{i}]", v) for i, v in enumerate(value))


def _to_pauses(value: Iterable[Pause]) -> tuple[Pause, ...]:
    if type(value) is tuple:
        return value
    return tuple(value)


def _check_pauses(instance: Ticket, _attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    if not value:
        return
    previous_end: datetime | None = None
    for index, pause in enumerate(value):
        if not isinstance(pause, Pause):
            msg = f"ticket.pauses[{index}]: expected a Pause, got {pause!r}"
            raise TicketError(msg)
        if pause.start < instance.opened_at:
            msg = (
                f"ticket.pauses[{index}].start: expected a time at or after opened_at "
                f"{instance.opened_at.isoformat()}, got {pause.start.isoformat()}"
            )
            raise TicketError(msg)
        if index > 0 and (previous_end is None or pause.start < previous_end):
            msg = (
                f"ticket.pauses[{index}].start: pauses must be in order and not overlap; "
                f"got {pause.start.isoformat()} before the previous pause ended"
            )
            raise TicketError(msg)
        previous_end = pause.end


def _check_level(_instance: Ticket, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        msg = f"ticket.{attribute.name}: expected a level >= 1 on the policy's matrix scale, got {value!r}"
        raise TicketError(msg)


def _check_affected(_instance: Ticket, _attribute: attrs.Attribute[Any], value: int) -> None:
    if type(value) is int and value >= 1:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"ticket.affected_customers: expected a whole number >= 1, got {value!r}"
        raise TicketError(msg)


def _check_customer(_instance: Ticket, _attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not Customer and not isinstance(value, Customer):
        msg = f"ticket.customer: expected a Customer, got {value!r}"
        raise TicketError(msg)


def _check_money(_instance: Ticket, _attribute: attrs.Attribute[Any], value: Money | None) -> None:
    if value is not None and value.amount < 0:
        money(value, "ticket.money_at_stake", TicketError)  # raises, in the words of every money input


@attrs.frozen(kw_only=True)
class Ticket:
    """One customer need, as the caller's CRM or helpdesk records it.

    Only ``id``, ``opened_at`` and ``customer`` are required. ``impact`` and
    ``urgency`` are optional explicit levels on the policy's matrix scale
    (1 is the highest, as ITSM tools record them); when both are present the
    priority comes from the matrix alone. ``attributes`` is a free mapping
    of extra data the caller keeps; triage rules may read it, except the
    protected attributes.
    """

    id: str = attrs.field(validator=_non_empty_str)
    opened_at: datetime = attrs.field(validator=_in_range)
    customer: Customer = attrs.field(validator=_check_customer)
    due: datetime | None = attrs.field(default=None, validator=_in_range)
    channel: Channel = attrs.field(default=Channel.EMAIL, converter=_to_channel)
    category: str = attrs.field(default="general", validator=_non_empty_str)
    subject: str = attrs.field(default="", validator=_str)
    text: str = attrs.field(default="", validator=_str)
    language: str = attrs.field(default="und", validator=_non_empty_str)
    declared_urgency: DeclaredUrgency = attrs.field(
        default=DeclaredUrgency.NORMAL,
        converter=_to_declared,
    )
    impact: int | None = attrs.field(default=None, validator=_check_level)
    urgency: int | None = attrs.field(default=None, validator=_check_level)
    affected_customers: int = attrs.field(default=1, validator=_check_affected)
    money_at_stake: Money | None = attrs.field(default=None, converter=_to_money, validator=_check_money)
    flags: frozenset[Flag] = attrs.field(factory=frozenset, converter=_to_flags)
    repeat_contacts: int = attrs.field(default=0, validator=_non_negative)
    status: TicketStatus = attrs.field(default=TicketStatus.OPEN, converter=_to_status)
    pauses: tuple[Pause, ...] = attrs.field(default=(), converter=_to_pauses, validator=_check_pauses)
    attributes: FrozenMap[str, AttributeValue] = attrs.field(factory=FrozenMap, converter=_to_attributes)

    def paused_between(self, start: datetime, end: datetime) -> timedelta:
        """How long the ticket was paused within ``[start, end)``.

        An open pause runs until *end*.
        """
        total = timedelta(0)
        for pause in self.pauses:
            lo = max(pause.start, start)
            hi = min(pause.end if pause.end is not None else end, end)
            if hi > lo:
                total += hi - lo
        return total

    def is_paused_at(self, when: datetime) -> bool:
        """Whether the ticket's clock is stopped at *when*."""
        return any(p.start <= when and (p.end is None or when < p.end) for p in self.pauses)


# --------------------------------------------------------------------------
# Triage results


@attrs.frozen(order=True)
class Level:
    """A level on an ordinal scale: ``rank`` 0 is the lowest."""

    rank: int
    name: str

    def __str__(self) -> str:
        return self.name


@attrs.frozen(kw_only=True)
class Triage:
    """Where one ticket was placed, and why.

    ``priority`` is on the policy's matrix scale, 1 being the most pressing.
    ``reasons`` lists every signal and rule that moved the placement;
    ``marks`` are follow-up notes (verify afterwards, possibly deceptive...).
    ``signals`` names the built-in signals that fired (``safety``,
    ``regulator``, ``deadline``...), and ``concepts`` the signal concepts
    the detectors found in the ticket (``safety.trapped``,
    ``public_exposure.social``...): playbook triggers and dashboards read
    them. ``policy_hash`` is the content hash of the policy that placed it
    (`servicetriage.digest.content_hash`), and ``policy_version`` its
    version number when the policy came from a store (filled by the caller
    or the store; ``None`` otherwise).
    """

    ticket_id: str
    quadrant: Quadrant
    priority: int
    urgency: Level
    importance: Level
    due: datetime | None
    reasons: tuple[Reason, ...]
    marks: frozenset[Mark] = frozenset()
    signals: frozenset[str] = frozenset()
    concepts: frozenset[str] = frozenset()
    policy_hash: str = ""
    policy_version: int | None = None

    def explain(self) -> str:
        """The placement and its reasons as readable text, one reason a line."""
        head = (
            f"{self.ticket_id}: {self.quadrant.name} priority {self.priority} "
            f"(urgency {self.urgency}, importance {self.importance})"
        )
        lines = [head] + [f"  - {reason}" for reason in self.reasons]
        if self.marks:
            lines.append("  marks: " + ", ".join(sorted(m.value for m in self.marks)))
        return "\n".join(lines)
