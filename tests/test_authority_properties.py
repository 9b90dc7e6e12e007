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

from servicetriage.authority import AuthorityPolicy, Decision, Grant, Guardrail, Request
from servicetriage.model import Money, ObligationKind

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
    quadrant = request.triage.quadrant.name if request.triage is not None else None
    reasons: list[tuple[str, str | None]] = []

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
    if approver is not None:
        if approver.id == request.actor.id and policy.separation_of_duties:
            forbid = SOD
            reasons.append(("guardrail.separation_of_duties", SOD))
        else:
            approver_rank, approver_delegation = effective(approver.id, approver.tier)
            if approver_delegation is not None:
                reasons.append(("delegation.active", approver_delegation))
            authority = max(own, approver_rank)

    missing: set[str] = set()
    for guard in sorted(policy.guardrails, key=lambda g: g.id):
        if not _guard_in_scope(guard, action, ticket.category):
            continue
        when = guard.when
        if when.quadrants and quadrant is not None and quadrant not in when.quadrants:
            continue
        if when.customer_tiers and ticket.customer.tier not in when.customer_tiers:
            continue
        if when.channels and ticket.channel not in when.channels:
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
        if grant.action != action or (grant.when.categories and ticket.category not in grant.when.categories):
            continue
        g_rank = rank(grant.tier)
        when, limits = grant.when, grant.limits
        needs = []
        if when.quadrants:
            if quadrant is None:
                needs.append("triage.quadrant")
            elif quadrant not in when.quadrants:
                reasons.append(("grant.condition", grant.id))
                continue
        if (when.customer_tiers and ticket.customer.tier not in when.customer_tiers) or (
            when.channels and ticket.channel not in when.channels
        ):
            reasons.append(("grant.condition", grant.id))
            continue
        if limits.max_count_per_ticket is not None:
            used_here = [u for u in request.usage if u.action == action and u.ticket_id == ticket.id]
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
                rooms = []
                if limits.max_amount is not None:
                    rooms.append(limits.max_amount.amount)
                if limits.max_total_per_customer is not None:
                    used = _used(request, limits.currency, limits.period, now)
                    if used is None:
                        reasons.append(("grant.limit", grant.id))
                        continue
                    rooms.append(limits.max_total_per_customer.amount - used)
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
        missing_out = tuple(sorted(missing))
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


def _guard_in_scope(guard: Guardrail, action: str, category: str) -> bool:
    return (not guard.actions or action in guard.actions) and (
        not guard.when.categories or category in guard.when.categories
    )


def _used(request: Request, currency: str, period: Any, now: datetime) -> Decimal | None:
    total = Decimal(0)
    for usage in request.usage:
        if usage.action != request.action or usage.amount is None:
            continue
        if not (now - period < usage.at <= now):
            continue
        if usage.customer_id is not None and usage.customer_id != request.ticket.customer.id:
            continue
        if usage.amount.currency != currency:
            return None
        total += usage.amount.amount
    return total


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


import pickle  # noqa: E402
from datetime import timedelta  # noqa: E402

import attrs  # noqa: E402
import pytest  # noqa: E402
from hypothesis import Phase, find, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from servicetriage import config  # noqa: E402
from servicetriage import strategies as sts  # noqa: E402
from servicetriage.authority import Actor, Conditions, Outcome, authorize  # noqa: E402
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
    object.__setattr__(compiled, "_plain", {})
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
    assert authorize(request, shuffled, NOW) == authorize(request, policy, NOW)


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
