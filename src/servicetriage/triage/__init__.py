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

The package reads in the order of the method: the policy as data
(`_policy`), its compilation into tables (`_compile`), the classifier that
runs them for every ticket (`_evaluate`), the public functions (`_public`)
and the static checks (`_check`).

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

from typing import Any

from servicetriage._deprecated import renamed
from servicetriage.triage._check import check_triage_policy
from servicetriage.triage._policy import (
    Condition,
    CountStep,
    DeadlineStep,
    ItsmLevels,
    Keywords,
    MoneyStep,
    Raise,
    ResolutionTarget,
    Rule,
    Scale,
    TriagePolicy,
    readable_fields,
)
from servicetriage.triage._public import classify, classify_many, rank, rank_key

__all__ = [
    "DEFAULT_POLICY",
    "Condition",
    "CountStep",
    "DeadlineStep",
    "ItsmLevels",
    "Keywords",
    "MoneyStep",
    "Raise",
    "ResolutionTarget",
    "Rule",
    "Scale",
    "TriagePolicy",
    "check_triage_policy",
    "classify",
    "classify_many",
    "rank",
    "rank_key",
    "readable_fields",
]

#: A sensible default policy: the four-level scales, every built-in signal,
#: the ServiceNow 3x3 matrix, ITIL-like resolution targets (P1 1h, P2 8h,
#: P3 24h, P4 48h, P5 5 days) in wall-clock time.
DEFAULT_POLICY: TriagePolicy = TriagePolicy()

#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Target": "ResolutionTarget"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())
