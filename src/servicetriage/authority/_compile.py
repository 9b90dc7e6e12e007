"""Compilation: a policy becomes slices indexed by action and category, with every reason ready, once.

Grants are indexed by action kind, then by category (grants without a
category condition join every category), sorted by tier; guardrails
likewise. A slice whose grants limit only the amount is judged in advance
for every band of amounts and every tier (`_Bands`). The tables go to the
evaluator (`_evaluate._Engine`), which reads one slice per decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

from servicetriage.authority._common import (
    _FACT_CATEGORY,
    _FACT_CHANNEL,
    _FACT_CUSTOMER_TIER,
    _NEEDS_AMOUNT,
    _NEEDS_QUADRANT,
    _NEEDS_USAGE,
    _NEEDS_USAGE_AMOUNT,
    _period,
    _reason,
)
from servicetriage.authority._evaluate import (
    _ALLOWED,
    _DEPARTMENT_INSTRUCTION,
    _FORBIDDEN,
    _NEEDS_APPROVAL,
    _ZERO,
    _Engine,
    _gap_reason,
)
from servicetriage.authority._policy import AuthorityPolicy, Delegation, Grant, Guardrail, Tiers
from servicetriage.authority._request import Decision, Outcome, Request
from servicetriage.digest import content_hash
from servicetriage.model import ObligationKind, Reason

# How a reason names each fact a grant or a guardrail may lack.
_FACT_WORDS = {
    _NEEDS_QUADRANT: "the quadrant",
    _FACT_CATEGORY: "the category",
    _FACT_CUSTOMER_TIER: "the customer tier",
    _FACT_CHANNEL: "the channel",
    _NEEDS_USAGE: "the prior usage",
    _NEEDS_USAGE_AMOUNT: "the amount of each prior usage",
    _NEEDS_AMOUNT: "the amount",
}
_GRANT_NEEDS_MESSAGES = {
    _NEEDS_QUADRANT: "grant depends on the quadrant: triage missing",
    _FACT_CATEGORY: "grant depends on the category: ticket.category not given",
    _FACT_CUSTOMER_TIER: "grant depends on the customer tier: ticket.customer.tier not given",
    _FACT_CHANNEL: "grant depends on the channel: ticket.channel not given",
    _NEEDS_USAGE: "grant counts prior usage: usage not given",
    _NEEDS_USAGE_AMOUNT: "grant adds up prior usage: a prior usage has no amount",
    _NEEDS_AMOUNT: "grant has an amount limit: amount missing",
}


def _opt(values: frozenset[Any]) -> frozenset[Any] | None:
    return values or None


class _CGrant:
    """A grant prepared for fast evaluation: sets, decimals and ready reasons."""

    __slots__ = (
        "categories",
        "channels",
        "count_max",
        "currency",
        "customer_tiers",
        "grant",
        "id",
        "max_amount",
        "obligations",
        "period",
        "plain",
        "quadrants",
        "rank",
        "reasons",
        "rules",
        "total_max",
    )

    def __init__(self, grant: Grant, rank: int) -> None:
        limits = grant.limits
        self.grant = grant
        self.id = grant.id
        self.rank = rank
        self.quadrants = _opt(grant.when.quadrants)
        self.categories = _opt(grant.when.categories)
        self.customer_tiers = _opt(grant.when.customer_tiers)
        self.channels = _opt(grant.when.channels)
        self.currency = limits.currency
        self.max_amount = limits.max_amount.amount if limits.max_amount is not None else None
        self.total_max = limits.max_total_per_customer.amount if limits.max_total_per_customer is not None else None
        self.period = limits.period
        self.count_max = limits.max_count_per_ticket
        self.obligations = grant.obligations
        self.rules = tuple((rule.kind, rule.within, rule.to, rule.note, grant.id) for rule in grant.obligations)
        self.reasons = _grant_reasons(grant)
        self.plain = (
            self.quadrants is None
            and self.customer_tiers is None
            and self.channels is None
            and self.count_max is None
            and self.total_max is None
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_CGrant, (self.grant, self.rank))


def _grant_reasons(grant: Grant) -> dict[str, Reason]:
    g, lim, when = grant, grant.limits, grant.when
    evidence = {"tier": g.tier, "limits": lim.describe()}
    reasons = {
        "ok": _reason("grant.satisfied", f"{g.tier} may decide {g.action} ({lim.describe()})", g.id, evidence),
    }
    needs = []
    if when.quadrants:
        quadrants = ", ".join(sorted(when.quadrants))
        reasons["quadrant"] = _reason(
            "grant.condition", f"grant is for quadrants {quadrants} only", g.id, {"quadrants": quadrants}
        )
        needs.append(_NEEDS_QUADRANT)
    if when.categories:
        needs.append(_FACT_CATEGORY)
    if when.customer_tiers:
        needs.append(_FACT_CUSTOMER_TIER)
    if when.channels:
        needs.append(_FACT_CHANNEL)
    if lim.max_count_per_ticket is not None or lim.max_total_per_customer is not None:
        needs.append(_NEEDS_USAGE)
    if lim.max_total_per_customer is not None:
        needs.append(_NEEDS_USAGE_AMOUNT)
    if lim.needs_amount:
        needs.append(_NEEDS_AMOUNT)
    for fact in needs:
        reasons[f"needs:{fact}"] = _reason("grant.needs_info", _GRANT_NEEDS_MESSAGES[fact], g.id, {"missing": fact})
    if when.customer_tiers:
        shown = ", ".join(sorted(t.value for t in when.customer_tiers))
        reasons["customer_tier"] = _reason(
            "grant.condition", f"grant is for customer tiers {shown} only", g.id, {"customer_tiers": shown}
        )
    if when.channels:
        shown = ", ".join(sorted(c.value for c in when.channels))
        reasons["channel"] = _reason(
            "grant.condition", f"grant is for channels {shown} only", g.id, {"channels": shown}
        )
    if lim.needs_amount:
        reasons["currency"] = _reason(
            "grant.currency", f"grant limits are in {lim.currency}", g.id, {"currency": str(lim.currency)}
        )
    if lim.max_amount is not None:
        reasons["amount"] = _reason(
            "grant.limit", f"amount above the limit of {lim.max_amount} a request", g.id, {"limit": str(lim.max_amount)}
        )
    if lim.max_count_per_ticket is not None:
        reasons["count"] = _reason(
            "grant.limit",
            f"already used {lim.max_count_per_ticket} time(s) on this ticket",
            g.id,
            {"limit": str(lim.max_count_per_ticket)},
        )
    if lim.max_total_per_customer is not None:
        reasons["total"] = _reason(
            "grant.limit",
            f"customer total would exceed {lim.max_total_per_customer} in {_period(lim.period)}",
            g.id,
            {"limit": str(lim.max_total_per_customer)},
        )
        reasons["mixed"] = _reason("grant.limit", "prior usage in another currency cannot be added up", g.id, {})
    return reasons


class _CGuard:
    """A guardrail prepared for fast evaluation."""

    __slots__ = (
        "above",
        "categories",
        "channels",
        "currency",
        "customer_tiers",
        "guardrail",
        "id",
        "quadrants",
        "reasons",
    )

    def __init__(self, guardrail: Guardrail) -> None:
        self.guardrail = guardrail
        self.id = guardrail.id
        self.quadrants = _opt(guardrail.when.quadrants)
        self.categories = _opt(guardrail.when.categories)
        self.customer_tiers = _opt(guardrail.when.customer_tiers)
        self.channels = _opt(guardrail.when.channels)
        self.above = guardrail.above.amount if guardrail.above is not None else None
        self.currency = guardrail.above.currency if guardrail.above is not None else None
        message = guardrail.message or f"guardrail {guardrail.id} forbids this"
        self.reasons = {
            "match": _reason("guardrail.matched", message, guardrail.id, {}),
            "currency": _reason(
                "guardrail.unevaluable",
                f"amount cannot be compared with {guardrail.above}: fails closed",
                guardrail.id,
                {},
            ),
        }
        for fact in (_NEEDS_QUADRANT, _FACT_CATEGORY, _FACT_CUSTOMER_TIER, _FACT_CHANNEL, _NEEDS_AMOUNT):
            self.reasons[fact] = _guard_needs(guardrail.id, (fact,))

    def needs(self, lacking: list[str]) -> Reason:
        """The reason this guardrail gives when it cannot be judged without the *lacking* facts."""
        return self.reasons[lacking[0]] if len(lacking) == 1 else _guard_needs(self.id, tuple(lacking))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_CGuard, (self.guardrail,))


def _guard_needs(guard_id: str, lacking: tuple[str, ...]) -> Reason:
    words = " and ".join(_FACT_WORDS[fact] for fact in lacking)
    evidence = {"missing": ", ".join(lacking)}
    return _reason("guardrail.needs_info", f"guardrail needs {words}: fails closed", guard_id, evidence)


def _slices(items: list[tuple[frozenset[str], Any]], key: Any) -> tuple[dict[str, tuple[Any, ...]], tuple[Any, ...]]:
    """Index items by category: each category gets its own items plus the wildcard ones, in order."""
    wild = [item for cats, item in items if not cats]
    by_cat: dict[str, list[Any]] = {}
    for cats, item in items:
        for cat in cats:
            by_cat.setdefault(cat, []).append(item)
    table = {cat: tuple(sorted([*own, *wild], key=key)) for cat, own in by_cat.items()}
    return table, tuple(sorted(wild, key=key))


_Rules = tuple[tuple[ObligationKind, timedelta, str, str, str], ...]
# What a plain slice decides for one band and one tier: outcome, lowest tier, forbidding guardrail,
# reasons, a limit (ALLOWED: the best limit, None for none; NEEDS_APPROVAL: the headroom) and obligations.
_Entry = tuple[Outcome, str | None, str | None, tuple[Reason, ...], Decimal | None, _Rules]


class _Bands:
    """A plain slice judged in advance for one currency.

    A slice is plain when its grants limit only the amount of a request and
    its guardrails read only the amount. Its outcome then depends on the
    amount only through the band between consecutive limits it falls in
    (limits are inclusive: an amount equal to a limit stays within it), so
    for every band and every tier of the actor the outcome, lowest tier,
    reasons, best limit and obligations are prepared here, in one flat
    table. Only the headroom and the deadlines are left for the decision.
    ``others`` holds the slice judged for its other currencies, if any.
    """

    __slots__ = ("currency", "others", "ranks", "table", "thresholds")

    def __init__(
        self,
        grants: tuple[_CGrant, ...],
        guards: tuple[_CGuard, ...],
        currency: str,
        names: tuple[str, ...],
        gap: Reason,
    ) -> None:
        self.currency = currency
        self.others: dict[str, _Bands] | None = None
        limits = {g.max_amount for g in grants if g.max_amount is not None and g.currency == currency}
        limits.update(g.above for g in guards if g.above is not None and g.currency == currency)
        self.thresholds: tuple[Decimal, ...] = tuple(sorted(limits))
        self.ranks = len(names)
        table: list[_Entry] = []
        for band in range(len(self.thresholds) + 1):
            table.extend(self._band(grants, guards, names, gap, band))
        self.table = tuple(table)

    def _band(
        self, grants: tuple[_CGrant, ...], guards: tuple[_CGuard, ...], names: tuple[str, ...], gap: Reason, band: int
    ) -> list[_Entry]:
        """The entries of *band* for each rank (in band b the amount exceeds exactly the b smallest thresholds)."""
        currency = self.currency
        exceeded = set(self.thresholds[:band])
        reasons: list[Reason] = []
        forbidding: str | None = None
        for guard in guards:
            if guard.above is None:
                key = "match"
            elif guard.currency != currency:
                key = "currency"
            elif guard.above not in exceeded:
                continue
            else:
                key = "match"
            if forbidding is None:
                forbidding = guard.id
            reasons.append(guard.reasons[key])
        satisfied: list[_CGrant] = []
        for grant in grants:
            if grant.max_amount is not None:
                if grant.currency != currency:
                    reasons.append(grant.reasons["currency"])
                    continue
                if grant.max_amount in exceeded:
                    reasons.append(grant.reasons["amount"])
                    continue
            reasons.append(grant.reasons["ok"])
            satisfied.append(grant)
        shown = tuple(reasons)
        if forbidding is not None:
            return [(_FORBIDDEN, None, forbidding, shown, None, ())] * len(names)
        lowest = names[satisfied[0].rank] if satisfied else names[-1]
        entries: list[_Entry] = []
        for rank in range(len(names)):
            held = [g for g in satisfied if g.rank <= rank]
            if held:
                limits = [g.max_amount for g in held]
                best = None if None in limits else max(a for a in limits if a is not None)
                rules = tuple(rule for g in held for rule in g.rules)
                entries.append((_ALLOWED, lowest, None, shown, best, rules))
                continue
            # The most the actor may grant alone: the largest limit at their tier or below, met or not.
            own = [g.max_amount for g in grants if g.rank <= rank and g.currency == currency]
            allowance = max((a for a in own if a is not None), default=_ZERO)
            reasons_here = shown if satisfied else (*shown, gap)
            entries.append((_NEEDS_APPROVAL, lowest, None, reasons_here, allowance, ()))
        return entries


def _plain_slices(
    grants: tuple[_CGrant, ...], guards: tuple[_CGuard, ...], names: tuple[str, ...], gap: Reason
) -> _Bands | None:
    """Judge a slice in advance for each of its currencies, or None if it is not plain or reads no amount."""
    if not all(g.plain for g in grants):
        return None
    if any(g.quadrants is not None or g.customer_tiers is not None or g.channels is not None for g in guards):
        return None
    currencies = {g.currency for g in grants if g.currency is not None}
    currencies.update(g.currency for g in guards if g.currency is not None)
    if not currencies:
        return None
    first, *rest = sorted(currencies)
    bands = _Bands(grants, guards, first, names, gap)
    if rest:
        bands.others = {currency: _Bands(grants, guards, currency, names, gap) for currency in rest}
    return bands


class CompiledPolicy:
    """An `AuthorityPolicy` indexed for fast decisions.

    Grants are indexed by action kind, then by category (grants without a
    category condition join every category), sorted by tier; guardrails
    likewise. A decision looks at one slice only, so its cost does not grow
    with the number of grants for other actions and categories. Every reason
    a grant, a guardrail or a delegation may give, and every obligation it
    carries, is prepared here, so a decision only picks them. Immutable by
    convention and picklable (it rebuilds itself from the policy).
    """

    __slots__ = (
        "_engine",
        "content_hash",
        "policy",
        "tiers",
    )

    def __init__(self, policy: AuthorityPolicy) -> None:
        self.policy = policy
        # Once per policy: every Decision it makes carries this hash.
        self.content_hash = content_hash(policy)
        self.tiers = Tiers(policy.tiers)
        self._engine = engine = _Engine()
        engine.content_hash = self.content_hash
        engine.names = self.tiers.names
        engine.ranks = dict(self.tiers._ranks)  # noqa: SLF001
        engine.sod = policy.separation_of_duties
        deadlines = policy.deadlines
        engine.call_back = deadlines.call_back_within
        engine.report_upward = deadlines.report_upward_within
        engine.q1_report = deadlines.q1_report_within
        engine.summary = deadlines.summary_within
        engine.work_order = deadlines.work_order_within
        rank = self.tiers.rank
        _index_grants(engine, policy, rank)
        _index_guards(engine, policy)
        _index_plain(engine)
        _index_delegations(engine, policy, rank)

    def __reduce__(self) -> tuple[Any, ...]:
        return (CompiledPolicy, (self.policy,))

    def grants_in_slice(self, action: str, category: str) -> tuple[Grant, ...]:
        """Return the grants a request for *action* on *category* is judged against, lowest tier first."""
        table = self._engine.grants.get(action)
        if table is None:
            return ()
        return tuple(c.grant for c in table.get(category, self._engine.wild_grants[action]))

    def decide(self, request: Request, now: datetime) -> Decision:
        """Decide *request* at *now*; see `authorize`."""
        return self._engine.decide(request, now)


_GRANT_ORDER = lambda c: (c.rank, c.id)  # noqa: E731
_GUARD_ORDER = lambda c: c.id  # noqa: E731


def _index_grants(engine: _Engine, policy: AuthorityPolicy, rank: Callable[[str], int]) -> None:
    """Grants by action, then by category (with the wildcard ones), lowest tier first."""
    by_action: dict[str, list[tuple[frozenset[str], _CGrant]]] = {}
    for grant in policy.grants:
        by_action.setdefault(grant.action, []).append((grant.when.categories, _CGrant(grant, rank(grant.tier))))
    engine.grants = {}
    engine.wild_grants = {}
    for action, items in by_action.items():
        engine.grants[action], engine.wild_grants[action] = _slices(items, _GRANT_ORDER)
    # For a request whose category is not given: every grant and guardrail of the action, whatever its category.
    engine.all_grants = {
        action: tuple(sorted((c for _cats, c in items), key=_GRANT_ORDER)) for action, items in by_action.items()
    }


def _index_guards(engine: _Engine, policy: AuthorityPolicy) -> None:
    """Guardrails by action (those for every action join each), then by category."""
    every = [(g.when.categories, _CGuard(g)) for g in policy.guardrails if not g.actions]
    guard_actions: dict[str, list[tuple[frozenset[str], _CGuard]]] = {}
    for guardrail in policy.guardrails:
        for action in guardrail.actions:
            guard_actions.setdefault(action, []).append((guardrail.when.categories, _CGuard(guardrail)))
    engine.guards = {action: _slices([*items, *every], _GUARD_ORDER) for action, items in guard_actions.items()}
    engine.guards_any = _slices(every, _GUARD_ORDER)
    engine.all_guards = {
        action: tuple(sorted((c for _cats, c in [*items, *every]), key=_GUARD_ORDER))
        for action, items in guard_actions.items()
    }
    engine.all_guards_any = tuple(sorted((c for _cats, c in every), key=_GUARD_ORDER))


def _index_plain(engine: _Engine) -> None:
    """Judge every plain slice in advance (see `_Bands`)."""
    engine.plain = {}
    names = engine.names
    for action in sorted(set(engine.grants) | set(engine.guards)):
        if action == _DEPARTMENT_INSTRUCTION:
            continue
        grant_table, grant_wild = engine.grants.get(action, {}), engine.wild_grants.get(action, ())
        guard_table, guard_wild = engine.guards.get(action) or engine.guards_any
        gap = _gap_reason(action, names[-1])
        engine.plain[action] = (
            {
                cat: _plain_slices(grant_table.get(cat, grant_wild), guard_table.get(cat, guard_wild), names, gap)
                for cat in set(grant_table) | set(guard_table)
            },
            _plain_slices(grant_wild, guard_wild, names, gap),
        )


def _index_delegations(engine: _Engine, policy: AuthorityPolicy, rank: Callable[[str], int]) -> None:
    """Delegations by the person they lend authority to, highest tier first, with their reasons ready."""
    delegations: dict[str, list[tuple[int, Delegation, Reason, Reason]]] = {}
    for delegation in policy.delegations:
        until = delegation.valid_until.isoformat()
        delegations.setdefault(delegation.to, []).append(
            (
                rank(delegation.tier),
                delegation,
                _reason(
                    "delegation.active",
                    f"{delegation.to} acts as {delegation.tier} by delegation until {until}",
                    delegation.id,
                ),
                _reason(
                    "delegation.active",
                    f"approver {delegation.to} acts as {delegation.tier} by delegation",
                    delegation.id,
                ),
            )
        )
    engine.delegations = {
        person: tuple(sorted(items, key=lambda i: (-i[0], i[1].id))) for person, items in delegations.items()
    }
