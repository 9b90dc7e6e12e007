"""The values of assignment: agents and their skills, the policy, needs and results.

Every value is immutable and validated when it is built; a bad value raises
`PolicyError` naming the field and the value (``agent.capacity: expected a
whole number >= 0, got -1``). `agents_from_data` builds a tuple of agents
from plain data (a parsed TOML, JSON or YAML document) and names the path of
every bad field (``agents[2].skills.dance: unknown skill kind...``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from servicetriage._inputs import members
from servicetriage.calendar import BusinessCalendar
from servicetriage.errors import PolicyError
from servicetriage.model import DEFAULT_TIERS, Channel, CustomerTier, FrozenMap, Mark, Quadrant, Reason

__all__ = [
    "MAX_LEVEL",
    "Agent",
    "Assignment",
    "AssignmentPolicy",
    "MatchKind",
    "NeedRule",
    "Needs",
    "SkillKind",
    "Skills",
    "TicketAssignment",
    "agents_from_data",
]

#: The highest skill level; levels run from 1 (can do it) to 5 (the expert others ask).
MAX_LEVEL = 5


class SkillKind(enum.Enum):
    """The kinds of skill an agent has, each a mapping of names to levels."""

    LANGUAGE = "language"
    """Languages the agent speaks (``zh``, ``en``...), matched against the ticket's language."""
    CATEGORY = "category"
    """Ticket categories the agent handles (``flight``, ``billing``...)."""
    CHANNEL = "channel"
    """Channels the agent works (``phone``, ``chat``...)."""
    EXPERT = "expert"
    """Expert areas (``safety``, ``regulatory``...) that a policy's need rules may demand."""


class MatchKind(enum.Enum):
    """Which of a ticket's own fields an assignment policy matches against agents' skills."""

    LANGUAGE = "language"
    CATEGORY = "category"
    CHANNEL = "channel"


_KINDS = ", ".join(kind.value for kind in SkillKind)
_CHANNELS = frozenset(channel.value for channel in Channel)


def _levels(path: str, value: object, *, lower: bool = False) -> FrozenMap[str, int]:
    if not isinstance(value, Mapping):
        msg = f"{path}: expected a table of names to levels 1..{MAX_LEVEL}, got {value!r}"
        raise PolicyError(msg)
    result: dict[str, int] = {}
    for name, level in value.items():
        if not isinstance(name, str) or not name.strip():
            msg = f"{path}: expected non-empty names, got {name!r}"
            raise PolicyError(msg)
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
            msg = f"{path}.{name}: expected a level from 1 to {MAX_LEVEL}, got {level!r}"
            raise PolicyError(msg)
        result[name.strip().lower() if lower else name.strip()] = level
    return FrozenMap(sorted(result.items()))


@attrs.frozen(kw_only=True)
class Skills:
    """What an agent can do: per kind, names with a level from 1 to `MAX_LEVEL`.

    Build it from a mapping with `Skills.of`; an unknown kind is an error:

    >>> Skills.of({"language": {"zh": 5, "en": 3}, "category": {"flight": 2}}).language["zh"]
    5
    >>> Skills.of({"dance": {"tango": 2}})
    Traceback (most recent call last):
    ...
    servicetriage.errors.PolicyError: agent.skills.dance: unknown skill kind; expected language, category, ...
    """

    language: FrozenMap[str, int] = attrs.field(factory=FrozenMap)
    category: FrozenMap[str, int] = attrs.field(factory=FrozenMap)
    channel: FrozenMap[str, int] = attrs.field(factory=FrozenMap)
    expert: FrozenMap[str, int] = attrs.field(factory=FrozenMap)

    @classmethod
    def of(cls, value: object, path: str = "agent.skills") -> Skills:
        """Build skills from ``{kind: {name: level}}``; `PolicyError` names *path* and the bad entry."""
        if isinstance(value, Skills):
            return value
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            msg = f"{path}: expected a table of skill kinds ({_KINDS}), got {value!r}"
            raise PolicyError(msg)
        parts: dict[str, FrozenMap[str, int]] = {}
        for kind, levels in value.items():
            if kind not in SkillKind._value2member_map_:
                msg = f"{path}.{kind}: unknown skill kind; expected {_KINDS}"
                raise PolicyError(msg)
            parts[kind] = _levels(f"{path}.{kind}", levels, lower=kind == "language")
        for name in parts.get("channel", FrozenMap()):
            if name not in _CHANNELS:
                msg = f"{path}.channel.{name}: unknown channel; expected {', '.join(sorted(_CHANNELS))}"
                raise PolicyError(msg)
        return cls(**parts)

    @property
    def seniority(self) -> int:
        """The agent's highest category level (0 without categories): their experience in general."""
        return max(self.category.values(), default=0)


def _whole(path: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{path}: expected a whole number >= 0, got {value!r}"
        raise PolicyError(msg)


def _check_count(_instance: Agent, attribute: attrs.Attribute[Any], value: object) -> None:
    _whole(f"agent.{attribute.name}", value)


def _check_vip_load(instance: Agent, _attribute: attrs.Attribute[Any], value: object) -> None:
    _whole("agent.vip_load", value)
    if isinstance(value, int) and value > instance.load:
        msg = f"agent.vip_load: expected at most the load {instance.load}, got {value!r}"
        raise PolicyError(msg)


def _check_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"{type(instance).__name__.lower()}.{attribute.name}: expected a non-empty string, got {value!r}"
        raise PolicyError(msg)


def _to_hours(value: object) -> BusinessCalendar | None:
    if value is None or isinstance(value, BusinessCalendar):
        return value
    if not isinstance(value, Mapping):
        msg = f"agent.hours: expected a business calendar (zone, hours, holidays), got {value!r}"
        raise PolicyError(msg)
    try:
        return BusinessCalendar(**value)
    except TypeError as exc:
        msg = f"agent.hours: {exc}"
        raise PolicyError(msg) from None


def _to_skills(value: object) -> Skills:
    return Skills.of(value)


def _check_bool(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        msg = f"agent.{attribute.name}: expected true or false, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Agent:
    """A person who takes tickets.

    ``tier`` is one of the policy's authority tiers (``agent``,
    ``supervisor``...). ``capacity`` is how many tickets the agent holds at
    once; ``load`` how many they hold now, ``vip_load`` how many of those are
    VIP tickets. ``hours`` (a business calendar) and ``available`` say whether
    the agent works at the assignment's ``now``: an agent off shift or away
    takes nothing and their capacity does not count.
    """

    id: str = attrs.field(validator=_check_name)
    tier: str = attrs.field(validator=_check_name)
    skills: Skills = attrs.field(factory=Skills, converter=_to_skills)
    capacity: int = attrs.field(validator=_check_count)
    load: int = attrs.field(default=0, validator=_check_count)
    vip_load: int = attrs.field(default=0, validator=_check_vip_load)
    hours: BusinessCalendar | None = attrs.field(default=None, converter=_to_hours)
    available: bool = attrs.field(default=True, validator=_check_bool)

    @property
    def free(self) -> int:
        """How many more tickets the agent can take (never below zero)."""
        return max(self.capacity - self.load, 0)


def agents_from_data(data: object, *, path: str = "agents") -> tuple[Agent, ...]:
    """Build agents from plain data: ``{"agents": [...]}`` or a list of agent tables.

    Every problem names its path (``agents[2].capacity: expected a whole
    number >= 0, got -1``); ids must be unique.
    """
    if isinstance(data, Mapping):
        if set(data) != {"agents"}:
            extra = sorted(str(key) for key in data if key != "agents") or ["no 'agents' list"]
            msg = f"<document>: expected only an 'agents' list, got {', '.join(extra)}"
            raise PolicyError(msg)
        data = data["agents"]
    if not isinstance(data, list | tuple):
        msg = f"{path}: expected a list of agents, got {type(data).__name__}"
        raise PolicyError(msg)
    agents: list[Agent] = []
    seen: set[str] = set()
    fields = {field.name for field in attrs.fields(Agent)}
    for index, record in enumerate(data):
        where = f"{path}[{index}]"
        if not isinstance(record, Mapping):
            msg = f"{where}: expected a table of agent fields, got {record!r}"
            raise PolicyError(msg)
        unknown = sorted(str(key) for key in record if key not in fields)
        if unknown:
            msg = f"{where}.{unknown[0]}: unknown field; expected {', '.join(sorted(fields))}"
            raise PolicyError(msg)
        missing = [name for name in ("id", "tier", "capacity") if name not in record]
        if missing:
            msg = f"{where}.{missing[0]}: required"
            raise PolicyError(msg)
        try:
            agent = Agent(**{**record, "skills": Skills.of(record.get("skills"), f"{where}.skills")})
        except PolicyError as exc:
            text = str(exc)
            msg = f"{where}.{text.removeprefix('agent.')}" if text.startswith("agent.") else text
            raise PolicyError(msg) from None
        if agent.id in seen:
            msg = f"{where}.id: expected a unique agent id, got {agent.id!r} again"
            raise PolicyError(msg)
        seen.add(agent.id)
        agents.append(agent)
    return tuple(agents)


# --------------------------------------------------------------------------
# The policy


def _to_quadrants(value: Iterable[Quadrant | str | int]) -> frozenset[Quadrant]:
    return members(Quadrant, value, "needrule.quadrants", PolicyError)


def _to_marks(value: Iterable[Mark | str]) -> frozenset[Mark]:
    try:
        return frozenset(Mark(item) for item in ([value] if isinstance(value, str) else value))
    except ValueError as exc:
        msg = f"needrule.marks: {exc}; expected {', '.join(m.value for m in Mark)}"
        raise PolicyError(msg) from None


def _to_names(value: Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _check_priority(_instance: NeedRule, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        msg = f"needrule.max_priority: expected a priority >= 1, got {value!r}"
        raise PolicyError(msg)


def _check_level(_instance: NeedRule, _attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LEVEL:
        msg = f"needrule.level: expected a level from 1 to {MAX_LEVEL}, got {value!r}"
        raise PolicyError(msg)


def _optional_name(_instance: NeedRule, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        msg = f"needrule.{attribute.name}: expected a non-empty string, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class NeedRule:
    """One row of the table that says what a ticket needs from the agent who takes it.

    A row applies when every condition it sets holds (an empty condition
    holds always): the ticket's quadrant is in ``quadrants``, its priority is
    ``max_priority`` or more pressing, its triage carries one of ``marks``,
    or fired one of ``signals`` (a built-in signal such as ``safety``, or a
    concept such as ``safety.trapped`` or its family ``safety``). The ticket
    then needs an agent of at least ``tier``, a skill level of at least
    ``level`` in its category, and the ``expert`` area. When several rows
    apply, the ticket needs the highest tier, the highest level and every
    expert area among them.
    """

    quadrants: frozenset[Quadrant] = attrs.field(factory=frozenset, converter=_to_quadrants)
    max_priority: int | None = attrs.field(default=None, validator=_check_priority)
    marks: frozenset[Mark] = attrs.field(factory=frozenset, converter=_to_marks)
    signals: frozenset[str] = attrs.field(factory=frozenset, converter=_to_names)
    tier: str | None = attrs.field(default=None, validator=_optional_name)
    level: int = attrs.field(default=1, validator=_check_level)
    expert: str | None = attrs.field(default=None, validator=_optional_name)


def _to_share(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1 or math.isnan(value):
        msg = f"assignment.vip_share: expected a share from 0 to 1 (0.2 is 20%), got {value!r}"
        raise PolicyError(msg)
    return float(value)


def _to_customer_tiers(value: Iterable[CustomerTier | str]) -> frozenset[CustomerTier]:
    return members(CustomerTier, value, "assignment.vip_tiers", PolicyError)


def _to_match(value: Iterable[MatchKind | str]) -> frozenset[MatchKind]:
    result = set()
    for item in [value] if isinstance(value, str) else value:
        try:
            result.add(item if isinstance(item, MatchKind) else MatchKind(item))
        except ValueError:
            msg = f"assignment.match: expected language, category or channel, got {item!r}"
            raise PolicyError(msg) from None
    return frozenset(result)


def _to_lower_names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(name).strip().lower() for name in ([value] if isinstance(value, str) else value))


def _to_rules(value: Iterable[object]) -> tuple[NeedRule, ...]:
    rules = tuple(value)
    for index, rule in enumerate(rules):
        if not isinstance(rule, NeedRule):
            msg = f"rules[{index}]: expected a need rule, got {rule!r}"
            raise PolicyError(msg)
    return rules  # type: ignore[return-value]  # every item checked above


def _to_tiers(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


_DEFAULT_RULES = (
    NeedRule(quadrants=frozenset({Quadrant.Q1}), level=2),
    NeedRule(marks=frozenset({Mark.DIRECT_TO_TOP}), tier="manager"),
)


@attrs.frozen(kw_only=True)
class AssignmentPolicy:
    """How tickets find agents: the VIP share, what is matched, and the need table.

    - ``vip_share``: the share of the desk's capacity (0 to 1, 0.2 by
      default: about 20% of the staff serve the VIP tiers) that other work
      may use only when no VIP ticket waits for an agent;
    - ``vip_tiers``: the customer tiers served from that share;
    - ``match``: which of the ticket's fields must meet an agent's skill:
      its ``language`` (only to find someone who speaks it: the language
      never changes the order or the priority), its ``category`` and its
      ``channel``;
    - ``any_language`` and ``any_category``: values that need no skill
      (``und``, an undetermined language; ``general``);
    - ``tiers``: the authority tiers, lowest first (those of the authority
      policy);
    - ``rules``: the need table (`NeedRule`): which tier, level and expert
      area a ticket needs, from its quadrant, priority, marks and signals.
      By default a Q1 ticket needs level 2 in its category, and a ticket
      marked ``direct_to_top`` needs a manager.
    """

    vip_share: float = attrs.field(default=0.2, converter=_to_share)
    vip_tiers: frozenset[CustomerTier] = attrs.field(
        default=frozenset({CustomerTier.VIP_BUSINESS, CustomerTier.VIP_PRIVATE}), converter=_to_customer_tiers
    )
    match: frozenset[MatchKind] = attrs.field(default=frozenset(MatchKind), converter=_to_match)
    any_language: frozenset[str] = attrs.field(default=frozenset({"und"}), converter=_to_lower_names)
    any_category: frozenset[str] = attrs.field(default=frozenset({"general"}), converter=_to_names)
    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=_to_tiers)
    rules: tuple[NeedRule, ...] = attrs.field(default=_DEFAULT_RULES, converter=_to_rules)

    def __attrs_post_init__(self) -> None:
        if not self.tiers or len(set(self.tiers)) != len(self.tiers):
            msg = f"tiers: expected distinct tier names, lowest first, got {list(self.tiers)!r}"
            raise PolicyError(msg)
        for index, rule in enumerate(self.rules):
            if rule.tier is not None and rule.tier not in self.tiers:
                msg = f"rules[{index}].tier: expected one of {', '.join(self.tiers)}, got {rule.tier!r}"
                raise PolicyError(msg)

    def reserved(self, capacity: int) -> int:
        """The slots reserved for VIP tiers out of *capacity*: the share, rounded up.

        >>> AssignmentPolicy().reserved(15)
        3
        """
        return math.ceil(round(self.vip_share * capacity, 9))


# --------------------------------------------------------------------------
# Needs and results


@attrs.frozen(kw_only=True, cache_hash=True)
class Needs:
    """What one ticket needs from the agent who takes it.

    ``None`` means "any": no language, category or channel to match.
    ``vip`` says whether the ticket is served from the VIP share.
    """

    language: str | None
    category: str | None
    channel: Channel | None
    tier: str
    level: int
    experts: frozenset[str]
    vip: bool

    def __str__(self) -> str:
        parts = [f"tier {self.tier}", f"level {self.level}"]
        if self.language is not None:
            parts.append(f"language {self.language}")
        if self.category is not None:
            parts.append(f"category {self.category}")
        if self.channel is not None:
            parts.append(f"channel {self.channel.value}")
        parts.extend(f"expert {area}" for area in sorted(self.experts))
        if self.vip:
            parts.append("VIP")
        return ", ".join(parts)


@attrs.frozen(kw_only=True)
class TicketAssignment:
    """The outcome for one ticket of the queue: its agent, or why it has none.

    ``position`` is the ticket's place in the queue (1 first). ``agent`` is
    ``None`` for an unassigned ticket; its ``reasons`` then say why.
    ``borrowed`` says the ticket took capacity reserved for VIP tiers (lent
    because no VIP ticket waited).
    """

    ticket_id: str
    position: int
    quadrant: Quadrant
    priority: int
    agent: str | None
    needs: Needs
    reasons: tuple[Reason, ...]
    borrowed: bool = False

    @property
    def assigned(self) -> bool:
        """Whether an agent takes the ticket."""
        return self.agent is not None

    def explain(self) -> str:
        """The outcome and its reasons as text, one reason a line."""
        who = f"-> {self.agent}" if self.agent is not None else "unassigned"
        head = f"{self.position}. {self.ticket_id} ({self.quadrant.name} priority {self.priority}) {who}"
        return "\n".join([head, *(f"  - {reason}" for reason in self.reasons)])


@attrs.frozen(kw_only=True)
class Assignment:
    """A proposed assignment of a whole queue.

    ``tickets`` lists every ticket of the queue in queue order. ``loads``
    gives each agent's load after the assignment; ``capacity`` is the total
    capacity of the agents at work, ``reserved`` the part of it kept for the
    VIP tiers, ``vip_waiting`` the VIP tickets left waiting for an agent
    (while any waits, nothing was lent from the reserve).
    """

    tickets: tuple[TicketAssignment, ...]
    loads: FrozenMap[str, int]
    capacity: int
    reserved: int
    vip_waiting: tuple[str, ...]

    @property
    def assigned(self) -> tuple[TicketAssignment, ...]:
        """The tickets that have an agent, in queue order."""
        return tuple(t for t in self.tickets if t.agent is not None)

    @property
    def unassigned(self) -> tuple[TicketAssignment, ...]:
        """The tickets without an agent, in queue order; their reasons say why."""
        return tuple(t for t in self.tickets if t.agent is None)

    def of(self, ticket_id: str) -> TicketAssignment:
        """The outcome for the ticket *ticket_id*; `KeyError` if it was not in the queue."""
        for item in self.tickets:
            if item.ticket_id == ticket_id:
                return item
        raise KeyError(ticket_id)

    def for_agent(self, agent_id: str) -> tuple[TicketAssignment, ...]:
        """The tickets given to *agent_id*, in queue order."""
        return tuple(t for t in self.tickets if t.agent == agent_id)

    def explain(self) -> str:
        """Every ticket's outcome with its reasons, then the capacity summary."""
        lines = [item.explain() for item in self.tickets]
        lines.append(
            f"capacity {self.capacity}, reserved for VIP tiers {self.reserved}, "
            f"assigned {len(self.assigned)}, unassigned {len(self.unassigned)}"
        )
        return "\n".join(lines)
