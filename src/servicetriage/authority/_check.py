"""Static checks: problems in a policy that loading cannot find, each a Finding."""

from __future__ import annotations

from servicetriage.authority._policy import AuthorityPolicy, Grant, Limits
from servicetriage.model import (
    ActionKind,
    Finding,
    Money,
    Severity,
)


def _finding(code: str, severity: Severity, path: str, message: str) -> Finding:
    return Finding(code=code, severity=severity, path=path, message=message)


def _at_least(mine: Money | int | None, theirs: Money | int | None) -> bool:
    """Whether limit *mine* is at least as generous as *theirs* (None is unlimited)."""
    if mine is None:
        return True
    if theirs is None:
        return False
    if isinstance(mine, Money) and isinstance(theirs, Money):
        return mine.currency == theirs.currency and mine.amount >= theirs.amount
    return mine >= theirs  # type: ignore[operator]


def _covers_limits(mine: Limits, theirs: Limits) -> bool:
    return (
        _at_least(mine.max_amount, theirs.max_amount)
        and _at_least(mine.max_count_per_ticket, theirs.max_count_per_ticket)
        and _at_least(mine.max_total_per_customer, theirs.max_total_per_customer)
        and (mine.max_total_per_customer is None or mine.period == theirs.period)
    )


def check_authority_policy(policy: AuthorityPolicy) -> tuple[Finding, ...]:
    """Find problems in *policy* that loading cannot: each a `Finding`.

    Codes:

    - ``authority.unapprovable`` (warning): an action kind named by a
      guardrail or a delegation that no tier may approve; every such request
      goes to the top tier.
    - ``authority.no_grant`` (info): a well-known action kind with no grant.
    - ``authority.limit_shrinks`` (warning): a higher tier has a smaller limit
      than a lower tier for the same action, where the higher tier's grant
      covers every request the lower one does (it inherits the larger limit
      anyway).
    - ``authority.dead_grant`` (warning): a guardrail without an amount
      forbids every request a grant covers, so the grant never allows
      anything.
    - ``authority.duplicate_grant`` (warning) and ``authority.shadowed_grant``
      (info): a grant that never decides anything because another grant at
      the same or a lower tier is at least as broad and as generous.
    - ``authority.forbids_everything`` (error): a guardrail without
      conditions or amount, forbidding every request of its kinds.
    - ``authority.mixed_currencies`` (warning): money in several currencies
      within one action kind; requests in the other currency cannot use
      those limits and guardrails fail closed on them.

    Unknown tiers and duplicate ids never reach this function: the policy
    cannot be built with them (``grants[3].tier: ...``).
    """
    tiers = policy.tier_order
    findings: list[Finding] = []
    granted = {g.action for g in policy.grants}
    referenced: dict[str, str] = {}
    for gi, guardrail in enumerate(policy.guardrails):
        path = f"guardrails[{gi}]"
        if guardrail.forbids_everything:
            kinds = ", ".join(sorted(guardrail.actions)) or "every action"
            findings.append(
                _finding(
                    "authority.forbids_everything",
                    Severity.ERROR,
                    path,
                    f"guardrail {guardrail.id!r} has no condition and no amount: it forbids {kinds} outright",
                )
            )
        for action in sorted(guardrail.actions):
            referenced.setdefault(action, f"{path}.actions")
    for di, delegation in enumerate(policy.delegations):
        for action in sorted(delegation.actions):
            referenced.setdefault(action, f"delegations[{di}].actions")
    for action, path in sorted(referenced.items()):
        if action not in granted:
            findings.append(
                _finding(
                    "authority.unapprovable",
                    Severity.WARNING,
                    path,
                    f"no tier holds a grant for {action!r}: every such request goes to the top tier ({tiers.top})",
                )
            )
    findings.extend(
        _finding("authority.no_grant", Severity.INFO, "grants", f"no grant for {kind.value!r}: it goes to the top tier")
        for kind in ActionKind
        if kind.value not in granted and kind.value not in referenced
    )

    index = {id(g): i for i, g in enumerate(policy.grants)}
    by_action: dict[str, list[Grant]] = {}
    for grant in policy.grants:
        by_action.setdefault(grant.action, []).append(grant)
    for action, grants in sorted(by_action.items()):
        currencies = sorted({c for g in grants if (c := g.limits.currency) is not None})
        currencies += [
            g.above.currency
            for g in policy.guardrails
            if g.above is not None and (not g.actions or action in g.actions) and g.above.currency not in currencies
        ]
        if len(set(currencies)) > 1:
            findings.append(
                _finding(
                    "authority.mixed_currencies",
                    Severity.WARNING,
                    "grants",
                    f"{action!r} has limits in {', '.join(sorted(set(currencies)))}: a request in one currency "
                    "cannot use limits in another",
                )
            )
        # Candidates that may cover a grant: same category bucket or no category condition.
        wild = [g for g in grants if not g.when.categories]
        bucket: dict[str, list[Grant]] = {}
        for grant in grants:
            for category in grant.when.categories:
                bucket.setdefault(category, []).append(grant)
        for grant in grants:
            rank = tiers.rank(grant.tier)
            first = min(grant.when.categories) if grant.when.categories else None
            candidates = wild + (bucket.get(first, []) if first is not None else [])
            path = f"grants[{index[id(grant)]}]"
            for guardrail in policy.guardrails:
                if (
                    guardrail.above is None
                    and (not guardrail.actions or action in guardrail.actions)
                    and guardrail.when.covers(grant.when)
                ):
                    findings.append(
                        _finding(
                            "authority.dead_grant",
                            Severity.WARNING,
                            path,
                            f"grant {grant.id!r} never allows anything: guardrail {guardrail.id!r} forbids every "
                            "request it covers",
                        )
                    )
                    break
            # A lower tier's grant whose cell this grant covers, with larger limits: the limit shrinks upward.
            covered = (
                grants
                if not grant.when.categories
                else sorted(
                    {id(o): o for c in grant.when.categories for o in bucket[c]}.values(), key=lambda o: index[id(o)]
                )
            )
            lower = next(
                (
                    o
                    for o in covered
                    if tiers.rank(o.tier) < rank
                    and grant.when.covers(o.when)
                    and _covers_limits(o.limits, grant.limits)
                    and not _covers_limits(grant.limits, o.limits)
                ),
                None,
            )
            if lower is not None:
                findings.append(
                    _finding(
                        "authority.limit_shrinks",
                        Severity.WARNING,
                        f"{path}.limits",
                        f"{grant.tier} has smaller limits ({grant.limits.describe()}) than {lower.tier} "
                        f"in {lower.id!r} ({lower.limits.describe()}) where both apply",
                    )
                )
                continue
            for other in candidates:
                if other is grant:
                    continue
                other_rank = tiers.rank(other.tier)
                if other_rank > rank or not other.when.covers(grant.when):
                    continue
                if not _covers_limits(other.limits, grant.limits):
                    continue
                same = other_rank == rank and other.when == grant.when and other.limits == grant.limits
                if same and other.obligations == grant.obligations:
                    if index[id(other)] < index[id(grant)]:
                        findings.append(
                            _finding(
                                "authority.duplicate_grant",
                                Severity.WARNING,
                                path,
                                f"grant {grant.id!r} repeats {other.id!r}",
                            )
                        )
                        break
                    continue
                if same and index[id(other)] > index[id(grant)]:
                    continue
                findings.append(
                    _finding(
                        "authority.shadowed_grant",
                        Severity.INFO,
                        path,
                        f"grant {grant.id!r} never decides anything: {other.id!r} ({other.tier}) "
                        "is at least as broad and as generous",
                    )
                )
                break
    return tuple(findings)
