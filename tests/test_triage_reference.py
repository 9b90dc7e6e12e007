"""The compiled classifier agrees with a rule-by-rule reference evaluator written for clarity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.model import Channel, Flag, Mark, Quadrant, Ticket
from servicetriage.signals import add_time, effective_pauses, elapsed_time, extend_due
from servicetriage.signals.lexicon import LexiconDetector, concepts
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy, classify
from servicetriage.triage._policy import _lexicon_settings


def field_value(ticket: Ticket, field: str) -> Any:
    if field.startswith("attributes."):
        return ticket.attributes.get(field.removeprefix("attributes."))
    if field.startswith("money_at_stake."):
        money = ticket.money_at_stake
        return None if money is None else getattr(money, field.removeprefix("money_at_stake."))
    value: Any = ticket
    for part in field.split("."):
        value = getattr(value, part)
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def holds(condition: Any, ticket: Ticket) -> bool:
    value = field_value(ticket, condition.field)
    if value is None:
        return False
    if condition.equals is not None:
        return bool(as_text(value) == condition.equals)
    if condition.one_of is not None:
        return bool(as_text(value) in condition.one_of)
    if condition.contains is not None:
        if isinstance(value, frozenset):
            return bool(condition.contains in {as_text(v) for v in value})
        return bool(condition.contains.lower() in as_text(value).lower())
    try:
        return bool(float(value) >= condition.at_least)
    except (TypeError, ValueError):
        return False


def reference(ticket: Ticket, policy: TriagePolicy, now: datetime) -> dict[str, Any]:
    """Apply the documented rules one by one, the slow and obvious way."""
    urgency, importance = policy.urgency, policy.importance
    u = i = 0
    marks: set[Mark] = set()
    codes: list[str] = []
    fired: set[str] = set()
    risk = False
    on = set(policy.signals)
    settings = _lexicon_settings(policy)
    detections = LexiconDetector(settings).detect(ticket) if settings.enabled else ()
    signal_of = {c.id: c.signal for c in concepts().values()}
    found = {signal_of[d.concept] for d in detections}

    def said(kind: str) -> bool:
        return kind in found

    if "safety" in on:
        hits = [Flag.SAFETY in ticket.flags, said("safety")]
        codes += ["signal.safety"] * sum(hits)
        if any(hits):
            fired.add("safety")
            u, i = len(urgency.levels) - 1, len(importance.levels) - 1
            if said("doubt"):
                codes.append("signal.doubt")
                marks.add(Mark.VERIFY_AFTERWARDS)
            attr = policy.doubt_attribute
            if attr is not None and as_text(ticket.attributes.get(attr, "")).lower() in ("true", "yes", "1", "y", "是"):
                codes.append("signal.doubt")
                marks.add(Mark.VERIFY_AFTERWARDS)
    for name, flag, kind, channel in (
        ("police", Flag.POLICE, "police", None),
        ("regulator", Flag.REGULATOR, "regulator", Channel.REGULATOR),
        ("public_exposure", Flag.PUBLIC_EXPOSURE, "public_exposure", Channel.SOCIAL_MEDIA),
        ("discrimination", None, "discrimination", None),
        ("anger", None, "anger", None),
    ):
        if name not in on:
            continue
        flagged = flag is not None and flag in ticket.flags
        hits = [flagged, channel is not None and ticket.channel is channel, said(kind)]
        codes += [f"signal.{name}"] * sum(hits)
        if any(hits):
            fired.add(name)
            setting = getattr(policy, name)
            if setting.urgency is not None:
                u = max(u, urgency.rank(setting.urgency))
            if setting.importance is not None:
                i = max(i, importance.rank(setting.importance))
            risk = risk or name in {"regulator", "public_exposure", "discrimination"}
    pauses = effective_pauses(ticket.pauses, now)
    due = extend_due(ticket.due, ticket.opened_at, pauses, policy.calendar) if ticket.due is not None else None
    if due is not None and ticket.status.is_open and "deadline" in on:
        left = elapsed_time(now, due, (), policy.calendar)
        if left <= timedelta(0):
            fired.add("deadline")
            codes.append("signal.deadline")
            u = max(u, urgency.rank(policy.overdue))
        else:
            matching = [urgency.rank(s.level) for s in policy.deadline if left <= s.within]
            if matching:
                fired.add("deadline")
                codes.append("signal.deadline")
                u = max(u, *matching)
    declared = policy.declared_urgency.get(ticket.declared_urgency.value)
    if "declared_urgency" in on and declared is not None and urgency.rank(declared) > 0:
        fired.add("declared_urgency")
        codes.append("signal.declared_urgency")
        u = max(u, urgency.rank(declared))

    def count_level(steps: Any, count: Any, scale: Any, currency: str | None = None) -> int | None:
        ranks = [
            scale.rank(s.level)
            for s in steps
            if (s.at_least.amount if currency else s.at_least) <= count
            and (currency is None or s.at_least.currency == currency)
        ]
        return max(ranks) if ranks else None

    level = count_level(policy.reach, ticket.customer.reach, importance) if "reach" in on else None
    if level is not None:
        fired.add("reach")
        codes.append("signal.reach")
        i = max(i, level)
    vip = policy.vip.get(ticket.customer.tier.value)
    if "vip" in on and vip is not None and importance.rank(vip) > 0:
        fired.add("vip")
        codes.append("signal.vip")
        i = max(i, importance.rank(vip))
    money = ticket.money_at_stake
    if "money" in on and money is not None:
        level = count_level(policy.money, money.amount, importance, money.currency)
        if level is not None:
            fired.add("money")
            codes.append("signal.money")
            i = max(i, level)
    if "affected" in on and ticket.affected_customers > 1:
        level = count_level(policy.affected, ticket.affected_customers, importance)
        if level is not None:
            fired.add("affected")
            codes.append("signal.affected")
            i = max(i, level)
    if "repeat_contacts" in on and ticket.repeat_contacts:
        level = count_level(policy.repeat_contacts, ticket.repeat_contacts, urgency)
        if level is not None:
            fired.add("repeat_contacts")
            codes.append("signal.repeat_contacts")
            u = max(u, level)
        if ticket.repeat_contacts >= policy.complaint_risk_from:
            fired.add("repeat_contacts")
            codes.append("signal.repeat_contacts")
            risk = True
    for rule in policy.rules:
        if all(holds(c, ticket) for c in rule.when):
            if rule.urgency is not None:
                u = max(u, urgency.rank(rule.urgency))
            if rule.importance is not None:
                i = max(i, importance.rank(rule.importance))
            marks |= rule.marks
            codes.append("rule.custom")
    matrix = policy.matrix
    if "itsm" in on:
        for recorded, names, scale, n in (
            (ticket.impact, policy.itsm.impact, importance, matrix.impacts),
            (ticket.urgency, policy.itsm.urgency, urgency, matrix.urgencies),
        ):
            if names is None:
                threshold = scale.rank(scale.threshold)
                ranks = [len(scale.levels) - 1, threshold] + ([threshold - 1] if n >= 4 and threshold > 0 else [])
                levels = tuple(scale.levels[r] for r in ranks)
            else:
                levels = names
            if recorded is not None and recorded <= len(levels) and levels[recorded - 1]:
                rank = scale.rank(levels[recorded - 1])
                if rank > 0:
                    fired.add("itsm")
                    codes.append("signal.itsm")
                    if scale is importance:
                        i = max(i, rank)
                    else:
                        u = max(u, rank)
    threshold_u, threshold_i = urgency.rank(urgency.threshold), importance.rank(importance.threshold)
    if risk:
        marks.add(Mark.COMPLAINT_RISK)
    if said("deception"):
        marks.add(Mark.POSSIBLY_DECEPTIVE)
        codes.append("rule.possibly_deceptive")
    if u >= threshold_u and i < threshold_i and risk:
        i = threshold_i
        codes.append("rule.complaint_risk")
    quadrant = Quadrant.of(urgent=u >= threshold_u, important=i >= threshold_i)
    if any(set(combo) <= fired for combo in policy.direct_to_top):
        marks.add(Mark.DIRECT_TO_TOP)
        codes.append("rule.direct_to_top")
    if ticket.impact is not None and ticket.urgency is not None:
        priority = matrix.priority(min(ticket.impact, matrix.impacts), min(ticket.urgency, matrix.urgencies))
        codes.append("priority.explicit")
    else:
        n_u, n_i = len(urgency.levels), len(importance.levels)
        impact_level = 1 + ((n_i - 1 - i) * matrix.impacts) // n_i
        urgency_level = 1 + ((n_u - 1 - u) * matrix.urgencies) // n_u
        priority = matrix.priority(impact_level, urgency_level)
        codes.append("priority.matrix")
    if due is None:
        targets = {t.priority: t.within for t in policy.targets}
        if priority in targets:
            due = add_time(ticket.opened_at, targets[priority], pauses, policy.calendar)
    if due is not None and ticket.status.is_open and due <= now:
        marks.add(Mark.OVERDUE)
    return {
        "quadrant": quadrant,
        "priority": priority,
        "urgency": u,
        "importance": i,
        "due": due,
        "marks": frozenset(marks),
        "codes": sorted(codes),
        "signals": frozenset(fired),
        "concepts": frozenset(d.concept for d in detections),
    }


def compiled(ticket: Ticket, policy: TriagePolicy, now: datetime) -> dict[str, Any]:
    result = classify(ticket, policy, now)
    return {
        "quadrant": result.quadrant,
        "priority": result.priority,
        "urgency": result.urgency.rank,
        "importance": result.importance.rank,
        "due": result.due,
        "marks": result.marks,
        "codes": sorted(r.code for r in result.reasons),
        "signals": result.signals,
        "concepts": result.concepts,
    }


_TEXTS = st.lists(
    st.sampled_from(
        ["SOS", "救命", "误报", "报警", "误报警", "police", "12315", "微博", "stranded", "gift card", "firewall",
         "refund", "航班", "代付", "x", "sosa", "mayday", "Notfall", "kein", "not an", "emergency", "報警",
         "助けて", "CFPB", "racist", "unacceptable", "furious", "跟踪", "快递", "Kindle Fire", "TikTok"]
    ),
    max_size=5,
).map(" ".join)  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.just(DEFAULT_POLICY), sts.triage_policies(), sts.triage_policies(calendars=sts.calendars())),
    sts.tickets(max_level=6),
    _TEXTS,
    sts.aware_datetimes(),
)
def test_compiled_classify_equals_the_reference_evaluator(
    policy: TriagePolicy, ticket: Ticket, text: str, now: datetime
) -> None:
    ticket = attrs.evolve(ticket, text=ticket.text + " " + text)
    assert compiled(ticket, policy, now) == reference(ticket, policy, now)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    sts.triage_policies(calendars=sts.calendars(always_open=False)),
    sts.tickets(max_level=6),
    sts.aware_datetimes(),
    st.data(),
)
def test_business_time_deadlines_agree_with_the_reference_at_every_boundary(
    policy: TriagePolicy, ticket: Ticket, now: datetime, data: st.DataObject
) -> None:
    """Due times exactly at, or a microsecond around, a deadline step's end or the next opening classify as measured."""
    calendar = policy.calendar
    assert calendar is not None
    ends = [now, *(calendar.add(now, step.within) for step in policy.deadline)]
    openings = [calendar.add(end, timedelta(microseconds=1)) - timedelta(microseconds=1) for end in ends]
    anchor = data.draw(st.sampled_from(ends + openings), label="anchor")
    due = anchor + timedelta(microseconds=data.draw(st.integers(-1, 1), label="shift"))
    ticket = attrs.evolve(ticket, due=due, opened_at=min(ticket.opened_at, due), pauses=())
    for moment in (now, now):  # the second call reads the engine's cached cutoffs
        assert compiled(ticket, policy, moment) == reference(ticket, policy, moment)
