"""Evaluation: a decision reads one slice of the compiled tables and picks prepared reasons.

`_Engine.decide` follows the precedence `authorize` documents: guardrails
first (any match forbids, any that cannot be judged fails closed), then the
grants from the lowest tier up. A request on a plain slice (amount limits
only) is decided from the band its amount falls in (`_decide_plain`).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from servicetriage.authority._common import (
    _DEFAULT_CATEGORY,
    _DEFAULT_CHANNEL,
    _DEFAULT_CUSTOMER_TIER,
    _FACT_CATEGORY,
    _FACT_CHANNEL,
    _FACT_CUSTOMER_TIER,
    _NEEDS_AMOUNT,
    _NEEDS_DEPARTMENT,
    _NEEDS_QUADRANT,
    _NEEDS_USAGE,
    _NEEDS_USAGE_AMOUNT,
    _reason,
)
from servicetriage.authority._fast import _NO_EVIDENCE, _fast_decision, _fast_money, _fast_obligation, _fast_reason
from servicetriage.authority._request import Actor, Decision, Outcome, Request, Usage
from servicetriage.errors import TicketError
from servicetriage.model import ActionKind, Money, Obligation, ObligationKind, Reason, require_aware

if TYPE_CHECKING:
    from servicetriage.authority._compile import _Bands, _CGrant, _CGuard
    from servicetriage.authority._policy import Delegation

_SOD = "separation_of_duties"


def _self_approval_reason(actor_id: str, outcome: Outcome, lowest: str | None, names: tuple[str, ...]) -> Reason:
    """Why a requester's own approval was set aside, and who may approve instead."""
    message = f"{actor_id} may not approve their own request"
    if outcome is Outcome.NEEDS_APPROVAL and lowest is not None:
        may = ", ".join(names[names.index(lowest) :])
        message += f"; another approver may: {may}"
    elif outcome is Outcome.ALLOWED:
        message += "; their own authority is enough"
    return _fast_reason("guardrail.separation_of_duties", message, _SOD, _NO_EVIDENCE)


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


class _Engine:
    """The tables a decision reads, and the decision itself.

    `CompiledPolicy` fills the tables once, when the policy is built; a
    decision reads one slice of them (see `_compile`) and builds its result
    with the constructors of `_fast`.
    """

    __slots__ = (
        "all_grants",
        "all_guards",
        "all_guards_any",
        "call_back",
        "content_hash",
        "delegations",
        "grants",
        "guards",
        "guards_any",
        "names",
        "plain",
        "q1_report",
        "ranks",
        "report_upward",
        "sod",
        "summary",
        "wild_grants",
        "work_order",
    )

    names: tuple[str, ...]
    ranks: dict[str, int]
    sod: bool
    call_back: timedelta
    report_upward: timedelta
    q1_report: timedelta
    summary: timedelta
    work_order: timedelta
    grants: dict[str, dict[str, tuple[_CGrant, ...]]]
    wild_grants: dict[str, tuple[_CGrant, ...]]
    guards: dict[str, tuple[dict[str, tuple[_CGuard, ...]], tuple[_CGuard, ...]]]
    guards_any: tuple[dict[str, tuple[_CGuard, ...]], tuple[_CGuard, ...]]
    all_grants: dict[str, tuple[_CGrant, ...]]
    all_guards: dict[str, tuple[_CGuard, ...]]
    all_guards_any: tuple[_CGuard, ...]
    plain: dict[str, tuple[dict[str, _Bands | None], _Bands | None]]
    delegations: dict[str, tuple[tuple[int, Delegation, Reason, Reason], ...]]
    content_hash: str

    def _rank(self, actor: Actor, field: str) -> int:
        rank = self.ranks.get(actor.tier)
        if rank is None:
            msg = f"{field}.tier: expected one of {', '.join(self.names)}, got {actor.tier!r}"
            raise TicketError(msg)
        return rank

    def _delegated(
        self, person: str, rank: int, action: str, now: datetime
    ) -> tuple[int, Delegation, Reason, Reason] | None:
        """The highest delegation lending *person* more than *rank* for *action* at *now*, if any."""
        for item in self.delegations.get(person, ()):
            if item[0] > rank and item[1].active(now, action):
                return item
        return None

    def decide(self, request: Request, now: datetime) -> Decision:
        """Decide *request* at *now*; see `authorize`."""
        if now.utcoffset() is None:
            require_aware("now", now)
        action = request.action
        ticket = request.ticket
        category = ticket.category
        actor = request.actor
        names = self.names
        rank = self.ranks.get(actor.tier)
        if rank is None:
            rank = self._rank(actor, "request.actor")
        reasons: list[Reason] = []
        delegation_id: str | None = None
        if self.delegations:
            lent = self._delegated(actor.id, rank, action, now)
            if lent is not None:
                rank, delegation_id = lent[0], lent[1].id
                reasons.append(lent[2])
        approver = request.approver
        authority = rank
        forbidding: str | None = None
        # Separation of duties: a requester's own approval does not count. The request is judged on the
        # requester's authority alone and, when that is not enough, asks another approver (NEEDS_APPROVAL).
        self_approved = approver is not None and approver.id == actor.id and self.sod
        if self_approved:
            approver = None
        if approver is not None:
            approver_rank = self._rank(approver, "request.approver")
            if self.delegations:
                lent = self._delegated(approver.id, approver_rank, action, now)
                if lent is not None:
                    approver_rank = lent[0]
                    reasons.append(lent[3])
            authority = max(authority, approver_rank)
        triage = request.triage
        quadrant = triage.quadrant._name_ if triage is not None else None
        amount = request.amount
        given = request.given
        # A category equal to the model's default may stand for "not given": then every grant and guardrail
        # of the action is a candidate, and those with a category condition cannot be judged.
        category_known = category != _DEFAULT_CATEGORY or _FACT_CATEGORY in given
        plain = self.plain.get(action)
        if (
            approver is None
            and not self_approved
            and amount is not None
            and plain is not None
            and (category_known or not plain[0])
        ):
            bands = plain[0].get(category, plain[1])
            if bands is not None:
                if bands.currency != amount.currency:
                    bands = bands.others.get(amount.currency) if bands.others is not None else None
                if bands is not None:
                    return self._decide_plain(request, now, rank, delegation_id, reasons, bands)
        customer = ticket.customer
        channel = ticket.channel
        customer_tier = customer.tier
        channel_known = channel is not _DEFAULT_CHANNEL or _FACT_CHANNEL in given
        tier_known = customer_tier is not _DEFAULT_CUSTOMER_TIER or _FACT_CUSTOMER_TIER in given
        usage = request.usage
        missing: set[str] | None = None

        # Guardrails: any match forbids; any that cannot be judged fails closed.
        if category_known:
            guard_table, guard_wild = self.guards.get(action) or self.guards_any
            guard_candidates = guard_table.get(category, guard_wild)
        else:
            guard_candidates = self.all_guards.get(action, self.all_guards_any)
        for guard in guard_candidates:
            lacking: list[str] | None = None
            if guard.quadrants is not None:
                if quadrant is None:
                    lacking = [_NEEDS_QUADRANT]
                elif quadrant not in guard.quadrants:
                    continue
            if guard.categories is not None and not category_known:
                lacking = [*lacking, _FACT_CATEGORY] if lacking else [_FACT_CATEGORY]
            if guard.customer_tiers is not None:
                if not tier_known:
                    lacking = [*lacking, _FACT_CUSTOMER_TIER] if lacking else [_FACT_CUSTOMER_TIER]
                elif customer_tier not in guard.customer_tiers:
                    continue
            if guard.channels is not None:
                if not channel_known:
                    lacking = [*lacking, _FACT_CHANNEL] if lacking else [_FACT_CHANNEL]
                elif channel not in guard.channels:
                    continue
            key = "match"
            if guard.above is not None:
                if amount is None:
                    lacking = [*lacking, _NEEDS_AMOUNT] if lacking else [_NEEDS_AMOUNT]
                elif amount.currency != guard.currency:
                    key = "currency"
                elif amount.amount <= guard.above:
                    continue
            if lacking is not None:
                if missing is None:
                    missing = set()
                missing.update(lacking)
                reasons.append(guard.needs(lacking))
                continue
            if forbidding is None:
                forbidding = guard.id
            reasons.append(guard.reasons[key])

        if action == _DEPARTMENT_INSTRUCTION and not request.department:
            if missing is None:
                missing = set()
            missing.add(_NEEDS_DEPARTMENT)
            reasons.append(_DEPARTMENT_REASON)

        # Grants: the lowest satisfied tier, the lowest tier that needs more facts.
        satisfied_rank: int | None = None
        unknown_rank: int | None = None
        grant_missing: list[tuple[int, str]] = []
        determining: list[_CGrant] = []
        best_left: Decimal | None = None
        unlimited = False
        allowance: Decimal | None = None
        count_used: int | None = None
        totals: dict[tuple[str, timedelta], tuple[Decimal, str | None] | None] | None = None
        if category_known:
            table = self.grants.get(action)
            candidates = () if table is None else table.get(category, self.wild_grants[action])
        else:
            candidates = self.all_grants.get(action, ())
        if amount is not None:
            amt: Decimal | None = amount.amount
            cur: str | None = amount.currency
        else:
            amt = cur = None
        for grant in candidates:
            r = grant.reasons
            needs: list[str] | None = None
            limit_left: Decimal | None = None
            if not category_known and grant.categories is not None:
                needs = [_FACT_CATEGORY]
            if grant.plain:
                # Only an amount per request (or no limit at all): the common case.
                limit_left = grant.max_amount
                if limit_left is not None:
                    if amt is None:
                        needs = [*needs, _NEEDS_AMOUNT] if needs else _ONLY_AMOUNT
                    elif cur != grant.currency:
                        reasons.append(r["currency"])
                        continue
                    else:
                        if grant.rank <= rank and (allowance is None or limit_left > allowance):
                            allowance = limit_left
                        if amt > limit_left:
                            reasons.append(r["amount"])
                            continue
            else:
                if grant.quadrants is not None:
                    if quadrant is None:
                        needs = [*needs, _NEEDS_QUADRANT] if needs else [_NEEDS_QUADRANT]
                    elif quadrant not in grant.quadrants:
                        reasons.append(r["quadrant"])
                        continue
                if grant.customer_tiers is not None:
                    if not tier_known:
                        needs = [*needs, _FACT_CUSTOMER_TIER] if needs else [_FACT_CUSTOMER_TIER]
                    elif customer_tier not in grant.customer_tiers:
                        reasons.append(r["customer_tier"])
                        continue
                if grant.channels is not None:
                    if not channel_known:
                        needs = [*needs, _FACT_CHANNEL] if needs else [_FACT_CHANNEL]
                    elif channel not in grant.channels:
                        reasons.append(r["channel"])
                        continue
                if grant.count_max is not None:
                    if usage is None:
                        needs = [*needs, _NEEDS_USAGE] if needs else [_NEEDS_USAGE]
                    else:
                        if count_used is None:
                            ticket_id = ticket.id
                            count_used = sum(
                                1 for u in usage if u.action == action and u.ticket_id in (ticket_id, None)
                            )
                        if count_used + 1 > grant.count_max:
                            reasons.append(r["count"])
                            continue
                if grant.currency is not None:
                    if amt is None:
                        needs = [*needs, _NEEDS_AMOUNT] if needs else _ONLY_AMOUNT
                    elif cur != grant.currency:
                        reasons.append(r["currency"])
                        continue
                    else:
                        limit_left = grant.max_amount
                        over_max = limit_left is not None and amt > limit_left
                        room_known = True
                        if grant.total_max is not None:
                            assert grant.period is not None
                            if usage is None:
                                used: tuple[Decimal, str | None] | None = _NO_USAGE
                            else:
                                tkey = (grant.currency, grant.period)
                                if totals is None:
                                    totals = {}
                                if tkey not in totals:
                                    totals[tkey] = _used(usage, action, customer.id, grant.currency, grant.period, now)
                                used = totals[tkey]
                            if used is None:
                                reasons.append(r["mixed"])
                                continue
                            known, lacking_usage = used
                            room = grant.total_max - known
                            if lacking_usage is not None:
                                # What is missing only adds to the total (amounts are never negative): an amount
                                # over the limit already is decided without it.
                                if over_max or amt > room:
                                    reasons.append(r["amount"] if over_max else r["total"])
                                    continue
                                needs = [*needs, lacking_usage] if needs else [lacking_usage]
                                room_known = False
                            else:
                                limit_left = room if limit_left is None else min(limit_left, room)
                        if room_known:
                            assert limit_left is not None
                            if grant.rank <= rank and (allowance is None or limit_left > allowance):
                                allowance = limit_left
                            if amt > limit_left:
                                reasons.append(r["amount"] if over_max else r["total"])
                                continue
            if needs:
                reasons.append(r[f"needs:{needs[0]}"])
                grant_missing.extend((grant.rank, name) for name in needs)
                if unknown_rank is None:
                    unknown_rank = grant.rank
                continue
            reasons.append(r["ok"])
            if satisfied_rank is None:
                satisfied_rank = grant.rank
            if grant.rank <= authority:
                if grant.rules:
                    determining.append(grant)
                if limit_left is None:
                    unlimited = True
                elif amt is not None:
                    left = limit_left - amt
                    if best_left is None or left > best_left:
                        best_left = left
        lowest: str | None = None
        headroom: Money | None = None
        missing_out: tuple[str, ...] = ()
        obligations: tuple[Obligation, ...]
        if forbidding is not None:
            outcome = _FORBIDDEN
            obligations = (_fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        elif missing:
            # Ask for everything at once: the guardrails' facts and those a grant below any satisfied one needs.
            outcome = _NEEDS_INFO
            if grant_missing:
                bound = satisfied_rank if satisfied_rank is not None else len(names)
                missing.update(name for grank, name in grant_missing if grank < bound)
            missing_out = tuple(sorted(missing))
            obligations = (_fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        elif satisfied_rank is not None and satisfied_rank <= authority:
            outcome = _ALLOWED
            lowest = names[satisfied_rank]
            if not unlimited and best_left is not None and cur is not None:
                headroom = _fast_money(best_left, cur)
            allowed = [
                _fast_obligation(kind, now + within, to, note, grant_id)
                for grant in determining
                for kind, within, to, note, grant_id in grant.rules
            ]
            if approver is not None and authority > rank:
                reasons.append(_fast_reason("approval.granted", f"approved by {approver.id}", None, _NO_EVIDENCE))
            if action == _DEPARTMENT_INSTRUCTION and request.department:
                allowed.append(
                    _fast_obligation(
                        _NOTIFY_DEPARTMENT,
                        now + self.work_order,
                        request.department,
                        f"work order for ticket {ticket.id}",
                        None,
                    )
                )
            if quadrant == "Q1" and request.playbook is None:
                above = names[rank + 1] if rank + 1 < len(names) else names[-1]
                allowed.append(_fast_obligation(_REPORT_UPWARD, now + self.q1_report, above, _Q1_REPORT_NOTE, None))
                allowed.append(_fast_obligation(_FILE_SUMMARY, now + self.summary, above, _SUMMARY_NOTE, None))
            obligations = _merge(allowed) if len(allowed) > 1 else tuple(allowed)
        elif unknown_rank is not None and (satisfied_rank is None or unknown_rank < satisfied_rank):
            outcome = _NEEDS_INFO
            bound = satisfied_rank if satisfied_rank is not None else len(names)
            missing_out = tuple(sorted({name for grank, name in grant_missing if grank < bound}))
            obligations = (_fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        else:
            outcome = _NEEDS_APPROVAL
            if satisfied_rank is None:
                lowest = names[-1]
                reasons.append(_gap_reason(action, lowest))
            else:
                lowest = names[satisfied_rank]
            if cur is not None:
                headroom = _fast_money(allowance if allowance is not None and allowance >= _ZERO else _ZERO, cur)
            obligations = (
                _fast_obligation(_REPORT_UPWARD, now + self.report_upward, lowest, _ASK_APPROVAL, None),
                _fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),
            )
        if self_approved:
            reasons.append(_self_approval_reason(actor.id, outcome, lowest, names))
        if quadrant == "Q1" and request.playbook is None:
            reasons.append(_FALLBACK_REASON)
        return _fast_decision(
            outcome,
            action,
            actor.id,
            names[rank],
            lowest,
            headroom,
            forbidding,
            missing_out,
            delegation_id,
            tuple(reasons),
            obligations,
            self.content_hash,
        )

    def _decide_plain(  # noqa: PLR0917
        self,
        request: Request,
        now: datetime,
        rank: int,
        delegation_id: str | None,
        reasons: list[Reason],
        bands: _Bands,
    ) -> Decision:
        """Decide a request on a plain slice from the band its amount falls in (see `_Bands`)."""
        amount = request.amount
        assert amount is not None
        amt = amount.amount
        outcome, lowest, forbidding, shown, limit, rules = bands.table[
            bisect_left(bands.thresholds, amt) * bands.ranks + rank
        ]
        triage = request.triage
        fallback = triage is not None and triage.quadrant._name_ == "Q1" and request.playbook is None
        headroom: Money | None = None
        obligations: tuple[Obligation, ...]
        if outcome is _ALLOWED:
            if limit is not None:
                headroom = _fast_money(limit - amt, amount.currency)
            if rules or fallback:
                allowed = [_fast_obligation(kind, now + within, to, note, rid) for kind, within, to, note, rid in rules]
                if fallback:
                    names = self.names
                    above = names[rank + 1] if rank + 1 < len(names) else names[-1]
                    allowed.append(_fast_obligation(_REPORT_UPWARD, now + self.q1_report, above, _Q1_REPORT_NOTE, None))
                    allowed.append(_fast_obligation(_FILE_SUMMARY, now + self.summary, above, _SUMMARY_NOTE, None))
                obligations = _merge(allowed) if len(allowed) > 1 else tuple(allowed)
            else:
                obligations = ()
        elif outcome is _NEEDS_APPROVAL:
            assert lowest is not None
            assert limit is not None
            headroom = _fast_money(limit, amount.currency)
            obligations = (
                _fast_obligation(_REPORT_UPWARD, now + self.report_upward, lowest, _ASK_APPROVAL, None),
                _fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),
            )
        else:
            obligations = (_fast_obligation(_CALL_BACK, now + self.call_back, _CUSTOMER, _CALL_BACK_NOTE, None),)
        if reasons or fallback:
            reasons.extend(shown)
            if fallback:
                reasons.append(_FALLBACK_REASON)
            shown = tuple(reasons)
        return _fast_decision(
            outcome,
            request.action,
            request.actor.id,
            self.names[rank],
            lowest,
            headroom,
            forbidding,
            (),
            delegation_id,
            shown,
            obligations,
            self.content_hash,
        )


_ONLY_AMOUNT = [_NEEDS_AMOUNT]
_NO_USAGE: tuple[Decimal, str | None] = (_ZERO, _NEEDS_USAGE)


def _used(  # noqa: PLR0917
    usage: tuple[Usage, ...], action: str, customer_id: str, currency: str, period: timedelta, now: datetime
) -> tuple[Decimal, str | None] | None:
    """Add up *action* already granted to the customer within *period* before *now*.

    The total of the amounts known, and ``"usage.amount"`` if a record that counts has no amount (else
    None): the true total is at least the known one. None if currencies mix.
    """
    try:
        start = now - period
    except OverflowError:  # a period reaching before year 1 covers every record
        start = datetime.min.replace(tzinfo=now.tzinfo)
    total = Decimal(0)
    lacking = False
    for item in usage:
        if item.action != action or not (start < item.at <= now):
            continue
        if item.customer_id is not None and item.customer_id != customer_id:
            continue
        if item.amount is None:
            lacking = True
            continue
        if item.amount.currency != currency:
            return None
        total += item.amount.amount
    return total, (_NEEDS_USAGE_AMOUNT if lacking else None)


def _merge(obligations: list[Obligation]) -> tuple[Obligation, ...]:
    """Merge duplicates (same kind, recipient and note), keeping the earliest deadline in the first one's place."""
    merged: dict[tuple[ObligationKind, str, str], Obligation] = {}
    for obligation in obligations:
        key = (obligation.kind, obligation.to, obligation.note)
        seen = merged.get(key)
        if seen is None or obligation.due < seen.due:
            merged[key] = obligation
    return tuple(merged.values())
