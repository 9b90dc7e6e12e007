"""Static checks of a triage policy: what is questionable before any ticket is seen."""

from __future__ import annotations

import itertools
from typing import Any

from servicetriage.matrix import check_matrix
from servicetriage.model import (
    Finding,
    Quadrant,
    Severity,
)
from servicetriage.signals import Signal
from servicetriage.triage._common import _fmt
from servicetriage.triage._compile import _Engine
from servicetriage.triage._policy import CountStep, TriagePolicy, _protected_name

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
