"""Compilation: grants and guardrails prepared once, when the policy is built, with every reason ready."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from servicetriage.authority._common import _FACT_CATEGORY, _FACT_CHANNEL, _FACT_CUSTOMER_TIER, _period, _reason
from servicetriage.authority._policy import Grant, Guardrail
from servicetriage.authority._request import Outcome
from servicetriage.model import (
    ActionKind,
    ObligationKind,
    Reason,
)

# Enum members read through the class cost a lookup each; the hot path uses these.
_ALLOWED = Outcome.ALLOWED
_NEEDS_APPROVAL = Outcome.NEEDS_APPROVAL
_FORBIDDEN = Outcome.FORBIDDEN
_NEEDS_INFO = Outcome.NEEDS_INFO
_CALL_BACK = ObligationKind.CALL_BACK
_REPORT_UPWARD = ObligationKind.REPORT_UPWARD
_FILE_SUMMARY = ObligationKind.FILE_SUMMARY
_NOTIFY_DEPARTMENT = ObligationKind.NOTIFY_DEPARTMENT
_DEPARTMENT_INSTRUCTION = ActionKind.DEPARTMENT_INSTRUCTION.value
_ASK_APPROVAL = "ask for approval of the request"
_CALL_BACK_NOTE = "we will discuss internally and call you back"
_Q1_REPORT_NOTE = "report the deviation and its progress"
_SUMMARY_NOTE = "post-incident summary of the deviation"
_CUSTOMER = "customer"
_ZERO = Decimal(0)
_NEEDS_QUADRANT = "triage.quadrant"
_NEEDS_AMOUNT = "amount"
_NEEDS_DEPARTMENT = "department"
_NEEDS_USAGE = "usage"
_NEEDS_USAGE_AMOUNT = "usage.amount"
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
_FALLBACK_REASON = _reason(
    "fallback.delegated_authority",
    "no contingency plan matches this Q1 case: frontline staff act under delegated deviation authority",
    None,
)
_DEPARTMENT_REASON = _reason(
    "request.needs_info", "an instruction to another department must name the department", None
)


def _gap_reason(action: str, top: str) -> Reason:
    return _reason(
        "authority.gap", f"no tier holds a grant for {action} here: it goes to the top tier", None, {"tier": top}
    )


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
