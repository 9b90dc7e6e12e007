"""Static checks of an escalation policy."""

from __future__ import annotations

from servicetriage.escalation._policy import _ZERO, Chain, EscalationPolicy, Step, WhenEmpty
from servicetriage.model import (
    Finding,
    Quadrant,
    Severity,
)

# --------------------------------------------------------------------------
# Static checks


def _covers_q1(chain: Chain) -> bool:
    return not chain.quadrants or Quadrant.Q1 in chain.quadrants


def check_escalation_policy(policy: EscalationPolicy) -> tuple[Finding, ...]:
    """Find what is wrong or doubtful in *policy*, each with its path.

    Codes: ``escalation.q1-no-executive`` (error: a chain covering Q1 that
    never reaches the executive tier), ``escalation.unknown-tier`` (error),
    ``escalation.gap`` (a quadrant no chain covers: error for Q1, warning for
    Q2 and Q3, info for Q4), ``escalation.shadowed-chain`` (warning: an
    earlier chain covers everything this one does),
    ``escalation.unreachable-step`` (warning: after a step that repeats
    forever), ``escalation.duplicate-step`` (warning: same targets again with
    zero delay), ``escalation.q1-waits-empty`` (warning: an empty ``wait``
    step in a Q1 chain), ``escalation.no-steps`` (warning: no step, or no
    step with a target). Negative delays
    and missing repeat intervals never get this far: the policy cannot be
    built with them (a `PolicyError` names the
    field).
    """
    findings: list[Finding] = []
    known = set(policy.tiers)
    top = policy.top

    def add(code: str, severity: Severity, path: str, message: str) -> None:
        findings.append(Finding(code=code, severity=severity, path=path, message=message))

    for c, chain in enumerate(policy.chains):
        base = f"escalation.chains[{c}]"
        for earlier_index, earlier in enumerate(policy.chains[:c]):
            quads = not earlier.quadrants or (bool(chain.quadrants) and chain.quadrants <= earlier.quadrants)
            prios = not earlier.priorities or (bool(chain.priorities) and chain.priorities <= earlier.priorities)
            if quads and prios:
                add(
                    "escalation.shadowed-chain",
                    Severity.WARNING,
                    base,
                    f"chain {chain.id!r} is never selected: chains[{earlier_index}] ({earlier.id!r}) "
                    "covers every triage it covers and comes first",
                )
                break
        if all(step.empty for step in chain.steps):
            what = "has no step" if not chain.steps else "has only steps without a target"
            add(
                "escalation.no-steps",
                Severity.WARNING,
                f"{base}.steps",
                f"chain {chain.id!r} notifies nobody: it {what}",
            )
        reaches_top = chain.direct_to_top
        forever_at: int | None = None
        previous: Step | None = None
        for s, step in enumerate(chain.steps):
            path = f"{base}.steps[{s}]"
            for t, tier in enumerate(step.tiers):
                if tier not in known:
                    add(
                        "escalation.unknown-tier",
                        Severity.ERROR,
                        f"{path}.tiers[{t}]",
                        f"unknown tier {tier!r}; known tiers: {', '.join(policy.tiers)}",
                    )
            if forever_at is not None:
                add(
                    "escalation.unreachable-step",
                    Severity.WARNING,
                    path,
                    f"never reached: steps[{forever_at}] repeats until acknowledged (repeat = -1)",
                )
            else:
                if top in step.tiers:
                    reaches_top = True
                if (
                    previous is not None
                    and not step.empty
                    and step.delay == _ZERO
                    and previous.repeat == 0
                    and step.targets == previous.targets
                ):
                    add(
                        "escalation.duplicate-step",
                        Severity.WARNING,
                        path,
                        f"notifies {', '.join(map(str, step.targets))} again at the same instant as steps[{s - 1}]",
                    )
            if step.empty and step.when_empty is WhenEmpty.WAIT and _covers_q1(chain):
                add(
                    "escalation.q1-waits-empty",
                    Severity.WARNING,
                    path,
                    "a Q1 chain waits on a step that notifies nobody",
                )
            if step.repeat == -1 and forever_at is None:
                forever_at = s
            previous = step
        for r, report in enumerate(chain.reports):
            if report.to not in known:
                add(
                    "escalation.unknown-tier",
                    Severity.ERROR,
                    f"{base}.reports[{r}].to",
                    f"unknown tier {report.to!r}; known tiers: {', '.join(policy.tiers)}",
                )
        if _covers_q1(chain) and not reaches_top:
            add(
                "escalation.q1-no-executive",
                Severity.ERROR,
                base,
                f"chain {chain.id!r} covers Q1 but never reaches the executive tier {top!r} "
                "(add a step with that tier, or direct_to_top = true)",
            )
    for quadrant in Quadrant:
        if not any(not ch.quadrants or quadrant in ch.quadrants for ch in policy.chains):
            severity = {Quadrant.Q1: Severity.ERROR, Quadrant.Q4: Severity.INFO}.get(quadrant, Severity.WARNING)
            add("escalation.gap", severity, "escalation.chains", f"no chain covers {quadrant.name}")
    return tuple(findings)
