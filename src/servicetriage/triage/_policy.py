"""The triage policy as data: scales, signal settings, custom rules, targets and the policy itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._inputs import duration, money
from servicetriage.calendar import BusinessCalendar
from servicetriage.digest import content_hash
from servicetriage.errors import PolicyError
from servicetriage.matrix import SERVICENOW, PriorityMatrix, preset
from servicetriage.model import (
    PROTECTED_ATTRIBUTES,
    FrozenMap,
    Mark,
    Money,
    Pause,
    Ticket,
    Triage,
    require_aware,
)
from servicetriage.signals import LexiconKind, Signal, status_pauses
from servicetriage.signals.detectors import Detector
from servicetriage.signals.lexicon import ConceptSettings, LexiconSettings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

from servicetriage.triage._common import _as_tuple, _fail, _level_name, _optional_tuple

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
    duration(value, "deadlinestep.within", PolicyError)


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


def _to_step_money(value: Money | str) -> Money:
    result: Money = money(value, "moneystep.at_least", PolicyError)
    return result


@attrs.frozen(kw_only=True)
class MoneyStep:
    """When the money at stake, in the same currency, is ``at_least`` this, importance is at least ``level``.

    Amounts in another currency never match: give steps for each currency
    you serve.
    """

    at_least: Money = attrs.field(converter=_to_step_money)
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
    return attrs.evolve(settings, use_defaults=settings.use_defaults and policy.keywords.use_defaults, concepts=merged)


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


def _positive_priority(_instance: ResolutionTarget, _attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail("target.priority", f"expected a priority >= 1, got {value!r}")


def _target_within(_instance: ResolutionTarget, _attribute: attrs.Attribute[Any], value: timedelta) -> None:
    duration(value, "target.within", PolicyError)


@attrs.frozen(kw_only=True)
class ResolutionTarget:
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


def _check_statuses(_instance: Any, _attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, status in enumerate(value):
        if not isinstance(status, str) or not status.strip():
            msg = f"triage.pause_statuses[{index}]: expected a status name such as 'pending', got {status!r}"
            raise PolicyError(msg)


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

    ``pause_statuses`` lists the ticket statuses that stop the SLA clock
    (``pending`` by default; add ``"waiting on customer"``, ``"on hold"``
    as your helpdesk names them): `pauses_from` turns a status history into
    the pauses classification honours.

    ``calendar`` is the business calendar that due times, resolution targets
    and the deadline signal count in (none: wall-clock time): a deadline
    counts in the calendar of the policy that sets it (see
    `servicetriage.calendar`, "Which calendar a deadline counts in").

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
    targets: tuple[ResolutionTarget, ...] = attrs.field(
        default=(
            ResolutionTarget(priority=1, within=timedelta(hours=1)),
            ResolutionTarget(priority=2, within=timedelta(hours=8)),
            ResolutionTarget(priority=3, within=timedelta(hours=24)),
            ResolutionTarget(priority=4, within=timedelta(hours=48)),
            ResolutionTarget(priority=5, within=timedelta(days=5)),
        ),
        converter=_as_tuple,
    )
    calendar: BusinessCalendar | None = None
    protected_attributes: tuple[str, ...] = attrs.field(default=PROTECTED_ATTRIBUTES, converter=_as_tuple)
    strict: bool = True
    pause_statuses: tuple[str, ...] = attrs.field(default=("pending",), converter=_as_tuple, validator=_check_statuses)
    _engine: _compile._Engine = attrs.field(init=False, eq=False, hash=False, repr=False)
    _content_hash: str = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Once per policy, before compiling: every Triage it makes carries this hash.
        object.__setattr__(self, "_content_hash", content_hash(self))
        try:
            engine = _compile._Engine(self)  # noqa: SLF001 - the package's own compiler
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

    @property
    def content_hash(self) -> str:
        """The policy's content hash (`servicetriage.digest.content_hash`), computed once when it was built."""
        return self._content_hash

    def pauses_from(
        self, history: Iterable[tuple[datetime, object]], *, opened_at: datetime | None = None
    ) -> tuple[Pause, ...]:
        """The SLA pauses of a status *history* (``(at, status)`` changes, oldest first) under this policy.

        A status listed in ``pause_statuses`` stops the clock until the next
        change to another status (see `servicetriage.signals.status_pauses`);
        give the result to the ticket (``attrs.evolve(ticket, pauses=...)``)
        before classifying it.
        """
        return status_pauses(history, self.pause_statuses, opened_at=opened_at)

    def classify(self, ticket: Ticket, now: datetime) -> Triage:
        """Place *ticket* at *now*: the same as ``classify(ticket, self, now)``."""
        if now.tzinfo is None or now.utcoffset() is None:
            require_aware("now", now)
        return self._engine.classify(ticket, now)


def _rebuild_policy(fields: tuple[tuple[str, Any], ...]) -> TriagePolicy:
    return TriagePolicy(**dict(fields))


# The compiler reads the classes above: bound here, after them, as a module (so either may be imported first).
from servicetriage.triage import _compile  # noqa: E402
