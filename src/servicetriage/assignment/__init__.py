"""Who takes each ticket: agents, skills, capacity and the share reserved for VIP tiers.

An `Agent` has an authority tier, skills with levels (languages,
categories, channels, expert areas), a capacity of concurrent tickets, a
current load and, optionally, business hours. An `AssignmentPolicy` says
which share of the desk's capacity is kept for the VIP tiers (20% by
default), which of the ticket's fields are matched, and, in a table, which
tier, skill level and expert area a ticket needs from its quadrant,
priority, marks and signals. `assign` proposes an agent for every ticket of
a ranked queue, with the reasons, or says why a ticket has none.

This package is part of the pure core: no I/O, no clock. Files are read by
`servicetriage.config` (the policy's ``[assignment]`` table) and by
`agents_from_data` on a parsed document.
"""

from servicetriage.assignment._assign import assign, needs_of
from servicetriage.assignment._model import (
    MAX_LEVEL,
    Agent,
    Assignment,
    AssignmentPolicy,
    MatchKind,
    NeedRule,
    Needs,
    SkillKind,
    Skills,
    TicketAssignment,
    agents_from_data,
)

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
    "assign",
    "needs_of",
]
