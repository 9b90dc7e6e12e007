"""Evaluation: the classifier a compiled policy runs for every ticket."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from servicetriage import signals as _signals
from servicetriage.model import (
    FrozenMap,
    Level,
    Reason,
    Ticket,
    Triage,
)
from servicetriage.signals.detectors import Detection, Detector

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from servicetriage.triage._compile import _Engine
from servicetriage.triage._common import (
    _AFFECTED_BIT,
    _DEADLINE_BIT,
    _DECEPTIVE,
    _DECLARED_BIT,
    _EMPTY_SET,
    _ITSM_BIT,
    _MONEY_BIT,
    _OPEN,
    _OVERDUE,
    _REACH_BIT,
    _REPEAT_BIT,
    _REVIEW,
    _RISK,
    _SAFETY_BIT,
    _SIGNAL_NAMES,
    _TOP,
    _VERIFY,
    _VIP_BIT,
    _ZERO,
    _truthy,
)


def _build_classifier(engine: _Engine) -> Callable[[Ticket, datetime], Triage]:
    """Return the classify function of *engine*, its tables bound as closure variables (fast lookups)."""
    affected = engine.affected
    affected_on = engine.affected_on
    calendar = engine.calendar
    complaint_from = engine.complaint_from
    deadline = engine.deadline
    deadline_on = engine.deadline_on
    declared_by_value = engine.declared_by_value
    direct_bits = engine.direct_bits
    direct_reason = engine.direct_reason
    doubt_attr_reason = engine.doubt_attr_reason
    doubt_attribute = engine.doubt_attribute
    explicit = engine.explicit
    i_levels = engine.i_levels
    i_threshold = engine.i_threshold
    i_top = engine.i_top
    concept_signal = engine.concept_signal
    detectors = engine.detectors
    itsm_impact = engine.itsm_impact
    itsm_urgency = engine.itsm_urgency
    signal_sets = engine.signal_sets
    lift_reason = engine.lift_reason
    mapped_rows = tuple(tuple(engine.mapped[(u, i)] for i in range(engine.i_top + 1)) for u in range(engine.u_top + 1))
    mark_sets = engine.mark_sets
    money_table = engine.money
    money_on = engine.money_on
    n_imp = engine.n_imp
    n_urg = engine.n_urg
    overdue_rank = engine.overdue_rank
    overdue_reason = engine.overdue_reason
    stamp = engine.policy.content_hash
    quadrants = engine.quadrants
    raise_bits = engine.raise_bits
    raise_by_channel = engine.raise_by_channel
    raise_by_flag = engine.raise_by_flag
    raise_by_kind = engine.raise_by_kind
    raise_list = engine.raise_list
    raise_risk = engine.raise_risk
    reach = engine.reach
    reach_on = engine.reach_on
    repeat = engine.repeat
    repeat_on = engine.repeat_on
    repeat_risk_reason = engine.repeat_risk_reason
    rule_bits = engine.rule_bits
    safety_flag_reason = engine.safety_flag_reason
    safety_on = engine.safety_on
    targets = engine.targets
    u_levels = engine.u_levels
    u_threshold = engine.u_threshold
    u_top = engine.u_top
    vip_by_value = engine.vip_by_value
    scan = engine.lexicon.scan if engine.lexicon is not None else None

    def classify(ticket: Ticket, now: datetime) -> Triage:
        """Place *ticket* at *now*; see `classify`."""
        u = i = 0
        reasons: list[Reason] = []
        add = reasons.append
        marks = fired = 0
        risk = False

        # Signal concepts: one scan of subject and text, in every language; then any other detectors.
        detections = scan(ticket.subject, ticket.text, ticket.category) if scan is not None else ()
        if detectors:
            detections, failures = _run_detectors(detectors, ticket, detections, concept_signal)
            for reason in failures:
                add(reason)
                marks |= _REVIEW
        found: dict[str, Detection] = {}
        if detections:
            for hit in detections:
                kind = concept_signal[hit.concept]
                if kind not in found:
                    found[kind] = hit
        flag_values = {f._value_ for f in ticket.flags} if ticket.flags else _EMPTY_SET

        if safety_on:
            safety = False
            if "safety" in flag_values:
                safety = True
                add(safety_flag_reason)
            detection = found.get("safety")
            if detection is not None:
                safety = True
                add(_concept_reason(detection, "handled as real, at once"))
            if safety:
                fired |= _SAFETY_BIT
                u, i = u_top, i_top
                detection = found.get("doubt")
                if detection is not None:
                    add(_concept_reason(detection, "a false-alarm hint: still handled as real; verify afterwards"))
                    marks |= _VERIFY
                attr = doubt_attribute
                if attr is not None and ticket.attributes and _truthy(ticket.attributes.get(attr)):
                    add(doubt_attr_reason)
                    marks |= _VERIFY

        if raise_list and (flag_values or found or ticket.channel._value_ in raise_by_channel):
            hits = [False] * len(raise_list)
            for value in flag_values:
                entry = raise_by_flag.get(value)
                if entry is not None:
                    hits[entry[0]] = True
                    add(entry[3])
            entry = raise_by_channel.get(ticket.channel._value_)
            if entry is not None:
                hits[entry[0]] = True
                add(entry[3])
            for kind, (index, ru, ri) in raise_by_kind.items():
                detection = found.get(kind)
                if detection is not None:
                    hits[index] = True
                    add(_concept_reason(detection, _levels_text(ru, ri, u_levels, i_levels)))
            for index, raised in enumerate(hits):
                if raised:
                    _, _, _, _, ru, ri, _, _ = raise_list[index]
                    fired |= raise_bits[index]
                    if ru > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        u = ru
                    if ri > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        i = ri
                    if raise_risk[index]:
                        risk = True

        # Deadline: the ticket's own due time; pauses stop the clock.
        status_open = ticket.status._value_ in _OPEN
        due = ticket.due
        pauses = _signals.effective_pauses(ticket.pauses, now) if ticket.pauses else ()
        if due is not None:
            if pauses:
                due = _signals.extend_due(due, ticket.opened_at, pauses, calendar)
            if status_open and deadline_on:
                cutoffs = None
                if calendar is not None:
                    recent = engine.cutoffs_recent
                    cutoffs = recent[1] if recent[0] is now else engine.deadline_cutoffs(now)
                if cutoffs is not None:  # business time: compare with the instants computed once per now
                    overdue = due <= cutoffs[0]
                else:
                    remaining = due - now if calendar is None else calendar.elapsed(now, due)
                    overdue = remaining <= _ZERO
                if overdue:
                    fired |= _DEADLINE_BIT
                    if overdue_rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        u = overdue_rank
                    add(overdue_reason)
                else:
                    best_rank = -1
                    best_reason = None
                    if cutoffs is not None:
                        for bound, rank, reason in cutoffs[1]:
                            if due <= bound and rank > best_rank:
                                best_rank, best_reason = rank, reason
                    else:
                        for within, rank, reason in deadline:
                            if remaining <= within and rank > best_rank:
                                best_rank, best_reason = rank, reason
                    if best_reason is not None:
                        fired |= _DEADLINE_BIT
                        if best_rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            u = best_rank
                        add(best_reason)

        declared = declared_by_value.get(ticket.declared_urgency._value_)
        if declared is not None:
            fired |= _DECLARED_BIT
            if declared[0] > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                u = declared[0]
            add(declared[1])

        customer = ticket.customer
        if reach_on:
            count = customer.reach
            for bound, rank, reason in reach:
                if count >= bound:
                    fired |= _REACH_BIT
                    if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                        i = rank
                    add(reason)
                    break
        vip = vip_by_value.get(customer.tier._value_)
        if vip is not None:
            fired |= _VIP_BIT
            if vip[0] > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                i = vip[0]
            add(vip[1])
        money = ticket.money_at_stake
        if money is not None and money_on:
            steps = money_table.get(money.currency)
            if steps:
                amount = money.amount
                for bound, rank, reason in steps:
                    if amount >= bound:
                        fired |= _MONEY_BIT
                        if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            i = rank
                        add(reason)
                        break
        if affected_on:
            count = ticket.affected_customers
            if count > 1:
                for bound, rank, reason in affected:
                    if count >= bound:
                        fired |= _AFFECTED_BIT
                        if rank > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            i = rank
                        add(reason)
                        break
        if repeat_on:
            count = ticket.repeat_contacts
            if count:
                for bound, rank, reason in repeat:
                    if count >= bound:
                        fired |= _REPEAT_BIT
                        if rank > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                            u = rank
                        add(reason)
                        break
                if count >= complaint_from:
                    fired |= _REPEAT_BIT
                    risk = True
                    add(repeat_risk_reason)

        for tests, ru, ri, bits, reason in rule_bits:
            for test in tests:
                if not test(ticket):
                    break
            else:
                if ru > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    u = ru
                if ri > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    i = ri
                marks |= bits
                add(reason)

        # Levels a helpdesk recorded (impact and urgency, 1 the highest) raise, never lower.
        impact, level = ticket.impact, ticket.urgency
        if impact is not None:
            recorded = itsm_impact.get(impact)
            if recorded is not None:
                fired |= _ITSM_BIT
                if recorded[0] > i:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    i = recorded[0]
                add(recorded[1])
        if level is not None:
            recorded = itsm_urgency.get(level)
            if recorded is not None:
                fired |= _ITSM_BIT
                if recorded[0] > u:  # noqa: PLR1730 - a comparison is cheaper than a call to max()
                    u = recorded[0]
                add(recorded[1])

        # Quadrant rules: the customer's side wins; doubt and deception never lower.
        if marks & _REVIEW and u < u_threshold:
            u = u_threshold  # a detector failed: a person reads the ticket now, it is never left in Q4
        urgent = u >= u_threshold
        if risk:
            marks |= _RISK
        detection = found.get("deception")
        if detection is not None:
            marks |= _DECEPTIVE
            add(_concept_reason(detection, "verify before acting"))
        if urgent and i < i_threshold and risk:
            i = i_threshold
            add(lift_reason)
        quadrant = quadrants[urgent][i >= i_threshold]
        if fired:
            for combo in direct_bits:
                if combo & fired == combo:
                    marks |= _TOP
                    add(direct_reason)
                    break

        # Priority: explicit impact and urgency use the matrix alone.
        if impact is not None and level is not None:
            priority, reason = explicit[(min(impact, n_imp), min(level, n_urg))]
        else:
            priority, reason = mapped_rows[u][i]
        add(reason)

        # Due: the ticket's own (extended by pauses), else the target for its priority.
        if due is None:
            within = targets.get(priority)
            if within is not None:
                due = (
                    ticket.opened_at + within
                    if calendar is None and not pauses
                    else _signals.add_time(ticket.opened_at, within, pauses, calendar)
                )
        if due is not None and status_open and due <= now:
            marks |= _OVERDUE

        return Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=priority,
            urgency=u_levels[u],
            importance=i_levels[i],
            due=due,
            reasons=tuple(reasons),
            marks=mark_sets[marks],
            signals=signal_sets.get(fired) or _signal_set(signal_sets, fired),
            concepts=frozenset(d.concept for d in detections) if detections else _EMPTY_SET,
            policy_hash=stamp,
        )

    return classify


def _signal_set(table: dict[int, frozenset[str]], fired: int) -> frozenset[str]:
    """The names of the signals in *fired*, remembered in *table* (one entry per combination seen)."""
    names = frozenset(name for bit, name in _SIGNAL_NAMES if fired & bit)
    table[fired] = names
    return names


def _levels_text(u: int, i: int, u_levels: tuple[Level, ...], i_levels: tuple[Level, ...]) -> str:
    parts = []
    if u >= 0:
        parts.append(f"urgency {u_levels[u].name}")
    if i >= 0:
        parts.append(f"importance {i_levels[i].name}")
    return ", ".join(parts) or "noted"


def _concept_reason(detection: Detection, effect: str) -> Reason:
    """The reason for a detected concept: which concept, term, language, field and position, and its effect."""
    code = (
        "rule.possibly_deceptive"
        if detection.concept == "deception"
        else ("signal.doubt" if detection.concept == "doubt" else "signal." + detection.concept.split(".", 1)[0])
    )
    where = f"the {detection.field} at {detection.start}"
    by = "" if detection.detector == "lexicon" else f", by {detection.detector} ({detection.confidence:g})"
    return Reason(
        code,
        f"{detection.concept}: {detection.term!r} ({detection.language}) in {where}{by}: {effect}",
        f"concepts.{detection.concept}",
        FrozenMap(
            {
                "concept": detection.concept,
                "term": detection.term,
                "language": detection.language,
                "field": detection.field,
                "position": str(detection.start),
                "detector": detection.detector,
                "confidence": f"{detection.confidence:g}",
            }
        ),
    )


def _run_detectors(
    detectors: tuple[Detector, ...],
    ticket: Ticket,
    detections: tuple[Detection, ...],
    known: Mapping[str, str],
) -> tuple[tuple[Detection, ...], list[Reason]]:
    """Add what every extra detector finds; a detector that fails (or answers nonsense) fails closed."""
    found = list(detections)
    failures: list[Reason] = []
    for detector in detectors:
        name = getattr(detector, "name", type(detector).__name__)
        try:
            answer: tuple[object, ...] = tuple(detector.detect(ticket))
            got: list[Detection] = []
            for item in answer:
                if not isinstance(item, Detection):
                    msg = f"expected Detection values, got {item!r}"
                    raise TypeError(msg)  # noqa: TRY301 - one path for every way a detector can fail
                if item.concept not in known:
                    msg = f"unknown concept {item.concept!r}"
                    raise ValueError(msg)  # noqa: TRY301
                got.append(item)
        except Exception as exc:  # noqa: BLE001 - any failure of a plugged-in detector fails closed
            failures.append(
                Reason(
                    "detector.failed",
                    f"detector {name!r} failed ({type(exc).__name__}: {exc}): a person reads this ticket now",
                    f"detectors.{name}",
                    FrozenMap({"detector": str(name), "error": type(exc).__name__}),
                )
            )
            continue
        found.extend(got)
    return tuple(found), failures
