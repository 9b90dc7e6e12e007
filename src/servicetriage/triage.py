"""Triage: place every customer need in one of four quadrants, with a priority and a due time.

A `TriagePolicy` says which signals count and how far each one raises
**urgency** (time pressure) or **importance** (impact, from the customer's
side) on two ordinal scales; a need is *urgent* or *important* when its level
reaches the scale's threshold, and the pair picks the quadrant
(`Quadrant.of`). The method's rules
are built in:

- a safety signal forces Q1 and is never downgraded by doubt: a false-alarm
  hint only adds `Mark.VERIFY_AFTERWARDS`;
- complaint-risk signals (public exposure, a regulator, repeat contacts)
  lift a Q3 need to Q1: the customer's side wins;
- configured deceptive patterns mark a Q3 need "verify" without lowering it;
- the gravest combinations (safety and police, by default) go directly to
  the top;
- no rule may read a protected attribute (language, nationality, gender,
  age): such a policy cannot be built.

The policy is compiled once, when it is built (lexicons into one regular
expression, every static reason prepared), so `classify` costs
microseconds and does not grow with the size of the lexicons. Every function
takes ``now`` from the caller.

>>> from datetime import UTC, datetime
>>> from servicetriage.model import Customer, Ticket
>>> now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
>>> sos = Ticket(id="T1", opened_at=now, customer=Customer(id="C1"), text="SOS 司机不让我下车")
>>> classify(sos, DEFAULT_POLICY, now).quadrant
<Quadrant.Q1: 1>
"""

from __future__ import annotations

import enum
import itertools
import operator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage import signals as _signals
from servicetriage.calendar import BusinessCalendar
from servicetriage.errors import PolicyError
from servicetriage.matrix import SERVICENOW, PriorityMatrix, check_matrix, preset
from servicetriage.model import (
    PROTECTED_ATTRIBUTES,
    Channel,
    CustomerTier,
    DeclaredUrgency,
    Finding,
    Flag,
    FrozenMap,
    Level,
    Mark,
    Money,
    Quadrant,
    Reason,
    Severity,
    Ticket,
    TicketStatus,
    Triage,
    require_aware,
)
from servicetriage.signals import LexiconKind, Signal
from servicetriage.signals.detectors import Detection, Detector
from servicetriage.signals.lexicon import ConceptSettings, LexiconDetector, LexiconSettings, concepts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "DEFAULT_POLICY",
    "Condition",
    "CountStep",
    "DeadlineStep",
    "ItsmLevels",
    "Keywords",
    "MoneyStep",
    "Raise",
    "Rule",
    "Scale",
    "Target",
    "TriagePolicy",
    "check_triage_policy",
    "classify",
    "classify_many",
    "rank",
    "rank_key",
    "readable_fields",
]

_ZERO = timedelta(0)


def _reason(code: str, message: str, rule: str | None = None, evidence: Mapping[str, str] | None = None) -> Reason:
    """Build a reason with string evidence (prepared once, when the policy is compiled)."""
    return Reason(code, message, rule, FrozenMap(evidence or {}))


def _as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _optional_tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _fail(path: str, message: str) -> None:
    raise PolicyError(f"{path}: {message}")


def _level_name(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        _fail(f"{type(instance).__name__.lower()}.{attribute.name}", f"expected a level name, got {value!r}")


# --------------------------------------------------------------------------
# Scales


def _check_levels(_instance: Scale, _attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if len(value) < 2:
        _fail("scale.levels", f"expected at least two level names, lowest first, got {list(value)!r}")
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            _fail(f"scale.levels[{index}]", f"expected a non-empty name, got {name!r}")
        if name in value[:index]:
            _fail(f"scale.levels[{index}]", f"the level {name!r} is named twice")


def _check_threshold(instance: Scale, _attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in instance.levels:
        _fail("scale.threshold", f"expected one of the levels ({', '.join(instance.levels)}), got {value!r}")


@attrs.frozen(kw_only=True)
class Scale:
    """An ordinal scale of levels, lowest first, and the level from which a need counts.

    For the urgency scale, a need at or above ``threshold`` is *urgent*; for
    the importance scale, *important*.

    >>> Scale().rank("high")
    2
    """

    levels: tuple[str, ...] = attrs.field(
        default=("low", "medium", "high", "critical"), converter=_as_tuple, validator=_check_levels
    )
    threshold: str = attrs.field(default="high", validator=_check_threshold)

    def rank(self, name: str) -> int:
        """Return the rank of the level *name* (0 is the lowest); `PolicyError` if unknown."""
        try:
            return self.levels.index(name)
        except ValueError:
            msg = f"expected one of the levels ({', '.join(self.levels)}), got {name!r}"
            raise PolicyError(msg) from None

    @property
    def top(self) -> str:
        """The highest level."""
        return self.levels[-1]


# --------------------------------------------------------------------------
# Signal settings


def _positive_duration(_instance: DeadlineStep, _attribute: attrs.Attribute[Any], value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= _ZERO:
        _fail("deadlinestep.within", f"expected a positive duration, got {_shown(value)!r}")


@attrs.frozen(kw_only=True)
class DeadlineStep:
    """When at most ``within`` of clock time remains before the due time, urgency is at least ``level``."""

    within: timedelta = attrs.field(validator=_positive_duration)
    level: str = attrs.field(validator=_level_name)


def _non_negative_count(_instance: CountStep, _attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail("countstep.at_least", f"expected a whole number >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class CountStep:
    """When a count (reach, affected, repeat contacts) is ``at_least`` this, the level is at least ``level``."""

    at_least: int = attrs.field(validator=_non_negative_count)
    level: str = attrs.field(validator=_level_name)


def _money_step_amount(_instance: MoneyStep, _attribute: attrs.Attribute[Any], value: Money) -> None:
    if not isinstance(value, Money) or value.amount < 0:
        _fail("moneystep.at_least", f"expected an amount >= 0 such as '10000 CNY', got {value!r}")


def _to_step_money(value: Money | str) -> Money:
    if isinstance(value, str):
        try:
            return Money.parse(value)
        except PolicyError as exc:
            raise PolicyError(f"moneystep.at_least: {exc}") from None
    return value


@attrs.frozen(kw_only=True)
class MoneyStep:
    """When the money at stake, in the same currency, is ``at_least`` this, importance is at least ``level``.

    Amounts in another currency never match: give steps for each currency
    you serve.
    """

    at_least: Money = attrs.field(converter=_to_step_money, validator=_money_step_amount)
    level: str = attrs.field(validator=_level_name)


@attrs.frozen(kw_only=True)
class Raise:
    """The levels a signal raises urgency and importance to (``None`` leaves a scale alone)."""

    urgency: str | None = attrs.field(default=None, validator=_level_name)
    importance: str | None = attrs.field(default=None, validator=_level_name)


def _terms(_instance: Keywords, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for index, term in enumerate(value):
        if not isinstance(term, str) or not term.strip():
            _fail(f"keywords.{attribute.name}[{index}]", f"expected a non-empty term, got {term!r}")


def _term_field() -> Any:
    return attrs.field(default=(), converter=_as_tuple, validator=_terms)


@attrs.frozen(kw_only=True)
class Keywords:
    """Extra terms for the main concepts, in every language (the short form of `LexiconSettings`).

    Each list adds its terms to one concept (see `Keywords.concept_terms`),
    matched as lexicon terms are. With ``use_defaults = false`` the shipped
    lexicons are not used at all. Terms are looked for in the subject and the
    text of every ticket, whatever its language.
    """

    use_defaults: bool = True
    safety: tuple[str, ...] = _term_field()
    police: tuple[str, ...] = _term_field()
    regulator: tuple[str, ...] = _term_field()
    public: tuple[str, ...] = _term_field()
    doubt: tuple[str, ...] = _term_field()
    deceptive: tuple[str, ...] = _term_field()

    def concept_terms(self) -> dict[str, tuple[str, ...]]:
        """Return the extra terms by the concept they are added to (in every language).

        ``safety`` terms go to ``safety.sos``, ``police`` to ``police``,
        ``regulator`` to ``regulator.generic``, ``public`` to
        ``public_exposure.social``, ``doubt`` to ``doubt`` and ``deceptive``
        to ``deception``.
        """
        found = {concept: getattr(self, kind.value) for kind, concept in _KEYWORD_CONCEPTS.items()}
        return {concept: terms for concept, terms in found.items() if terms}


#: The concept each `Keywords` list adds its terms to.
_KEYWORD_CONCEPTS: dict[LexiconKind, str] = {
    LexiconKind.SAFETY: "safety.sos",
    LexiconKind.POLICE: "police",
    LexiconKind.REGULATOR: "regulator.generic",
    LexiconKind.PUBLIC: "public_exposure.social",
    LexiconKind.DOUBT: "doubt",
    LexiconKind.DECEPTIVE: "deception",
}


def _lexicon_settings(policy: TriagePolicy) -> LexiconSettings:
    """The policy's lexicon settings with its `Keywords` folded in (they predate concepts and still work)."""
    settings = policy.lexicon
    extra = policy.keywords.concept_terms()
    if not extra and policy.keywords.use_defaults:
        return settings
    merged = dict(settings.concepts)
    for concept, terms in extra.items():
        current = merged.get(concept, ConceptSettings())
        add = dict(current.add)
        add["any"] = tuple(add.get("any", ())) + tuple(terms)
        merged[concept] = attrs.evolve(current, add=add)
    return attrs.evolve(
        settings, use_defaults=settings.use_defaults and policy.keywords.use_defaults, concepts=merged
    )


# --------------------------------------------------------------------------
# Custom rules

_TICKET_FIELDS: dict[str, str] = {
    "id": "text",
    "category": "text",
    "channel": "text",
    "subject": "text",
    "text": "text",
    "declared_urgency": "text",
    "status": "text",
    "flags": "set",
    "affected_customers": "number",
    "repeat_contacts": "number",
    "impact": "number",
    "urgency": "number",
    "money_at_stake.amount": "number",
    "money_at_stake.currency": "text",
    "customer.id": "text",
    "customer.tier": "text",
    "customer.reach": "number",
}


def readable_fields() -> tuple[str, ...]:
    """Return the ticket fields a rule condition may read, besides ``attributes.<name>``.

    Protected attributes (``language``, ``customer.nationality``,
    ``customer.gender``, ``customer.age`` and attributes named like them) are
    not readable.
    """
    return tuple(_TICKET_FIELDS)


def _protected_name(field: str, protected: Iterable[str]) -> str | None:
    """Return the protected attribute that *field* reads, if any."""
    last = field.rsplit(".", 1)[-1].strip().lower()
    for name in protected:
        if last == name.lower():
            return name
    return None


def _check_operators(instance: Condition, _attribute: attrs.Attribute[Any], _value: Any) -> None:
    given = [n for n in ("equals", "one_of", "contains", "at_least") if getattr(instance, n) is not None]
    if len(given) != 1:
        _fail("condition", f"expected exactly one of equals, one_of, contains, at_least; got {given or 'none'}")


def _field_name(_instance: Condition, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail("condition.field", f"expected a field name such as 'category' or 'attributes.plan', got {value!r}")


@attrs.frozen(kw_only=True)
class Condition:
    """A test on one ticket field; give exactly one operator.

    ``field`` is a name from `readable_fields` or ``attributes.<name>``.
    Values are compared as text: enums by their value (``"social_media"``),
    booleans as ``"true"``/``"false"``, numbers as written. ``contains``
    is a case-insensitive substring test (on ``flags``: membership);
    ``at_least`` compares numbers. A condition on a missing attribute is
    false.
    """

    field: str = attrs.field(validator=_field_name)
    equals: str | None = None
    one_of: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_tuple)
    contains: str | None = None
    at_least: float | None = attrs.field(default=None, validator=_check_operators)


def _check_rule_name(_instance: Rule, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail("rule.name", f"expected a non-empty name, got {value!r}")


def _check_when(_instance: Rule, _attribute: attrs.Attribute[Any], value: tuple[Condition, ...]) -> None:
    if not value:
        _fail("rule.when", "expected at least one condition")


def _to_marks(value: Iterable[Mark | str]) -> frozenset[Mark]:
    return frozenset(v if isinstance(v, Mark) else Mark(v) for v in value)


@attrs.frozen(kw_only=True)
class Rule:
    """A custom rule: when every condition holds, raise the levels and add the marks.

    A rule only ever raises: it cannot lower what a signal found.
    """

    name: str = attrs.field(validator=_check_rule_name)
    when: tuple[Condition, ...] = attrs.field(converter=_as_tuple, validator=_check_when)
    urgency: str | None = attrs.field(default=None, validator=_level_name)
    importance: str | None = attrs.field(default=None, validator=_level_name)
    marks: frozenset[Mark] = attrs.field(default=frozenset(), converter=_to_marks)


def _positive_priority(_instance: Target, _attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail("target.priority", f"expected a priority >= 1, got {value!r}")


def _target_within(_instance: Target, _attribute: attrs.Attribute[Any], value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= _ZERO:
        _fail("target.within", f"expected a positive duration, got {_shown(value)!r}")


@attrs.frozen(kw_only=True)
class Target:
    """The resolution target for one priority: a ticket without its own due time is due ``within`` this."""

    priority: int = attrs.field(validator=_positive_priority)
    within: timedelta = attrs.field(validator=_target_within)


# --------------------------------------------------------------------------
# The policy

_DEFAULT_SIGNALS: tuple[str, ...] = tuple(s.value for s in Signal)


def _optional_levels(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class ItsmLevels:
    """How the impact and urgency a helpdesk recorded on a ticket raise its importance and urgency.

    ``impact[k - 1]`` is the importance level that recorded impact ``k``
    raises a need to (level 1 is the highest, as on the matrix); ``urgency``
    likewise for the urgency scale. A level past the end of the list, or
    ``""`` in it, raises nothing. ``None`` (the default) derives the lists
    from the scales and the matrix: the top level raises to the scale's top,
    the second to its threshold and, on a matrix of four levels or more, the
    third to the level just below the threshold. So a ServiceNow P1 incident
    (impact 1, urgency 1) lands in Q1, and a recorded level can only raise a
    placement, never lower what the ticket's own signals found.
    """

    impact: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_levels)
    urgency: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_levels)


def _tuple_of_tuples(value: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(v) for v in value)


def _frozen_str_map(value: Mapping[str, str]) -> FrozenMap[str, str]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _to_matrix(value: PriorityMatrix | str) -> PriorityMatrix:
    if isinstance(value, str):
        try:
            return preset(value)
        except PolicyError as exc:
            raise PolicyError(f"triage.matrix: {exc}") from None
    return value


@attrs.frozen(kw_only=True)
class TriagePolicy:
    """How needs are placed: scales, signals, custom rules, the priority matrix and due targets.

    Build it in Python or load it from the ``[triage]`` table of a policy
    file (``config.load_section(path, "triage", TriagePolicy)``). Building
    validates everything and compiles the policy for fast use; an invalid
    policy raises `PolicyError` naming the field
    path and the value. A rule that reads a protected attribute is rejected;
    with ``strict = false`` it is kept but never applied, and
    `check_triage_policy` reports it (as it reports unknown signal
    names, which ``strict`` also rejects).

    Every key, its type and its default are listed on the policy-file
    reference page of the documentation.
    """

    name: str = "default"
    urgency: Scale = attrs.field(factory=Scale)
    importance: Scale = attrs.field(factory=Scale)
    signals: tuple[str, ...] = attrs.field(default=_DEFAULT_SIGNALS, converter=_as_tuple)
    keywords: Keywords = attrs.field(factory=Keywords)
    lexicon: LexiconSettings = attrs.field(factory=LexiconSettings)
    detectors: tuple[Detector, ...] = attrs.field(default=(), converter=_as_tuple)
    deadline: tuple[DeadlineStep, ...] = attrs.field(
        default=(
            DeadlineStep(within=timedelta(hours=1), level="critical"),
            DeadlineStep(within=timedelta(hours=4), level="high"),
            DeadlineStep(within=timedelta(days=1), level="medium"),
        ),
        converter=_as_tuple,
    )
    overdue: str = attrs.field(default="critical", validator=_level_name)
    declared_urgency: FrozenMap[str, str] = attrs.field(
        default=FrozenMap({"low": "low", "normal": "low", "high": "high", "critical": "critical"}),
        converter=_frozen_str_map,
    )
    police: Raise = Raise(urgency="critical", importance="critical")
    regulator: Raise = Raise(urgency="high", importance="critical")
    public_exposure: Raise = Raise(urgency="high", importance="high")
    discrimination: Raise = Raise(urgency="high", importance="critical")
    anger: Raise = Raise(urgency="high")
    itsm: ItsmLevels = attrs.field(factory=ItsmLevels)
    reach: tuple[CountStep, ...] = attrs.field(
        default=(
            CountStep(at_least=1_000, level="medium"),
            CountStep(at_least=10_000, level="high"),
            CountStep(at_least=100_000, level="critical"),
        ),
        converter=_as_tuple,
    )
    vip: FrozenMap[str, str] = attrs.field(
        default=FrozenMap({"vip_business": "high", "vip_private": "high"}), converter=_frozen_str_map
    )
    money: tuple[MoneyStep, ...] = attrs.field(
        default=(
            MoneyStep(at_least=Money.parse("1000 CNY"), level="medium"),
            MoneyStep(at_least=Money.parse("10000 CNY"), level="high"),
            MoneyStep(at_least=Money.parse("100000 CNY"), level="critical"),
            MoneyStep(at_least=Money.parse("150 EUR"), level="medium"),
            MoneyStep(at_least=Money.parse("1500 EUR"), level="high"),
            MoneyStep(at_least=Money.parse("15000 EUR"), level="critical"),
            MoneyStep(at_least=Money.parse("150 USD"), level="medium"),
            MoneyStep(at_least=Money.parse("1500 USD"), level="high"),
            MoneyStep(at_least=Money.parse("15000 USD"), level="critical"),
        ),
        converter=_as_tuple,
    )
    affected: tuple[CountStep, ...] = attrs.field(
        default=(
            CountStep(at_least=10, level="medium"),
            CountStep(at_least=100, level="high"),
            CountStep(at_least=1_000, level="critical"),
        ),
        converter=_as_tuple,
    )
    repeat_contacts: tuple[CountStep, ...] = attrs.field(
        default=(CountStep(at_least=1, level="medium"), CountStep(at_least=3, level="high")), converter=_as_tuple
    )
    complaint_risk_from: int = 2
    doubt_attribute: str | None = "doubtful"
    direct_to_top: tuple[tuple[str, ...], ...] = attrs.field(
        default=(("safety", "police"),), converter=_tuple_of_tuples
    )
    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_as_tuple)
    matrix: PriorityMatrix = attrs.field(default=SERVICENOW, converter=_to_matrix)
    targets: tuple[Target, ...] = attrs.field(
        default=(
            Target(priority=1, within=timedelta(hours=1)),
            Target(priority=2, within=timedelta(hours=8)),
            Target(priority=3, within=timedelta(hours=24)),
            Target(priority=4, within=timedelta(hours=48)),
            Target(priority=5, within=timedelta(days=5)),
        ),
        converter=_as_tuple,
    )
    calendar: BusinessCalendar | None = None
    protected_attributes: tuple[str, ...] = attrs.field(default=PROTECTED_ATTRIBUTES, converter=_as_tuple)
    strict: bool = True
    _engine: _Engine = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        try:
            engine = _Engine(self)
        except PolicyError as exc:
            # "triage." names the table, as nested values name theirs ("scale.threshold: ..."),
            # so that a loader grafts the rest onto the path of the file.
            raise PolicyError(f"triage.{exc}") from None
        object.__setattr__(self, "_engine", engine)

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled engine holds closures: pickle the fields and compile again on loading.
        return (
            _rebuild_policy,
            (tuple((f.name, getattr(self, f.name)) for f in attrs.fields(TriagePolicy) if f.init),),
        )

    def classify(self, ticket: Ticket, now: datetime) -> Triage:
        """Place *ticket* at *now*: the same as ``classify(ticket, self, now)``."""
        return self._engine.classify(ticket, now)


def _rebuild_policy(fields: tuple[tuple[str, Any], ...]) -> TriagePolicy:
    return TriagePolicy(**dict(fields))


# --------------------------------------------------------------------------
# Compilation


def _rank_of(scale: Scale, name: str | None, path: str, which: str) -> int | None:
    if name is None:
        return None
    if name not in scale.levels:
        _fail(path, f"expected a level of the {which} scale ({', '.join(scale.levels)}), got {name!r}")
    return scale.levels.index(name)


def _shown(value: object) -> object:
    """A duration as written in files ("-4h"); anything else as it is."""
    if isinstance(value, timedelta):
        return ("-" + _fmt(-value)) if value < _ZERO else _fmt(value)
    return value


def _fmt(value: timedelta) -> str:
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _text_of(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MISSING = object()


def _reader(field: str) -> Any:
    """Return a function that reads *field* from a ticket (``_MISSING`` when absent)."""
    if field.startswith("attributes."):
        key = field.removeprefix("attributes.")
        return lambda t: t.attributes.get(key, _MISSING)
    if field == "money_at_stake.amount":
        return lambda t: t.money_at_stake.amount if t.money_at_stake is not None else _MISSING
    if field == "money_at_stake.currency":
        return lambda t: t.money_at_stake.currency if t.money_at_stake is not None else _MISSING
    if field.startswith("customer."):
        name = field.removeprefix("customer.")
        return lambda t: getattr(t.customer, name)
    return lambda t: getattr(t, field)


@attrs.frozen
class _Test:
    """One compiled condition (picklable: no closures are kept)."""

    field: str
    op: str
    operand: Any

    def __call__(self, ticket: Ticket) -> bool:
        value = _reader(self.field)(ticket)
        if value is _MISSING or value is None:
            return False
        if self.op == "equals":
            return bool(_text_of(value) == self.operand)
        if self.op == "one_of":
            return _text_of(value) in self.operand
        if self.op == "contains":
            if isinstance(value, frozenset):
                return any(_text_of(v) == self.operand for v in value)
            return bool(self.operand in _text_of(value).lower())
        try:
            return bool(float(value) >= self.operand)
        except (TypeError, ValueError):
            return False

    def bind(self) -> Callable[[Ticket], bool]:
        """Return a function that answers as calling the test does, its reader and operation chosen once."""
        field, op, operand = self.field, self.op, self.operand
        read = (
            _reader(field)
            if field.startswith(("attributes.", "money_at_stake."))
            else operator.attrgetter(field)  # a plain or customer field: the same getattr, without a lambda
        )
        text = _text_of
        missing = _MISSING

        if op == "equals":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if type(value) is str:  # _text_of of a plain string is the string itself
                    return bool(value == operand)
                return value is not missing and value is not None and text(value) == operand

        elif op == "one_of":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if type(value) is str:  # _text_of of a plain string is the string itself
                    return value in operand
                return value is not missing and value is not None and text(value) in operand

        elif op == "contains":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if value is missing or value is None:
                    return False
                if isinstance(value, frozenset):
                    return any(text(v) == operand for v in value)
                return bool(operand in text(value).lower())

        else:

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if value is missing or value is None:
                    return False
                try:
                    return bool(float(value) >= operand)
                except (TypeError, ValueError):
                    return False

        return test


def _compile_condition(condition: Condition, path: str, policy: TriagePolicy) -> _Test | None:
    """Return the compiled test, or ``None`` for a disabled (non-strict) protected read."""
    field = condition.field.strip()
    protected = _protected_name(field, policy.protected_attributes)
    if protected is not None:
        if policy.strict:
            _fail(
                f"{path}.field",
                f"reads the protected attribute {protected!r} ({field}); triage rules may not read "
                f"protected attributes ({', '.join(policy.protected_attributes)})",
            )
        return None
    if not (field in _TICKET_FIELDS or (field.startswith("attributes.") and len(field) > len("attributes."))):
        _fail(f"{path}.field", f"expected one of {', '.join(_TICKET_FIELDS)} or attributes.<name>, got {field!r}")
    if condition.equals is not None:
        return _Test(field, "equals", str(condition.equals))
    if condition.one_of is not None:
        return _Test(field, "one_of", frozenset(str(v) for v in condition.one_of))
    if condition.contains is not None:
        operand = condition.contains if field == "flags" else condition.contains.lower()
        return _Test(field, "contains", operand)
    return _Test(field, "at_least", float(condition.at_least))  # type: ignore[arg-type]


@attrs.frozen
class _CompiledRule:
    tests: tuple[_Test, ...]
    urgency: int
    importance: int
    marks: frozenset[Mark]
    reason: Reason


def _steps(
    steps: tuple[Any, ...], scale: Scale, path: str, which: str, code: str, *, noun: str
) -> tuple[tuple[Any, int, Reason], ...]:
    """Return steps as (bound, rank, reason), in the given order, checking the level names."""
    result = []
    for index, step in enumerate(steps):
        rank = _rank_of(scale, step.level, f"{path}[{index}].level", which)
        assert rank is not None
        bound = step.within if isinstance(step, DeadlineStep) else step.at_least
        shown = _fmt(bound) if isinstance(bound, timedelta) else str(bound)
        if isinstance(step, DeadlineStep):
            message = f"due within {shown}: {which} {step.level}"
            evidence = {"within": shown, "level": step.level}
        else:
            message = f"{noun} at least {shown}: {which} {step.level}"
            evidence = {"at_least": shown, "level": step.level}
        result.append((bound, rank, _reason(code, message, f"{path}[{index}]", FrozenMap(evidence))))
    return tuple(result)


def _count_table(steps: tuple[tuple[Any, int, Reason], ...]) -> tuple[tuple[Any, int, Reason], ...]:
    """Order count steps for a first-match scan from the largest bound down.

    Each step's level becomes the highest level of any step with a bound at
    most its own (with that step's reason), so a larger count never gives a
    lower level, whatever order the policy lists its steps in.
    """
    ordered = sorted(steps, key=lambda step: step[0])
    table: list[tuple[Any, int, Reason]] = []
    best: tuple[int, Reason] | None = None
    for bound, rank, reason in ordered:
        if best is None or rank > best[0]:
            best = (rank, reason)
        table.append((bound, best[0], best[1]))
    return tuple(reversed(table))


class _Engine:
    """A policy compiled for fast classification. Immutable after construction."""

    def __init__(self, policy: TriagePolicy) -> None:
        self.policy = policy
        us, im = policy.urgency, policy.importance
        self.u_levels = tuple(Level(i, n) for i, n in enumerate(us.levels))
        self.i_levels = tuple(Level(i, n) for i, n in enumerate(im.levels))
        self.u_top, self.i_top = len(us.levels) - 1, len(im.levels) - 1
        self.u_threshold, self.i_threshold = us.rank(us.threshold), im.rank(im.threshold)

        known = {s.value for s in Signal}
        enabled: set[str] = set()
        for index, name in enumerate(policy.signals):
            if name in known:
                enabled.add(name)
            elif policy.strict:
                _fail(f"signals[{index}]", f"unknown signal {name!r}; expected one of {', '.join(sorted(known))}")
        self.enabled = frozenset(enabled)
        on = self.enabled.__contains__

        lexicon = _lexicon_settings(policy)
        try:
            self.lexicon: LexiconDetector | None = LexiconDetector(lexicon) if lexicon.enabled else None
        except PolicyError as exc:
            message = str(exc)
            raise PolicyError(message if message.startswith("lexicon.") else f"lexicon: {message}") from None
        for index, candidate in enumerate(policy.detectors):
            detector: object = candidate  # typed as a Detector, but a policy is built at run time
            if not isinstance(detector, Detector):
                _fail(f"detectors[{index}]", f"expected a detector (a name and a detect method), got {detector!r}")
        self.detectors = policy.detectors
        self.concept_signal = {c.id: c.signal for c in concepts().values()}

        # Deadline
        self.deadline = _steps(policy.deadline, us, "deadline", "urgency", "signal.deadline", noun="")
        self.deadline_on = on(Signal.DEADLINE)
        overdue_rank = _rank_of(us, policy.overdue, "overdue", "urgency")
        assert overdue_rank is not None
        for index, (_, step_rank, _) in enumerate(self.deadline):
            if step_rank > overdue_rank:
                # A deadline that comes closer raises urgency: once past due, a need
                # may not fall below the level it had just before.
                _fail(
                    "overdue",
                    f"expected a level at least as urgent as every deadline step, got {policy.overdue!r} "
                    f"below deadline[{index}].level {us.levels[step_rank]!r}",
                )
        self.overdue_rank = overdue_rank
        self.overdue_reason = _reason(
            "signal.deadline", f"overdue: urgency {policy.overdue}", "overdue", FrozenMap({"level": policy.overdue})
        )

        # Declared urgency
        self.declared: dict[DeclaredUrgency, tuple[int, Reason]] = {}
        for key, level in policy.declared_urgency.items():
            try:
                declared = DeclaredUrgency(key)
            except ValueError:
                choices = ", ".join(d.value for d in DeclaredUrgency)
                _fail(f"declared_urgency.{key}", f"expected a declared urgency ({choices}), got {key!r}")
            rank = _rank_of(us, level, f"declared_urgency.{key}", "urgency")
            assert rank is not None
            if rank > 0 and on(Signal.DECLARED_URGENCY):
                reason = _reason(
                    "signal.declared_urgency",
                    f"the customer says the need is {key}: urgency {level}",
                    f"declared_urgency.{key}",
                    FrozenMap({"declared_urgency": key, "level": level}),
                )
                self.declared[declared] = (rank, reason)

        # Safety, police, regulator, public exposure
        self.safety_on = on(Signal.SAFETY)
        self.safety_flag_reason = _reason(
            "signal.safety", "safety flag: handled as real, at once", "signals.safety", FrozenMap({"flag": "safety"})
        )
        self.raises: dict[str, tuple[int, int, Reason, Reason]] = {}
        for signal, setting, flag_word in (
            (Signal.POLICE, policy.police, "police"),
            (Signal.REGULATOR, policy.regulator, "regulator"),
            (Signal.PUBLIC_EXPOSURE, policy.public_exposure, "public_exposure"),
            (Signal.DISCRIMINATION, policy.discrimination, "discrimination"),
            (Signal.ANGER, policy.anger, "anger"),
        ):
            path = signal.value
            u = _rank_of(us, setting.urgency, f"{path}.urgency", "urgency")
            i = _rank_of(im, setting.importance, f"{path}.importance", "importance")
            levels = ", ".join(
                part
                for part in (
                    f"urgency {setting.urgency}" if setting.urgency else "",
                    f"importance {setting.importance}" if setting.importance else "",
                )
                if part
            )
            via_name = "regulator" if signal is Signal.REGULATOR else "social_media"
            flag_reason = _reason(f"signal.{path}", f"{flag_word} flag: {levels}", path, {"flag": flag_word})
            channel_reason = _reason(
                f"signal.{path}",
                f"reached us through the {via_name} channel: {levels}",
                path,
                FrozenMap({"channel": "regulator" if signal is Signal.REGULATOR else "social_media"}),
            )
            self.raises[path] = (u if u is not None else -1, i if i is not None else -1, flag_reason, channel_reason)
        self.raise_list = tuple(
            (name, flag, kind, via, *self.raises[name])
            for name, flag, kind, via in (
                ("police", Flag.POLICE, "police", None),
                ("regulator", Flag.REGULATOR, "regulator", Channel.REGULATOR),
                ("public_exposure", Flag.PUBLIC_EXPOSURE, "public_exposure", Channel.SOCIAL_MEDIA),
                ("discrimination", None, "discrimination", None),
                ("anger", None, "anger", None),
            )
            if name in self.enabled
        )
        self.doubt_attribute = policy.doubt_attribute
        if policy.doubt_attribute is not None:
            protected = _protected_name(policy.doubt_attribute, policy.protected_attributes)
            if protected is not None:
                _fail("doubt_attribute", f"names the protected attribute {protected!r}")
        self.doubt_attr_reason = _reason(
            "signal.doubt",
            "marked doubtful: still handled as real; verify afterwards",
            "doubt_attribute",
            FrozenMap({"attribute": str(policy.doubt_attribute)}),
        )

        # Reach, VIP, money, affected, repeat contacts
        self.reach = _count_table(_steps(policy.reach, im, "reach", "importance", "signal.reach", noun="reach"))
        self.reach_on = on(Signal.REACH)
        self.vip: dict[CustomerTier, tuple[int, Reason]] = {}
        for key, level in policy.vip.items():
            try:
                tier = CustomerTier(key)
            except ValueError:
                choices = ", ".join(t.value for t in CustomerTier)
                _fail(f"vip.{key}", f"expected a customer tier ({choices}), got {key!r}")
            rank = _rank_of(im, level, f"vip.{key}", "importance")
            assert rank is not None
            if rank > 0 and on(Signal.VIP):
                self.vip[tier] = (
                    rank,
                    _reason(
                        "signal.vip",
                        f"{key} customer: importance {level}",
                        f"vip.{key}",
                        FrozenMap({"tier": key, "level": level}),
                    ),
                )
        money_steps = _steps(policy.money, im, "money", "importance", "signal.money", noun="money at stake")
        by_currency: dict[str, list[tuple[Any, int, Reason]]] = {}
        for bound, rank, reason in money_steps:
            by_currency.setdefault(bound.currency, []).append((bound.amount, rank, reason))
        self.money = {cur: _count_table(tuple(items)) for cur, items in by_currency.items()}
        self.money_on = on(Signal.MONEY)
        self.affected = _count_table(
            _steps(policy.affected, im, "affected", "importance", "signal.affected", noun="customers affected")
        )
        self.affected_on = on(Signal.AFFECTED)
        self.repeat = _count_table(
            _steps(
                policy.repeat_contacts,
                us,
                "repeat_contacts",
                "urgency",
                "signal.repeat_contacts",
                noun="repeat contacts",
            )
        )
        self.repeat_on = on(Signal.REPEAT_CONTACTS)
        if (
            isinstance(policy.complaint_risk_from, bool)
            or not isinstance(policy.complaint_risk_from, int)
            or policy.complaint_risk_from < 1
        ):
            _fail("complaint_risk_from", f"expected a whole number >= 1, got {policy.complaint_risk_from!r}")
        self.complaint_from = policy.complaint_risk_from
        self.repeat_risk_reason = _reason(
            "signal.repeat_contacts",
            f"came back at least {policy.complaint_risk_from} times: complaint risk",
            "complaint_risk_from",
            FrozenMap({"at_least": str(policy.complaint_risk_from)}),
        )
        self.lift_reason = _reason(
            "rule.complaint_risk",
            f"urgent need with complaint risk: the customer's side wins, importance {policy.importance.threshold}",
            "complaint_risk",
        )

        # Direct to top
        combos = []
        for index, combo in enumerate(policy.direct_to_top):
            if not combo:
                _fail(f"direct_to_top[{index}]", "expected at least one signal name")
            for j, name in enumerate(combo):
                if name not in known and policy.strict:
                    _fail(f"direct_to_top[{index}][{j}]", f"unknown signal {name!r}")
            combos.append(frozenset(combo))
        self.direct = tuple(combos)
        self.direct_reason = _reason(
            "rule.direct_to_top", "gravest case: may go straight to top management", "direct_to_top"
        )

        # Custom rules
        rules = []
        for index, rule in enumerate(policy.rules):
            path = f"rules[{index}]"
            tests = [_compile_condition(c, f"{path}.when[{j}]", policy) for j, c in enumerate(rule.when)]
            u = _rank_of(us, rule.urgency, f"{path}.urgency", "urgency")
            i = _rank_of(im, rule.importance, f"{path}.importance", "importance")
            if any(t is None for t in tests):
                continue  # non-strict: a rule reading a protected attribute is kept but never applied
            parts = [
                f"urgency {rule.urgency}" if rule.urgency else "",
                f"importance {rule.importance}" if rule.importance else "",
            ]
            parts += [f"mark {m.value}" for m in sorted(rule.marks, key=lambda m: m.value)]
            message = f"rule {rule.name!r}: " + (", ".join(p for p in parts if p) or "matched")
            evidence = {c.field: _condition_text(c) for c in rule.when}
            rules.append(
                _CompiledRule(
                    tuple(t for t in tests if t is not None),
                    u if u is not None else -1,
                    i if i is not None else -1,
                    rule.marks,
                    _reason("rule.custom", message, f"rules[{index}]", FrozenMap(evidence)),
                )
            )
        self.rules = tuple(rules)

        # Priority matrix and targets
        matrix = policy.matrix
        self.matrix = matrix
        n_imp, n_urg = matrix.impacts, matrix.urgencies
        self.impact_of_rank = tuple(1 + ((self.i_top - r) * n_imp) // (self.i_top + 1) for r in range(self.i_top + 1))
        self.urgency_of_rank = tuple(1 + ((self.u_top - r) * n_urg) // (self.u_top + 1) for r in range(self.u_top + 1))
        self.mapped: dict[tuple[int, int], tuple[int, Reason]] = {}
        for ur in range(self.u_top + 1):
            for ir in range(self.i_top + 1):
                imp, urg = self.impact_of_rank[ir], self.urgency_of_rank[ur]
                prio = matrix.priority(imp, urg)
                self.mapped[(ur, ir)] = (
                    prio,
                    _reason(
                        "priority.matrix",
                        f"priority {prio}: importance {im.levels[ir]} -> impact {imp}, "
                        f"urgency {us.levels[ur]} -> urgency {urg}",
                        "matrix",
                        FrozenMap({"impact": str(imp), "urgency": str(urg), "priority": str(prio)}),
                    ),
                )
        self.explicit: dict[tuple[int, int], tuple[int, Reason]] = {}
        for imp in range(1, n_imp + 1):
            for urg in range(1, n_urg + 1):
                prio = matrix.priority(imp, urg)
                self.explicit[(imp, urg)] = (
                    prio,
                    _reason(
                        "priority.explicit",
                        f"priority {prio} from the matrix alone: the ticket records impact {imp}, urgency {urg}",
                        "matrix",
                        FrozenMap({"impact": str(imp), "urgency": str(urg), "priority": str(prio)}),
                    ),
                )
        self.n_imp, self.n_urg = n_imp, n_urg
        targets: dict[int, timedelta] = {}
        for index, target in enumerate(policy.targets):
            if target.priority in targets:
                _fail(f"targets[{index}].priority", f"priority {target.priority} has two targets")
            targets[target.priority] = target.within
        self.targets = targets
        self.itsm_impact = self._itsm(policy.itsm.impact, im, n_imp, "impact", "importance")
        self.itsm_urgency = self._itsm(policy.itsm.urgency, us, n_urg, "urgency", "urgency")
        self.calendar = policy.calendar
        # Deadline cutoffs per instant of "now" (see deadline_cutoffs): the last one used, and a
        # small table; both are replaced whole, never changed in place, so threads may share them.
        self.cutoffs_recent: tuple[datetime | None, _Cutoffs | None] = (None, None)
        self.cutoffs_table: dict[datetime, _Cutoffs | None] = {}
        self._prepare_fast_paths()
        self.classify: Callable[[Ticket, datetime], Triage] = _build_classifier(self)

    def _itsm(
        self, names: tuple[str, ...] | None, scale: Scale, count: int, field: str, which: str
    ) -> dict[int, tuple[int, Reason]]:
        """Recorded level (1 = highest) -> (rank it raises the scale to, reason); empty when the signal is off."""
        if names is None:
            threshold = scale.rank(scale.threshold)
            ranks = [len(scale.levels) - 1, threshold]
            if count >= 4 and threshold > 0:
                ranks.append(threshold - 1)
            names = tuple(scale.levels[r] for r in ranks)
        table: dict[int, tuple[int, Reason]] = {}
        above: tuple[int, str] | None = None  # the rank the next higher recorded level raises to, and its name
        for index, name in enumerate(names):
            rank = _rank_of(scale, name, f"itsm.{field}[{index}]", which) if name else -1
            assert rank is not None
            if above is not None and rank > above[0]:
                _fail(
                    f"itsm.{field}[{index}]",
                    f"recorded {field} {index + 1} would raise {which} to {name!r}, above what the higher "
                    f"{field} {index} raises it to ({above[1] or 'nothing'!r}): a higher recorded level must "
                    "never raise less",
                )
            above = (rank, name)
            if not name:
                continue
            if rank > 0 and Signal.ITSM in self.enabled:
                table[index + 1] = (
                    rank,
                    _reason(
                        "signal.itsm",
                        f"recorded {field} {index + 1}: {which} {name}",
                        f"itsm.{field}",
                        FrozenMap({field: str(index + 1), "level": name}),
                    ),
                )
        return table

    def deadline_cutoffs(self, now: datetime) -> _Cutoffs | None:
        """Return the deadline steps at *now* as instants to compare due times with, or ``None``.

        With a business calendar, ``elapsed(now, due) <= d`` holds exactly when
        ``due <= calendar._cutoff(now, d)``: so the overdue test (``d = 0``)
        and each step's ``within`` become one instant each, computed once per
        *now* instead of a walk through the calendar per ticket. ``None``
        (measure each ticket with ``elapsed``) without a calendar, or when a
        cutoff is out of reach.
        """
        key = now.astimezone(UTC)
        table = self.cutoffs_table
        if key in table:
            cutoffs = table[key]
        else:
            cutoffs = None
            calendar = self.calendar
            if calendar is not None:
                try:
                    overdue = calendar._cutoff(now, _ZERO)  # noqa: SLF001 - the calendar's helper for this
                    steps: list[tuple[datetime, int, Reason]] = []
                    for within, rank, reason in self.deadline:
                        bound = calendar._cutoff(now, within)  # noqa: SLF001
                        if bound is None:
                            break
                        steps.append((bound, rank, reason))
                    else:
                        if overdue is not None:
                            cutoffs = (overdue, tuple(steps))
                except (ArithmeticError, ValueError, PolicyError):  # out of range: measure ticket by ticket
                    cutoffs = None
            self.cutoffs_table = {**table, key: cutoffs} if len(table) < _CUTOFFS_KEPT else {key: cutoffs}
        self.cutoffs_recent = (now, cutoffs)
        return cutoffs

    # ------------------------------------------------------------------

    def _prepare_fast_paths(self) -> None:
        """Tables keyed by plain values (enum hashing is slow) and bit masks for marks and signals."""
        self.declared_by_value = {d.value: v for d, v in self.declared.items()}
        self.vip_by_value = {t.value: v for t, v in self.vip.items()}
        self.rule_bits = tuple(
            (tuple(t.bind() for t in rule.tests), rule.urgency, rule.importance, _mark_bits(rule.marks), rule.reason)
            for rule in self.rules
        )
        self.raise_by_flag = {
            flag.value: (index, ru, ri, flag_reason)
            for index, (name, flag, _, _, ru, ri, flag_reason, _) in enumerate(self.raise_list)
            if flag is not None
        }
        self.raise_by_channel = {
            via.value: (index, ru, ri, channel_reason)
            for index, (_, _, _, via, ru, ri, _, channel_reason) in enumerate(self.raise_list)
            if via is not None
        }
        self.raise_by_kind = {
            kind: (index, ru, ri) for index, (_, _, kind, _, ru, ri, _, _) in enumerate(self.raise_list)
        }
        self.raise_bits = tuple(_SIGNAL_BIT[name] for name, *_ in self.raise_list)
        # Complaint risk: neglect turns these into a public or formal complaint (police and anger only press time).
        self.raise_risk = tuple(name in _COMPLAINT_RISK for name, *_ in self.raise_list)
        self.direct_bits = tuple(sum(_SIGNAL_BIT.get(n, 0) for n in combo) for combo in self.direct if combo <= _KNOWN)
        self.quadrants = (
            (Quadrant.Q4, Quadrant.Q2),
            (Quadrant.Q3, Quadrant.Q1),
        )
        self.mark_sets = tuple(_marks_of(bits) for bits in range(1 << len(_MARK_ORDER)))
        self.signal_sets: dict[int, frozenset[str]] = {}


def _build_classifier(engine: _Engine) -> Callable[[Ticket, datetime], Triage]:
    """Return the classify function of *engine*, its tables bound as closure variables (fast lookups)."""
    affected = engine.affected
    affected_on = engine.affected_on
    calendar = engine.calendar
    complaint_from = engine.complaint_from
    deadline = engine.deadline
    deadline_on = engine.deadline_on
    declared_by_value = engine.declared_by_value
    direct_bits = engine.direct_bits
    direct_reason = engine.direct_reason
    doubt_attr_reason = engine.doubt_attr_reason
    doubt_attribute = engine.doubt_attribute
    explicit = engine.explicit
    i_levels = engine.i_levels
    i_threshold = engine.i_threshold
    i_top = engine.i_top
    concept_signal = engine.concept_signal
    detectors = engine.detectors
    itsm_impact = engine.itsm_impact
    itsm_urgency = engine.itsm_urgency
    signal_sets = engine.signal_sets
    lift_reason = engine.lift_reason
    mapped_rows = tuple(tuple(engine.mapped[(u, i)] for i in range(engine.i_top + 1)) for u in range(engine.u_top + 1))
    mark_sets = engine.mark_sets
    money_table = engine.money
    money_on = engine.money_on
    n_imp = engine.n_imp
    n_urg = engine.n_urg
    overdue_rank = engine.overdue_rank
    overdue_reason = engine.overdue_reason
    quadrants = engine.quadrants
    raise_bits = engine.raise_bits
    raise_by_channel = engine.raise_by_channel
    raise_by_flag = engine.raise_by_flag
    raise_by_kind = engine.raise_by_kind
    raise_list = engine.raise_list
    raise_risk = engine.raise_risk
    reach = engine.reach
    reach_on = engine.reach_on
    repeat = engine.repeat
    repeat_on = engine.repeat_on
    repeat_risk_reason = engine.repeat_risk_reason
    rule_bits = engine.rule_bits
    safety_flag_reason = engine.safety_flag_reason
    safety_on = engine.safety_on
    targets = engine.targets
    u_levels = engine.u_levels
    u_threshold = engine.u_threshold
    u_top = engine.u_top
    vip_by_value = engine.vip_by_value
    scan = engine.lexicon.scan if engine.lexicon is not None else None

    def classify(ticket: Ticket, now: datetime) -> Triage:
        """Place *ticket* at *now*; see `classify`."""
        u = i = 0
        reasons: list[Reason] = []
        add = reasons.append
        marks = fired = 0
        risk = False

        # Signal concepts: one scan of subject and text, in every language; then any other detectors.
        detections = scan(ticket.subject, ticket.text, ticket.category) if scan is not None else ()
        if detectors:
            detections, failures = _run_detectors(detectors, ticket, detections, concept_signal)
            for reason in failures:
                add(reason)
                marks |= _REVIEW
        found: dict[str, Detection] = {}
        if detections:
            for hit in detections:
                kind = concept_signal[hit.concept]
                if kind not in found:
                    found[kind] = hit
        flag_values = {f._value_ for f in ticket.flags} if ticket.flags else _EMPTY_SET

        if safety_on:
            safety = False
            if "safety" in flag_values:
                safety = True
                add(safety_flag_reason)
            detection = found.get("safety")
            if detection is not None:
                safety = True
                add(_concept_reason(detection, "handled as real, at once"))
            if safety:
                fired |= _SAFETY_BIT
                u, i = u_top, i_top
                detection = found.get("doubt")
                if detection is not None:
                    add(_concept_reason(detection, "a false-alarm hint: still handled as real; verify afterwards"))
                    marks |= _VERIFY
                attr = doubt_attribute
                if attr is not None and ticket.attributes and _truthy(ticket.attributes.get(attr)):
                    add(doubt_attr_reason)
                    marks |= _VERIFY

        if raise_list and (flag_values or found or ticket.channel._value_ in raise_by_channel):
            hits = [False] * len(raise_list)
            for value in flag_values:
                entry = raise_by_flag.get(value)
                if entry is not None:
                    hits[entry[0]] = True
                    add(entry[3])
            entry = raise_by_channel.get(ticket.channel._value_)
            if entry is not None:
                hits[entry[0]] = True
                add(entry[3])
            for kind, (index, ru, ri) in raise_by_kind.items():
                detection = found.get(kind)
                if detection is not None:
                    hits[index] = True
                    add(_concept_reason(detection, _levels_text(ru, ri, u_levels, i_levels)))
            for index, raised in enumerate(hits):
                if raised:
                    _, _, _, _, ru, ri, _, _ = raise_list[index]
                    fired |= raise_bits[index]
                    if ru > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        u = ru
                    if ri > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        i = ri
                    if raise_risk[index]:
                        risk = True

        # Deadline: the ticket's own due time; pauses stop the clock.
        status_open = ticket.status._value_ in _OPEN
        due = ticket.due
        pauses = _signals.effective_pauses(ticket.pauses, now) if ticket.pauses else ()
        if due is not None:
            if pauses:
                due = _signals.extend_due(due, ticket.opened_at, pauses, calendar)
            if status_open and deadline_on:
                cutoffs = None
                if calendar is not None:
                    recent = engine.cutoffs_recent
                    cutoffs = recent[1] if recent[0] is now else engine.deadline_cutoffs(now)
                if cutoffs is not None:  # business time: compare with the instants computed once per now
                    overdue = due <= cutoffs[0]
                else:
                    remaining = due - now if calendar is None else calendar.elapsed(now, due)
                    overdue = remaining <= _ZERO
                if overdue:
                    fired |= _DEADLINE_BIT
                    if overdue_rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        u = overdue_rank
                    add(overdue_reason)
                else:
                    best_rank = -1
                    best_reason = None
                    if cutoffs is not None:
                        for bound, rank, reason in cutoffs[1]:
                            if due <= bound and rank > best_rank:
                                best_rank, best_reason = rank, reason
                    else:
                        for within, rank, reason in deadline:
                            if remaining <= within and rank > best_rank:
                                best_rank, best_reason = rank, reason
                    if best_reason is not None:
                        fired |= _DEADLINE_BIT
                        if best_rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            u = best_rank
                        add(best_reason)

        declared = declared_by_value.get(ticket.declared_urgency._value_)
        if declared is not None:
            fired |= _DECLARED_BIT
            if declared[0] > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                u = declared[0]
            add(declared[1])

        customer = ticket.customer
        if reach_on:
            count = customer.reach
            for bound, rank, reason in reach:
                if count >= bound:
                    fired |= _REACH_BIT
                    if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        i = rank
                    add(reason)
                    break
        vip = vip_by_value.get(customer.tier._value_)
        if vip is not None:
            fired |= _VIP_BIT
            if vip[0] > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                i = vip[0]
            add(vip[1])
        money = ticket.money_at_stake
        if money is not None and money_on:
            steps = money_table.get(money.currency)
            if steps:
                amount = money.amount
                for bound, rank, reason in steps:
                    if amount >= bound:
                        fired |= _MONEY_BIT
                        if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            i = rank
                        add(reason)
                        break
        if affected_on:
            count = ticket.affected_customers
            if count > 1:
                for bound, rank, reason in affected:
                    if count >= bound:
                        fired |= _AFFECTED_BIT
                        if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            i = rank
                        add(reason)
                        break
        if repeat_on:
            count = ticket.repeat_contacts
            if count:
                for bound, rank, reason in repeat:
                    if count >= bound:
                        fired |= _REPEAT_BIT
                        if rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            u = rank
                        add(reason)
                        break
                if count >= complaint_from:
                    fired |= _REPEAT_BIT
                    risk = True
                    add(repeat_risk_reason)

        for tests, ru, ri, bits, reason in rule_bits:
            for test in tests:
                if not test(ticket):
                    break
            else:
                if ru > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    u = ru
                if ri > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    i = ri
                marks |= bits
                add(reason)

        # Levels a helpdesk recorded (impact and urgency, 1 the highest) raise, never lower.
        impact, level = ticket.impact, ticket.urgency
        if impact is not None:
            recorded = itsm_impact.get(impact)
            if recorded is not None:
                fired |= _ITSM_BIT
                if recorded[0] > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    i = recorded[0]
                add(recorded[1])
        if level is not None:
            recorded = itsm_urgency.get(level)
            if recorded is not None:
                fired |= _ITSM_BIT
                if recorded[0] > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    u = recorded[0]
                add(recorded[1])

        # Quadrant rules: the customer's side wins; doubt and deception never lower.
        if marks & _REVIEW and u < u_threshold:
            u = u_threshold  # a detector failed: a person reads the ticket now, it is never left in Q4
        urgent = u >= u_threshold
        if risk:
            marks |= _RISK
        detection = found.get("deception")
        if detection is not None:
            marks |= _DECEPTIVE
            add(_concept_reason(detection, "verify before acting"))
        if urgent and i < i_threshold and risk:
            i = i_threshold
            add(lift_reason)
        quadrant = quadrants[urgent][i >= i_threshold]
        if fired:
            for combo in direct_bits:
                if combo & fired == combo:
                    marks |= _TOP
                    add(direct_reason)
                    break

        # Priority: explicit impact and urgency use the matrix alone.
        if impact is not None and level is not None:
            priority, reason = explicit[(min(impact, n_imp), min(level, n_urg))]
        else:
            priority, reason = mapped_rows[u][i]
        add(reason)

        # Due: the ticket's own (extended by pauses), else the target for its priority.
        if due is None:
            within = targets.get(priority)
            if within is not None:
                due = (
                    ticket.opened_at + within
                    if calendar is None and not pauses
                    else _signals.add_time(ticket.opened_at, within, pauses, calendar)
                )
        if due is not None and status_open and due <= now:
            marks |= _OVERDUE

        return Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=priority,
            urgency=u_levels[u],
            importance=i_levels[i],
            due=due,
            reasons=tuple(reasons),
            marks=mark_sets[marks],
            signals=signal_sets.get(fired) or _signal_set(signal_sets, fired),
            concepts=frozenset(d.concept for d in detections) if detections else _EMPTY_SET,
        )

    return classify


#: Deadline cutoffs at one instant: the overdue bound, and ``(bound, rank, reason)`` per deadline step.
_Cutoffs = tuple[datetime, tuple[tuple[datetime, int, Reason], ...]]
#: How many instants of "now" an engine keeps deadline cutoffs for.
_CUTOFFS_KEPT = 16

_EMPTY: dict[str, str] = {}
_EMPTY_SET: frozenset[str] = frozenset()
_OPEN = frozenset(s.value for s in TicketStatus if s.is_open)
_KNOWN = frozenset(s.value for s in Signal)
_SIGNAL_BIT = {s.value: 1 << index for index, s in enumerate(Signal)}
_SAFETY_BIT = _SIGNAL_BIT["safety"]
_DEADLINE_BIT = _SIGNAL_BIT["deadline"]
_DECLARED_BIT = _SIGNAL_BIT["declared_urgency"]
_REACH_BIT = _SIGNAL_BIT["reach"]
_VIP_BIT = _SIGNAL_BIT["vip"]
_MONEY_BIT = _SIGNAL_BIT["money"]
_AFFECTED_BIT = _SIGNAL_BIT["affected"]
_REPEAT_BIT = _SIGNAL_BIT["repeat_contacts"]
_ITSM_BIT = _SIGNAL_BIT["itsm"]
_MARK_ORDER = (
    Mark.VERIFY_AFTERWARDS,
    Mark.POSSIBLY_DECEPTIVE,
    Mark.COMPLAINT_RISK,
    Mark.OVERDUE,
    Mark.DIRECT_TO_TOP,
    Mark.HUMAN_REVIEW,
)
_VERIFY, _DECEPTIVE, _RISK, _OVERDUE, _TOP, _REVIEW = (1 << k for k in range(len(_MARK_ORDER)))
#: The signals whose neglect turns a need into a public or formal complaint.
_COMPLAINT_RISK = frozenset({"regulator", "public_exposure", "discrimination"})
_SIGNAL_NAMES = tuple((bit, name) for name, bit in _SIGNAL_BIT.items())


def _signal_set(table: dict[int, frozenset[str]], fired: int) -> frozenset[str]:
    """The names of the signals in *fired*, remembered in *table* (one entry per combination seen)."""
    names = frozenset(name for bit, name in _SIGNAL_NAMES if fired & bit)
    table[fired] = names
    return names


def _levels_text(u: int, i: int, u_levels: tuple[Level, ...], i_levels: tuple[Level, ...]) -> str:
    parts = []
    if u >= 0:
        parts.append(f"urgency {u_levels[u].name}")
    if i >= 0:
        parts.append(f"importance {i_levels[i].name}")
    return ", ".join(parts) or "noted"


def _concept_reason(detection: Detection, effect: str) -> Reason:
    """The reason for a detected concept: which concept, term, language, field and position, and its effect."""
    code = "rule.possibly_deceptive" if detection.concept == "deception" else (
        "signal.doubt" if detection.concept == "doubt" else "signal." + detection.concept.split(".", 1)[0]
    )
    where = f"the {detection.field} at {detection.start}"
    by = "" if detection.detector == "lexicon" else f", by {detection.detector} ({detection.confidence:g})"
    return Reason(
        code,
        f"{detection.concept}: {detection.term!r} ({detection.language}) in {where}{by}: {effect}",
        f"concepts.{detection.concept}",
        FrozenMap(
            {
                "concept": detection.concept,
                "term": detection.term,
                "language": detection.language,
                "field": detection.field,
                "position": str(detection.start),
                "detector": detection.detector,
                "confidence": f"{detection.confidence:g}",
            }
        ),
    )


def _run_detectors(
    detectors: tuple[Detector, ...],
    ticket: Ticket,
    detections: tuple[Detection, ...],
    known: Mapping[str, str],
) -> tuple[tuple[Detection, ...], list[Reason]]:
    """Add what every extra detector finds; a detector that fails (or answers nonsense) fails closed."""
    found = list(detections)
    failures: list[Reason] = []
    for detector in detectors:
        name = getattr(detector, "name", type(detector).__name__)
        try:
            answer: tuple[object, ...] = tuple(detector.detect(ticket))
            got: list[Detection] = []
            for item in answer:
                if not isinstance(item, Detection):
                    msg = f"expected Detection values, got {item!r}"
                    raise TypeError(msg)  # noqa: TRY301 - one path for every way a detector can fail
                if item.concept not in known:
                    msg = f"unknown concept {item.concept!r}"
                    raise ValueError(msg)  # noqa: TRY301
                got.append(item)
        except Exception as exc:  # noqa: BLE001 - any failure of a plugged-in detector fails closed
            failures.append(
                Reason(
                    "detector.failed",
                    f"detector {name!r} failed ({type(exc).__name__}: {exc}): a person reads this ticket now",
                    f"detectors.{name}",
                    FrozenMap({"detector": str(name), "error": type(exc).__name__}),
                )
            )
            continue
        found.extend(got)
    return tuple(found), failures


def _mark_bits(marks: Iterable[Mark]) -> int:
    return sum(1 << _MARK_ORDER.index(m) for m in set(marks))


def _marks_of(bits: int) -> frozenset[Mark]:
    return frozenset(m for k, m in enumerate(_MARK_ORDER) if bits >> k & 1)


_NO_MARKS: frozenset[Mark] = frozenset()


def _truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y", "是")
    return bool(value)


def _condition_text(condition: Condition) -> str:
    if condition.equals is not None:
        return f"equals {condition.equals}"
    if condition.one_of is not None:
        return "one of " + ", ".join(condition.one_of)
    if condition.contains is not None:
        return f"contains {condition.contains}"
    return f"at least {condition.at_least:g}"


# --------------------------------------------------------------------------
# Public functions


def classify(ticket: Ticket, policy: TriagePolicy, now: datetime) -> Triage:
    """Place one ticket: quadrant, priority, levels, due time, reasons and marks.

    *now* is the caller's clock (an aware datetime; a naive one raises
    `TicketError`); the deadline signal and the
    overdue mark are judged against it. Never raises on a valid ticket.
    """
    if now.tzinfo is None:
        require_aware("now", now)
    return policy._engine.classify(ticket, now)  # noqa: SLF001


def classify_many(tickets: Iterable[Ticket], policy: TriagePolicy, now: datetime) -> list[Triage]:
    """Place many tickets at once: the batch path, same results as `classify`."""
    require_aware("now", now)
    run = policy._engine.classify  # noqa: SLF001
    return [run(ticket, now) for ticket in tickets]


def rank_key(ticket: Ticket, triage: Triage) -> tuple[int, bool, int, int, int, bool, float, float, str]:
    """Return the sort key of `rank`: smaller is handled first.

    The order is: quadrant (Q1 first), a live safety signal (an open ticket
    whose triage fired the ``safety`` signal) before every ticket without
    one, whatever their due times: lives first; then priority (1 first), importance level
    (highest first), urgency level (highest first), due time (earliest
    first; no due time last), opened_at (oldest first), ticket id. Instants
    are compared as instants, whatever their time zone.

    The two levels come before the due time because a priority matrix is
    coarser than the levels it is fed: with four levels on a three-level
    matrix, a life at stake (importance ``critical``) and a repeat complaint
    (``high``) share priority 1, and the method handles the life first, even
    when the complaint has been overdue for hours.
    """
    due = triage.due
    return (
        triage.quadrant._value_,  # Enum.value is a slow descriptor; this is the hot sort path
        not ("safety" in triage.signals and ticket.status._value_ in _OPEN),
        triage.priority,
        -triage.importance.rank,
        -triage.urgency.rank,
        due is None,
        due.timestamp() if due is not None else 0.0,
        ticket.opened_at.timestamp(),
        ticket.id,
    )


def rank(tickets: Iterable[Ticket], policy: TriagePolicy, now: datetime) -> list[tuple[Ticket, Triage]]:
    """Classify *tickets* and order them, best first, by `rank_key`.

    The order is total and deterministic for tickets with distinct ids, and
    does not depend on the order of the input.
    """
    require_aware("now", now)
    run = policy._engine.classify  # noqa: SLF001
    pairs = [(ticket, run(ticket, now)) for ticket in tickets]
    keys = [rank_key(ticket, triage) for ticket, triage in pairs]
    order = sorted(range(len(pairs)), key=keys.__getitem__)
    return [pairs[index] for index in order]


# --------------------------------------------------------------------------
# Static checks


def check_triage_policy(policy: TriagePolicy) -> tuple[Finding, ...]:
    """Return static findings on a policy: problems a CI should fail on, and remarks.

    Reports unknown signal names and rules that read protected attributes
    (kept only in a non-strict policy, never applied), thresholds that are
    unsorted, overlapping or non-monotone, quadrants that no ticket can reach,
    a disabled safety signal, priorities without a resolution target, and
    the matrix's own findings (non-monotone...).
    """
    findings: list[Finding] = []

    def finding(code: str, severity: Severity, path: str, message: str) -> None:
        findings.append(Finding(code, severity, path, message))

    known = {s.value for s in Signal}
    for index, name in enumerate(policy.signals):
        if name not in known:
            finding(
                "unknown-signal", Severity.ERROR, f"signals[{index}]", f"unknown signal {name!r}: it is never applied"
            )
    for index, combo in enumerate(policy.direct_to_top):
        for j, name in enumerate(combo):
            if name not in known:
                finding("unknown-signal", Severity.ERROR, f"direct_to_top[{index}][{j}]", f"unknown signal {name!r}")
    if Signal.SAFETY.value not in policy.signals:
        finding(
            "safety-disabled",
            Severity.WARNING,
            "signals",
            "the safety signal is off: an SOS would not be forced into Q1",
        )
    for index, rule in enumerate(policy.rules):
        for j, condition in enumerate(rule.when):
            protected = _protected_name(condition.field, policy.protected_attributes)
            if protected is not None:
                finding(
                    "protected-attribute",
                    Severity.ERROR,
                    f"rules[{index}].when[{j}].field",
                    f"rule {rule.name!r} reads the protected attribute {protected!r}; it is never applied",
                )
        if rule.urgency is None and rule.importance is None and not rule.marks:
            finding(
                "rule-no-effect",
                Severity.WARNING,
                f"rules[{index}]",
                f"rule {rule.name!r} raises nothing and marks nothing",
            )

    declared = [  # a declared urgency the table leaves out raises nothing: the lowest level
        (key, policy.urgency.rank(policy.declared_urgency[key]) if key in policy.declared_urgency else 0)
        for key in ("low", "normal", "high", "critical")
    ]
    for (lower, lower_rank), (higher, higher_rank) in itertools.pairwise(declared):
        if higher_rank < lower_rank:
            finding(
                "non-monotone-declared-urgency",
                Severity.WARNING,
                f"declared_urgency.{higher}",
                f"a customer who says {higher!r} gets a lower urgency than one who says {lower!r}",
            )
    _check_steps(
        finding, "deadline", [(s.within, policy.urgency.rank(s.level)) for s in policy.deadline], descending=True
    )
    for name in ("reach", "affected", "repeat_contacts"):
        steps: tuple[CountStep, ...] = getattr(policy, name)
        scale = policy.urgency if name == "repeat_contacts" else policy.importance
        _check_steps(finding, name, [(s.at_least, scale.rank(s.level)) for s in steps], descending=False)
    currencies: dict[str, list[tuple[Any, int]]] = {}
    indexes: dict[str, list[int]] = {}
    for index, step in enumerate(policy.money):
        currencies.setdefault(step.at_least.currency, []).append(
            (step.at_least.amount, policy.importance.rank(step.level))
        )
        indexes.setdefault(step.at_least.currency, []).append(index)
    for currency, items in currencies.items():
        _check_steps(finding, "money", items, descending=False, index_map=indexes[currency], label=f" ({currency})")

    engine = policy._engine  # noqa: SLF001
    for quadrant in _unreachable(engine):
        finding("unreachable-quadrant", Severity.WARNING, "signals", f"no ticket can reach {quadrant.name}")

    findings.extend(check_matrix(engine.matrix, path="matrix"))
    priorities = sorted({engine.mapped[k][0] for k in engine.mapped} | {v[0] for v in engine.explicit.values()})
    for prio in priorities:
        if prio not in engine.targets:
            finding(
                "missing-target", Severity.INFO, "targets", f"priority {prio} has no resolution target: no due time"
            )
    ordered = sorted(engine.targets.items())
    for (p1, w1), (p2, w2) in itertools.pairwise(ordered):
        if w1 > w2:
            finding(
                "target-order",
                Severity.WARNING,
                "targets",
                f"priority {p1} has a longer target ({_fmt(w1)}) than priority {p2} ({_fmt(w2)})",
            )
    return tuple(findings)


def _check_steps(
    finding: Any,
    path: str,
    steps: list[tuple[Any, int]],
    *,
    descending: bool,
    index_map: list[int] | None = None,
    label: str = "",
) -> None:
    """Sorted, no duplicates, and the level monotone in the bound.

    Deadline steps: a tighter window (smaller ``within``) must not give a
    lower level. Count steps: a larger count must not give a lower level.
    """
    index_map = index_map or list(range(len(steps)))
    bounds = [b for b, _ in steps]
    if bounds != sorted(bounds):
        finding("unsorted-thresholds", Severity.WARNING, path, f"thresholds{label} are not in ascending order")
    seen: dict[Any, int] = {}
    for pos, (bound, _) in enumerate(steps):
        if bound in seen:
            finding(
                "overlapping-thresholds",
                Severity.ERROR,
                f"{path}[{index_map[pos]}]",
                f"the same threshold{label} as {path}[{index_map[seen[bound]]}]: one of them never decides",
            )
        seen.setdefault(bound, pos)
    ordered = sorted(range(len(steps)), key=lambda k: steps[k][0])
    for a, b in itertools.pairwise(ordered):
        (bound_a, rank_a), (bound_b, rank_b) = steps[a], steps[b]
        if bound_a == bound_b:
            continue
        wrong = rank_b > rank_a if descending else rank_b < rank_a
        if wrong:
            detail = "a wider window gives a higher level" if descending else "a larger value gives a lower level"
            finding(
                "non-monotone-thresholds",
                Severity.WARNING,
                f"{path}[{index_map[b]}]",
                f"{detail}{label} than {path}[{index_map[a]}]",
            )


def _unreachable(engine: _Engine) -> list[Quadrant]:
    """Quadrants no ticket can reach, by the levels each source can raise."""
    sources: list[tuple[int, int]] = [(0, 0)]
    enabled = engine.enabled
    if Signal.SAFETY in enabled:
        sources.append((engine.u_top, engine.i_top))
    if Signal.DEADLINE in enabled:
        sources += [(rank, 0) for _, rank, _ in engine.deadline] + [(engine.overdue_rank, 0)]
    sources += [(rank, 0) for rank, _ in engine.declared.values()]
    for name in ("police", "regulator", "public_exposure"):
        if name in enabled:
            ru, ri, *_ = engine.raises[name]
            sources.append((max(ru, 0), max(ri, 0)))
    for flag_on, steps in ((Signal.REACH in enabled, engine.reach), (Signal.AFFECTED in enabled, engine.affected)):
        if flag_on:
            sources += [(0, rank) for _, rank, _ in steps]
    sources += [(0, rank) for rank, _ in engine.vip.values()]
    if Signal.MONEY in enabled:
        sources += [(0, rank) for steps in engine.money.values() for _, rank, _ in steps]
    if Signal.REPEAT_CONTACTS in enabled:
        sources += [(rank, 0) for _, rank, _ in engine.repeat]
    sources += [(max(r.urgency, 0), max(r.importance, 0)) for r in engine.rules]
    ut, it = engine.u_threshold, engine.i_threshold
    any_urgent = any(u >= ut for u, _ in sources)
    any_important = any(i >= it for _, i in sources)
    reachable = set()
    for u, i in sources:
        reachable.add(Quadrant.of(urgent=u >= ut, important=i >= it))
    if any_urgent and any_important:
        reachable.add(Quadrant.Q1)
    if any_urgent and it > 0 and any(u >= ut and i < it for u, i in sources):
        reachable.add(Quadrant.Q3)
    if any_important and ut > 0 and any(i >= it and u < ut for u, i in sources):
        reachable.add(Quadrant.Q2)
    if ut == 0:
        reachable -= {Quadrant.Q2, Quadrant.Q4}
    if it == 0:
        reachable -= {Quadrant.Q3, Quadrant.Q4}
    return [q for q in Quadrant if q not in reachable]


#: A sensible default policy: the four-level scales, every built-in signal,
#: the ServiceNow 3x3 matrix, ITIL-like resolution targets (P1 1h, P2 8h,
#: P3 24h, P4 48h, P5 5 days) in wall-clock time.
DEFAULT_POLICY: TriagePolicy = TriagePolicy()
