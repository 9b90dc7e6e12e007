"""A plain reference evaluator for delegated authority, written for clarity, not speed.

It scans every grant and every guardrail of the policy on every request and
follows the rules of ``servicetriage.authority.authorize`` as its docstring
states them. The compiled evaluator must agree with it on every request
(``test_authority_properties.py``).

It returns a projection of the decision: everything but the wording of the
reasons (reasons are compared by code and rule).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from servicetriage.authority import AuthorityPolicy, Decision, Grant, Guardrail, Request
from servicetriage.model import Channel, CustomerTier, Money, ObligationKind

SOD = "separation_of_duties"


def project(decision: Decision) -> dict[str, Any]:
    """The comparable content of a decision."""
    return {
        "outcome": decision.outcome.value,
        "tier": decision.tier,
        "lowest_tier": decision.lowest_tier,
        "headroom": decision.headroom,
        "guardrail": decision.guardrail,
        "missing": decision.missing,
        "delegation": decision.delegation,
        "reasons": [(r.code, r.rule) for r in decision.reasons],
        "obligations": [(o.kind, o.due, o.to, o.rule) for o in decision.obligations],
    }


def reference_authorize(request: Request, policy: AuthorityPolicy, now: datetime) -> dict[str, Any]:
    """Decide *request* by scanning the whole policy; return the projection."""
    names = list(policy.tiers)

    def rank(tier: str) -> int:
        return names.index(tier)

    action = request.action
    ticket = request.ticket
    amount = request.amount
    usage = request.usage
    quadrant = request.triage.quadrant.name if request.triage is not None else None
    reasons: list[tuple[str, str | None]] = []
    # A ticket fact equal to the model's default counts only when the request says it was given.
    category = ticket.category if ticket.category != "general" or "ticket.category" in request.given else None
    channel = ticket.channel if ticket.channel is not Channel.EMAIL or "ticket.channel" in request.given else None
    customer_tier = (
        ticket.customer.tier
        if ticket.customer.tier is not CustomerTier.STANDARD or "ticket.customer.tier" in request.given
        else None
    )

    def effective(person_id: str, tier: str) -> tuple[int, str | None]:
        best_rank, best_id = rank(tier), None
        for d in policy.delegations:
            if d.to != person_id or not (d.valid_from <= now < d.valid_until):
                continue
            if d.actions and action not in d.actions:
                continue
            r = rank(d.tier)
            if r > best_rank or (r == best_rank and best_id is not None and d.id < best_id):
                best_rank, best_id = r, d.id
        return best_rank, best_id

    own, delegation = effective(request.actor.id, request.actor.tier)
    if delegation is not None:
        reasons.append(("delegation.active", delegation))
    authority = own
    forbid: str | None = None
    approver = request.approver
    # A requester's own approval does not count: judged on their authority alone.
    self_approved = approver is not None and approver.id == request.actor.id and policy.separation_of_duties
    if self_approved:
        approver = None
    if approver is not None:
        approver_rank, approver_delegation = effective(approver.id, approver.tier)
        if approver_delegation is not None:
            reasons.append(("delegation.active", approver_delegation))
        authority = max(own, approver_rank)

    missing: set[str] = set()
    for guard in sorted(policy.guardrails, key=lambda g: g.id):
        if not _guard_in_scope(guard, action, category):
            continue
        when = guard.when
        if when.quadrants and quadrant is not None and quadrant not in when.quadrants:
            continue
        if when.customer_tiers and customer_tier is not None and customer_tier not in when.customer_tiers:
            continue
        if when.channels and channel is not None and channel not in when.channels:
            continue
        above = guard.above
        if (
            above is not None
            and amount is not None
            and amount.currency == above.currency
            and amount.amount <= above.amount
        ):
            continue
        needs = []
        if when.quadrants and quadrant is None:
            needs.append("triage.quadrant")
        if when.categories and category is None:
            needs.append("ticket.category")
        if when.customer_tiers and customer_tier is None:
            needs.append("ticket.customer.tier")
        if when.channels and channel is None:
            needs.append("ticket.channel")
        if above is not None and amount is None:
            needs.append("amount")
        if needs:
            missing.update(needs)
            reasons.append(("guardrail.needs_info", guard.id))
            continue
        if forbid is None:
            forbid = guard.id
        mismatch = above is not None and amount is not None and amount.currency != above.currency
        reasons.append(("guardrail.unevaluable" if mismatch else "guardrail.matched", guard.id))

    if action == "department_instruction" and not request.department:
        missing.add("department")
        reasons.append(("request.needs_info", None))

    satisfied: list[tuple[int, Grant, Decimal | None]] = []
    unknown: list[tuple[int, str]] = []
    allowance: Decimal | None = None
    for grant in sorted(policy.grants, key=lambda g: (rank(g.tier), g.id)):
        when, limits = grant.when, grant.limits
        if grant.action != action or (when.categories and category is not None and category not in when.categories):
            continue
        g_rank = rank(grant.tier)
        needs = []
        if when.categories and category is None:
            needs.append("ticket.category")
        if when.quadrants:
            if quadrant is None:
                needs.append("triage.quadrant")
            elif quadrant not in when.quadrants:
                reasons.append(("grant.condition", grant.id))
                continue
        if when.customer_tiers:
            if customer_tier is None:
                needs.append("ticket.customer.tier")
            elif customer_tier not in when.customer_tiers:
                reasons.append(("grant.condition", grant.id))
                continue
        if when.channels:
            if channel is None:
                needs.append("ticket.channel")
            elif channel not in when.channels:
                reasons.append(("grant.condition", grant.id))
                continue
        if limits.max_count_per_ticket is not None:
            if usage is None:
                needs.append("usage")
            else:
                used_here = [u for u in usage if u.action == action and u.ticket_id in (ticket.id, None)]
                if len(used_here) + 1 > limits.max_count_per_ticket:
                    reasons.append(("grant.limit", grant.id))
                    continue
        left: Decimal | None = None
        if limits.currency is not None:
            if amount is None:
                needs.append("amount")
            elif amount.currency != limits.currency:
                reasons.append(("grant.currency", grant.id))
                continue
            else:
                over_max = limits.max_amount is not None and amount.amount > limits.max_amount.amount
                rooms = []
                if limits.max_amount is not None:
                    rooms.append(limits.max_amount.amount)
                known_room = True
                if limits.max_total_per_customer is not None:
                    period = limits.period
                    used = (Decimal(0), "usage") if usage is None else _used(request, limits.currency, period, now)
                    if used is None:
                        reasons.append(("grant.limit", grant.id))
                        continue
                    known, lacking = used
                    room = limits.max_total_per_customer.amount - known
                    # Missing amounts only add to the total: over the limit already is over it whatever they are.
                    if lacking is not None and (over_max or amount.amount > room):
                        reasons.append(("grant.limit", grant.id))
                        continue
                    if lacking is not None:
                        needs.append(lacking)
                        known_room = False
                    else:
                        rooms.append(room)
                if known_room:
                    left = min(rooms)
                    if g_rank <= own and (allowance is None or left > allowance):
                        allowance = left
                    if amount.amount > left:
                        reasons.append(("grant.limit", grant.id))
                        continue
        if needs:
            reasons.append(("grant.needs_info", grant.id))
            unknown.extend((g_rank, name) for name in needs)
            continue
        reasons.append(("grant.satisfied", grant.id))
        satisfied.append((g_rank, grant, left))

    lowest_satisfied = min((r for r, _g, _l in satisfied), default=None)
    lowest_unknown = min((r for r, _n in unknown), default=None)
    deadlines = policy.deadlines
    obligations: list[tuple[ObligationKind, datetime, str, str, str | None]] = []
    lowest_tier: str | None = None
    headroom: Money | None = None
    missing_out: tuple[str, ...] = ()
    if forbid is not None:
        outcome = "forbidden"
    elif missing:
        outcome = "needs_info"
        bound = lowest_satisfied if lowest_satisfied is not None else len(names)
        missing_out = tuple(sorted(missing | {name for r, name in unknown if r < bound}))
    elif lowest_satisfied is not None and lowest_satisfied <= authority:
        outcome = "allowed"
        lowest_tier = names[lowest_satisfied]
        determining = [(g, left) for r, g, left in satisfied if r <= authority]
        if amount is not None and all(left is not None for _g, left in determining):
            headroom = Money(max(left - amount.amount for _g, left in determining if left is not None), amount.currency)
        for grant, _left in determining:
            obligations.extend(
                (rule.kind, now + rule.within, rule.to, rule.note, grant.id) for rule in grant.obligations
            )
        if approver is not None and authority > own:
            reasons.append(("approval.granted", None))
        if action == "department_instruction" and request.department:
            obligations.append(
                (ObligationKind.NOTIFY_DEPARTMENT, now + deadlines.work_order_within, request.department, "", None)
            )
    elif lowest_unknown is not None and (lowest_satisfied is None or lowest_unknown < lowest_satisfied):
        outcome = "needs_info"
        bound = lowest_satisfied if lowest_satisfied is not None else len(names)
        missing_out = tuple(sorted({name for r, name in unknown if r < bound}))
    else:
        outcome = "needs_approval"
        if lowest_satisfied is None:
            lowest_tier = names[-1]
            reasons.append(("authority.gap", None))
        else:
            lowest_tier = names[lowest_satisfied]
        if amount is not None:
            headroom = Money(max(allowance, Decimal(0)) if allowance is not None else Decimal(0), amount.currency)
        obligations.append((ObligationKind.REPORT_UPWARD, now + deadlines.report_upward_within, lowest_tier, "", None))
    if outcome != "allowed":
        obligations.append((ObligationKind.CALL_BACK, now + deadlines.call_back_within, "customer", "", None))
    if self_approved:
        reasons.append(("guardrail.separation_of_duties", SOD))
    if quadrant == "Q1" and request.playbook is None:
        reasons.append(("fallback.delegated_authority", None))
        if outcome == "allowed":
            next_tier = names[min(own + 1, len(names) - 1)]
            obligations.append((ObligationKind.REPORT_UPWARD, now + deadlines.q1_report_within, next_tier, "q1", None))
            obligations.append(
                (ObligationKind.FILE_SUMMARY, now + deadlines.summary_within, next_tier, "summary", None)
            )
    if outcome == "allowed":
        obligations = _merge(obligations)
    return {
        "outcome": outcome,
        "tier": names[own],
        "lowest_tier": lowest_tier,
        "headroom": headroom,
        "guardrail": forbid if outcome == "forbidden" else None,
        "missing": missing_out,
        "delegation": delegation,
        "reasons": reasons,
        "obligations": [(kind, due, to, rule) for kind, due, to, _note, rule in obligations],
    }


def _guard_in_scope(guard: Guardrail, action: str, category: str | None) -> bool:
    """Whether the guardrail may apply: an unknown category (None) keeps every guardrail in scope."""
    return (not guard.actions or action in guard.actions) and (
        not guard.when.categories or category is None or category in guard.when.categories
    )


def _used(request: Request, currency: str, period: Any, now: datetime) -> tuple[Decimal, str | None] | None:
    """The customer's known total in the period and "usage.amount" if an amount is missing; None if currencies mix."""
    assert request.usage is not None
    counted = [
        u
        for u in request.usage
        if u.action == request.action
        and now - period < u.at <= now
        and (u.customer_id is None or u.customer_id == request.ticket.customer.id)
    ]
    if any(u.amount is not None and u.amount.currency != currency for u in counted):
        return None
    known = sum((u.amount.amount for u in counted if u.amount is not None), Decimal(0))
    return known, ("usage.amount" if any(u.amount is None for u in counted) else None)


def _merge(
    obligations: list[tuple[ObligationKind, datetime, str, str, str | None]],
) -> list[tuple[ObligationKind, datetime, str, str, str | None]]:
    """Keep one obligation per (kind, recipient, note): the earliest, at the first one's place."""
    out: list[tuple[ObligationKind, datetime, str, str, str | None]] = []
    for item in obligations:
        kind, due, to, note, _rule = item
        for index, seen in enumerate(out):
            if (seen[0], seen[2], seen[3]) == (kind, to, note):
                if due < seen[1]:
                    out[index] = item
                break
        else:
            out.append(item)
    return out


# --------------------------------------------------------------------------
# Properties


import json  # noqa: E402
import pickle  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import Phase, find, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from servicetriage import config  # noqa: E402
from servicetriage import strategies as sts  # noqa: E402
from servicetriage.authority import TICKET_FACTS, Actor, Conditions, Limits, Outcome, authorize  # noqa: E402
from servicetriage.model import DEFAULT_TIERS  # noqa: E402

NOW = datetime(2026, 5, 1, 9, 0).astimezone()
nows = st.integers(-72 * 60, 72 * 60).map(lambda m: NOW + timedelta(minutes=m))


@given(policy=sts.authority_policies(), request=sts.requests(), now=nows)
def test_compiled_decision_equals_the_reference_scan(policy: AuthorityPolicy, request: Request, now: datetime) -> None:
    decision = authorize(request, policy, now)
    note(decision.explain())
    assert project(decision) == reference_authorize(request, policy, now)


@given(
    policy=sts.authority_policies(currencies=("CNY", "EUR"), max_grants=20),
    request=sts.requests(currencies=("CNY", "EUR")),
)
def test_compiled_equals_reference_with_mixed_currencies(policy: AuthorityPolicy, request: Request) -> None:
    assert project(authorize(request, policy, NOW)) == reference_authorize(request, policy, NOW)


@given(policy=sts.authority_policies(amount_only=True, currencies=("CNY", "EUR")), data=st.data(), now=nows)
def test_compiled_equals_reference_on_policies_that_read_only_category_and_amount(
    policy: AuthorityPolicy, data: st.DataObject, now: datetime
) -> None:
    """Such slices are judged in advance by amount band; the bands must agree with the scan on every edge."""
    request = data.draw(sts.requests(currencies=("CNY", "EUR")))
    edges = [m for g in policy.grants if (m := g.limits.max_amount) is not None]
    edges += [g.above for g in policy.guardrails if g.above is not None]
    if edges and (request.amount is None or data.draw(st.booleans())):
        edge = data.draw(st.sampled_from(edges))
        step = data.draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("-0.01"), Decimal("0.00")]))
        request = attrs.evolve(request, amount=Money(max(edge.amount + step, Decimal(0)), edge.currency))
    if data.draw(st.integers(0, 3)):
        request = attrs.evolve(request, approver=None)
    decision = authorize(request, policy, now)
    note(decision.explain())
    assert project(decision) == reference_authorize(request, policy, now)
    assert decision == _general(request, policy, now)


def _general(request: Request, policy: AuthorityPolicy, now: datetime) -> Decision:
    """Decide without the prepared amount bands, by the general per-grant evaluation."""
    compiled = pickle.loads(pickle.dumps(policy.compiled))
    compiled._engine.plain = {}
    return authorize(request, compiled, now)


@given(request=sts.requests(), now=nows)
def test_empty_policy_never_allows(request: Request, now: datetime) -> None:
    assert authorize(request, AuthorityPolicy(), now).outcome is not Outcome.ALLOWED


@given(policy=sts.authority_policies(), request=sts.requests(), data=st.data())
def test_compiled_equals_reference_on_limit_boundaries(
    policy: AuthorityPolicy, request: Request, data: st.DataObject
) -> None:
    limits = [m for g in policy.grants for m in (g.limits.max_amount, g.limits.max_total_per_customer) if m is not None]
    limits += [g.above for g in policy.guardrails if g.above is not None]
    if not limits:
        return
    edge = data.draw(st.sampled_from(limits))
    step = data.draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("-0.01")]))
    amount = Money(max(edge.amount + step, Decimal(0)), edge.currency)
    at_edge = attrs.evolve(request, amount=amount)
    assert project(authorize(at_edge, policy, NOW)) == reference_authorize(at_edge, policy, NOW)


@given(policy=sts.authority_policies(), request=sts.requests())
def test_a_policy_without_grants_for_the_action_never_allows(policy: AuthorityPolicy, request: Request) -> None:
    stripped = attrs.evolve(policy, grants=tuple(g for g in policy.grants if g.action != request.action))
    assert not authorize(request, stripped, NOW).allowed


@given(policy=sts.authority_policies(), request=sts.requests())
def test_a_guardrail_beats_every_grant(policy: AuthorityPolicy, request: Request) -> None:
    wall = Guardrail(id="zz-wall", actions=frozenset({request.action}), message="never")
    decision = authorize(request, policy.with_guardrail(wall), NOW)
    assert decision.outcome is Outcome.FORBIDDEN
    assert decision.obligations
    assert all(o.due > NOW for o in decision.obligations)


@given(policy=sts.authority_policies(), request=sts.requests(), data=st.data())
def test_a_higher_tier_is_allowed_whatever_a_lower_one_is(
    policy: AuthorityPolicy, request: Request, data: st.DataObject
) -> None:
    if not authorize(request, policy, NOW).allowed:
        return
    rank = DEFAULT_TIERS.index(request.actor.tier)
    higher = data.draw(st.sampled_from(DEFAULT_TIERS[rank:]))
    promoted = attrs.evolve(request, actor=Actor(id=request.actor.id, tier=higher))
    assert authorize(promoted, policy, NOW).allowed


@given(policy=sts.authority_policies(), request=sts.requests(), data=st.data())
def test_a_smaller_amount_is_never_less_allowed(policy: AuthorityPolicy, request: Request, data: st.DataObject) -> None:
    if request.amount is None:
        return
    before = authorize(request, policy, NOW)
    cents = int(request.amount.amount * 100)
    smaller = Money(Decimal(data.draw(st.integers(0, cents))) / 100, request.amount.currency)
    after = authorize(attrs.evolve(request, amount=smaller), policy, NOW)
    if before.allowed:
        assert after.allowed
    if before.outcome is Outcome.NEEDS_APPROVAL and after.outcome is Outcome.NEEDS_APPROVAL:
        assert DEFAULT_TIERS.index(after.lowest_tier) <= DEFAULT_TIERS.index(before.lowest_tier)


@given(policy=sts.authority_policies(), request=sts.requests(), data=st.data())
def test_order_and_duplication_of_rules_do_not_matter(
    policy: AuthorityPolicy, request: Request, data: st.DataObject
) -> None:
    shuffled = attrs.evolve(
        policy,
        grants=tuple(data.draw(st.permutations(policy.grants))),
        guardrails=tuple(data.draw(st.permutations(policy.guardrails))),
    )
    # The same decision; only the stamp differs, as the policy document (its rule order) differs.
    assert attrs.evolve(authorize(request, shuffled, NOW), policy_hash="") == attrs.evolve(
        authorize(request, policy, NOW), policy_hash=""
    )


@given(policy=sts.authority_policies(), request=sts.requests(), now=nows)
def test_every_obligation_falls_due_after_now(policy: AuthorityPolicy, request: Request, now: datetime) -> None:
    decision = authorize(request, policy, now)
    assert all(o.due > now for o in decision.obligations)
    if not decision.allowed:
        assert any(o.kind is ObligationKind.CALL_BACK and o.to == "customer" for o in decision.obligations)


@given(policy=sts.authority_policies(), request=sts.requests())
def test_needs_approval_names_the_lowest_tier_that_is_allowed(policy: AuthorityPolicy, request: Request) -> None:
    plain = attrs.evolve(request, approver=None, actor=Actor(id="nobody", tier=request.actor.tier))
    decision = authorize(plain, policy, NOW)
    if decision.outcome is not Outcome.NEEDS_APPROVAL or any(r.code == "authority.gap" for r in decision.reasons):
        return
    assert decision.lowest_tier is not None
    at_lowest = attrs.evolve(plain, actor=Actor(id="nobody", tier=decision.lowest_tier))
    assert authorize(at_lowest, policy, NOW).allowed
    below = DEFAULT_TIERS[DEFAULT_TIERS.index(decision.lowest_tier) - 1]
    assert not authorize(attrs.evolve(plain, actor=Actor(id="nobody", tier=below)), policy, NOW).allowed


@given(policy=sts.authority_policies(), request=sts.requests())
def test_a_gap_goes_to_the_top_tier_never_to_allowed(policy: AuthorityPolicy, request: Request) -> None:
    decision = authorize(request, policy, NOW)
    if any(r.code == "authority.gap" for r in decision.reasons):
        assert decision.outcome is Outcome.NEEDS_APPROVAL
        assert decision.lowest_tier == DEFAULT_TIERS[-1]


@given(policy=sts.authority_policies())
def test_policies_survive_a_round_trip_through_every_format(policy: AuthorityPolicy) -> None:
    for fmt in ("toml", "json", "yaml"):
        assert config.load(config.dump(policy, fmt), AuthorityPolicy, fmt) == policy


@given(policy=sts.authority_policies(), request=sts.requests())
def test_pickled_policies_decide_the_same(policy: AuthorityPolicy, request: Request) -> None:
    again = pickle.loads(pickle.dumps(policy))
    assert again == policy
    assert authorize(request, again, NOW) == authorize(request, policy, NOW)
    compiled = pickle.loads(pickle.dumps(policy.compiled))
    assert authorize(request, compiled, NOW) == authorize(request, policy, NOW)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_strategies_reach_every_outcome(outcome: Outcome) -> None:
    policy, request = find(
        st.tuples(sts.authority_policies(), sts.requests()),
        lambda pair: authorize(pair[1], pair[0], NOW).outcome is outcome,
        settings=settings(max_examples=2000, phases=[Phase.generate], database=None),
    )
    assert authorize(request, policy, NOW).outcome is outcome


@given(policy=sts.authority_policies(), request=sts.requests(), data=st.data())
def test_a_protected_customer_attribute_never_changes_the_decision(
    policy: AuthorityPolicy, request: Request, data: st.DataObject
) -> None:
    customer = request.ticket.customer
    other = attrs.evolve(
        customer,
        nationality=data.draw(st.none() | st.sampled_from(["CN", "FR", "US"])),
        gender=data.draw(st.none() | st.sampled_from(["female", "male", "other"])),
        age=data.draw(st.none() | st.integers(0, 150)),
    )
    changed = attrs.evolve(request, ticket=attrs.evolve(request.ticket, customer=other))
    assert authorize(changed, policy, NOW) == authorize(request, policy, NOW)


@given(policy=sts.authority_policies(), request=sts.requests(), grant=sts.grants(ids=st.just("zz-added")))
def test_adding_a_grant_never_takes_an_allowed_request_away(
    policy: AuthorityPolicy, request: Request, grant: Grant
) -> None:
    if authorize(request, policy, NOW).allowed:
        assert authorize(request, policy.with_grant(grant), NOW).allowed


@given(policy=sts.authority_policies(), request=sts.requests(), guardrail=sts.guardrails(ids=st.just("zz-added")))
def test_adding_a_guardrail_never_allows_what_was_not_allowed(
    policy: AuthorityPolicy, request: Request, guardrail: Guardrail
) -> None:
    before = authorize(request, policy, NOW)
    after = authorize(request, policy.with_guardrail(guardrail), NOW)
    if not before.allowed:
        assert not after.allowed
    if before.outcome is Outcome.FORBIDDEN:
        assert after.outcome is Outcome.FORBIDDEN


@given(policy=sts.authority_policies(), request=sts.requests())
def test_a_guardrail_that_cannot_be_judged_never_lets_a_request_through(
    policy: AuthorityPolicy, request: Request
) -> None:
    blind = Guardrail(
        id="zz-blind",
        actions=frozenset({request.action}),
        when=Conditions(quadrants={"Q4"}),
        above=Money.parse("0 CNY"),
    )
    unknown = attrs.evolve(request, triage=None, amount=None)
    decision = authorize(unknown, policy.with_guardrail(blind), NOW)
    assert not decision.allowed
    assert decision.outcome in {Outcome.NEEDS_INFO, Outcome.FORBIDDEN}
    if decision.outcome is Outcome.NEEDS_INFO:
        assert {"amount", "triage.quadrant"} <= set(decision.missing)


# --------------------------------------------------------------------------
# Missing facts fail closed


def _without_ticket_fact(request: Request, fact: str) -> Request:
    """*request* as if the ticket fact *fact* had not been given: the model's default, not named in ``given``."""
    ticket = request.ticket
    if fact == "ticket.category":
        ticket = attrs.evolve(ticket, category="general")
    elif fact == "ticket.channel":
        ticket = attrs.evolve(ticket, channel=Channel.EMAIL)
    else:
        ticket = attrs.evolve(ticket, customer=attrs.evolve(ticket.customer, tier=CustomerTier.STANDARD))
    return attrs.evolve(request, ticket=ticket, given=request.given - {fact})


def _removals(request: Request) -> list[tuple[str, Request]]:
    """Every request that lacks one more fact than *request*, named by the fact removed.

    The approver is not a fact: without one the actor acts on their own authority (and the separation of
    duties, which forbids a self-approval, has nothing to judge).
    """
    out = [
        (name, attrs.evolve(request, **{name: None}))  # type: ignore[arg-type]
        for name in ("amount", "triage", "usage", "department", "playbook")
        if getattr(request, name) is not None
    ]
    out.extend((fact, _without_ticket_fact(request, fact)) for fact in sorted(TICKET_FACTS))
    for index, item in enumerate(request.usage or ()):
        for name in ("amount", "ticket_id", "customer_id"):
            if getattr(item, name) is not None:
                usage = list(request.usage or ())
                usage[index] = attrs.evolve(item, **{name: None})  # type: ignore[arg-type]
                out.append((f"usage[{index}].{name}", attrs.evolve(request, usage=tuple(usage))))
    return out


@given(policy=sts.authority_policies(), request=sts.requests(), now=nows)
def test_removing_a_fact_never_turns_a_refusal_into_allowed(
    policy: AuthorityPolicy, request: Request, now: datetime
) -> None:
    if authorize(request, policy, now).allowed:
        return
    for name, fewer in _removals(request):
        after = authorize(fewer, policy, now)
        note(f"without {name}: {after.explain()}")
        assert not after.allowed, name
        assert project(after) == reference_authorize(fewer, policy, now)
    # And all of them at once, one after the other.
    stripped = request
    while True:
        fewer_facts = _removals(stripped)
        changed = [r for name, r in fewer_facts if r != stripped and name != "playbook"]
        if not changed:
            break
        stripped = changed[0]
        assert not authorize(stripped, policy, now).allowed


def _bare_ticket(request: Request) -> Any:
    """The request's ticket with every fact a condition can read set to the model's default."""
    for fact in sorted(TICKET_FACTS):
        request = _without_ticket_fact(request, fact)
    return request.ticket


@given(policy=sts.authority_policies(), request=sts.requests(), now=nows)
def test_a_fact_that_is_not_given_makes_every_condition_on_it_fail_closed(
    policy: AuthorityPolicy, request: Request, now: datetime
) -> None:
    """With every fact removed, a decision is never allowed on a grant or guardrail that reads one."""
    bare = Request(
        actor=request.actor, action=request.action, ticket=_bare_ticket(request), approver=request.approver
    )
    decision = authorize(bare, policy, now)
    assert project(decision) == reference_authorize(bare, policy, now)
    if decision.allowed:
        # Allowed only on a grant that reads none of the missing facts (no condition, no limit).
        satisfied = {r.rule for r in decision.reasons if r.code == "grant.satisfied" and r.rule is not None}
        grants = {g.id: g for g in policy.grants}
        assert any(grants[g].when.unconditional and grants[g].limits == Limits() for g in satisfied)


# A request file: leaving any key out never turns a refusal into allowed.


def _request_file(request: Request) -> dict[str, Any]:
    """*request* as a request file states it: every fact it holds written out, the quadrant for the triage."""
    data: dict[str, Any] = config.unstructure(request)
    data.pop("given", None)
    data.pop("triage", None)
    if request.triage is not None:
        data["quadrant"] = request.triage.quadrant.name
    ticket, known = data["ticket"], request.known_ticket_facts
    if "ticket.category" in known:
        ticket["category"] = request.ticket.category
    if "ticket.channel" in known:
        ticket["channel"] = request.ticket.channel.value
    if "ticket.customer.tier" in known:
        ticket["customer"]["tier"] = request.ticket.customer.tier.value
    return data


def _without_each_key(data: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every copy of *data* with one key (at any depth, inside lists too) left out, named by its path."""
    if isinstance(data, dict):
        for key in data:
            yield f"{path}.{key}", {k: v for k, v in data.items() if k != key}
            for where, inner in _without_each_key(data[key], f"{path}.{key}"):
                yield where, {**data, key: inner}
    elif isinstance(data, list):
        for index, item in enumerate(data):
            for where, inner in _without_each_key(item, f"{path}[{index}]"):
                yield where, [*data[:index], inner, *data[index + 1 :]]


@settings(max_examples=50)
@given(policy=sts.authority_policies(), request=sts.requests(), now=nows)
def test_leaving_a_key_out_of_a_request_file_never_turns_a_refusal_into_allowed(
    policy: AuthorityPolicy, request: Request, now: datetime
) -> None:
    from servicetriage.cli._authority import load_request  # noqa: PLC0415
    from servicetriage.errors import TicketError  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.json"
        data = _request_file(request)
        path.write_text(json.dumps(data))
        loaded = load_request(path)
        assert loaded.known_ticket_facts == request.known_ticket_facts
        if authorize(loaded, policy, now).allowed:
            return
        for where, fewer in _without_each_key(data):
            if where == ".approver":
                # Not a fact: without an approver the actor acts alone, and a self-approval forbidden by the
                # separation of duties is simply not there (see `_removals`).
                continue
            path.write_text(json.dumps(fewer))
            try:
                decision = authorize(load_request(path), policy, now)
            except TicketError:
                continue  # a key the file cannot do without: rejected, never decided
            note(f"without {where}: {decision.explain()}")
            assert not decision.allowed, where
