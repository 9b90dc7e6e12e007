"""Strategies for assignment: skills, agents and assignment policies."""

from __future__ import annotations

from hypothesis import strategies as st

from servicetriage.assignment import MAX_LEVEL, Agent, AssignmentPolicy, MatchKind, NeedRule, Skills
from servicetriage.model import DEFAULT_TIERS, Channel, CustomerTier, Mark, Quadrant

__all__ = ["agents", "assignment_policies", "need_rules", "skills"]

#: The names the ticket strategies draw, so that drawn agents can take drawn tickets.
_LANGUAGES = ("zh", "en", "de", "ja")
_CATEGORIES = ("general", "billing", "flight", "ride", "repair", "account")
_EXPERTS = ("safety", "regulatory")
_LEVELS = st.integers(1, MAX_LEVEL)


def _levels(names: tuple[str, ...], *, min_size: int = 0) -> st.SearchStrategy[dict[str, int]]:
    return st.dictionaries(st.sampled_from(names), _LEVELS, min_size=min_size, max_size=len(names))


def skills(*, min_languages: int = 0) -> st.SearchStrategy[Skills]:
    """Skills over the languages, categories and channels the ticket strategies draw, and two expert areas."""
    return st.builds(
        Skills.of,
        st.fixed_dictionaries(
            {
                "language": _levels(_LANGUAGES, min_size=min_languages),
                "category": _levels(_CATEGORIES),
                "channel": _levels(tuple(c.value for c in Channel)),
                "expert": _levels(_EXPERTS),
            }
        ),
    )


@st.composite
def agents(
    draw: st.DrawFn,
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    max_capacity: int = 6,
    ids: st.SearchStrategy[str] | None = None,
) -> Agent:
    """Agents of one of *tiers*, with a capacity up to *max_capacity* and a load that may fill it.

    Some are away (``available=False``); none has business hours, so that
    every drawn agent at work is at work whatever ``now`` is.
    """
    capacity = draw(st.integers(0, max_capacity))
    load = draw(st.integers(0, capacity + 1))
    return Agent(
        id=draw(ids if ids is not None else st.integers(0, 9999).map(lambda n: f"A{n}")),
        tier=draw(st.sampled_from(tiers)),
        skills=draw(skills()),
        capacity=capacity,
        load=load,
        vip_load=draw(st.integers(0, load)),
        available=draw(st.sampled_from([True, True, False])),
    )


def need_rules(*, tiers: tuple[str, ...] = DEFAULT_TIERS) -> st.SearchStrategy[NeedRule]:
    """Rows of a need table: conditions on quadrant, priority, marks and signals; a tier, level, expert area."""
    return st.builds(
        NeedRule,
        quadrants=st.frozensets(st.sampled_from(Quadrant), max_size=2),
        max_priority=st.none() | st.integers(1, 5),
        marks=st.frozensets(st.sampled_from(Mark), max_size=1),
        signals=st.frozensets(st.sampled_from(["safety", "regulator", "vip", "deadline"]), max_size=1),
        tier=st.none() | st.sampled_from(tiers),
        level=st.integers(1, 3),
        expert=st.none() | st.sampled_from(_EXPERTS),
    )


def assignment_policies(*, tiers: tuple[str, ...] = DEFAULT_TIERS) -> st.SearchStrategy[AssignmentPolicy]:
    """Assignment policies: any VIP share from 0 to 1, any matched fields, up to four need rules."""
    return st.builds(
        AssignmentPolicy,
        vip_share=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.5, 1.0]) | st.floats(0, 1),
        vip_tiers=st.frozensets(st.sampled_from(CustomerTier)),
        match=st.frozensets(st.sampled_from(MatchKind)),
        tiers=st.just(tiers),
        rules=st.lists(need_rules(tiers=tiers), max_size=4).map(tuple),
    )
