"""Compilation: a policy becomes lookup tables and prepared reasons, once, when it is built."""

from __future__ import annotations

import enum
import operator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.errors import PolicyError
from servicetriage.model import (
    Channel,
    CustomerTier,
    DeclaredUrgency,
    Flag,
    FrozenMap,
    Level,
    Mark,
    Quadrant,
    Reason,
    Ticket,
    Triage,
)
from servicetriage.signals import Signal
from servicetriage.signals.detectors import Detector
from servicetriage.signals.lexicon import LexiconDetector, concepts

if TYPE_CHECKING:
    from collections.abc import Callable
from servicetriage.triage._common import (
    _COMPLAINT_RISK,
    _CUTOFFS_KEPT,
    _KNOWN,
    _MARK_ORDER,
    _SIGNAL_BIT,
    _ZERO,
    _condition_text,
    _Cutoffs,
    _fail,
    _fmt,
    _mark_bits,
    _marks_of,
    _reason,
)
from servicetriage.triage._evaluate import _build_classifier
from servicetriage.triage._policy import (
    _TICKET_FIELDS,
    Condition,
    DeadlineStep,
    Scale,
    TriagePolicy,
    _lexicon_settings,
    _protected_name,
)

# --------------------------------------------------------------------------
# Compilation


def _rank_of(scale: Scale, name: str | None, path: str, which: str) -> int | None:
    if name is None:
        return None
    if name not in scale.levels:
        _fail(path, f"expected a level of the {which} scale ({', '.join(scale.levels)}), got {name!r}")
    return scale.levels.index(name)


def _text_of(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MISSING = object()


def _reader(field: str) -> Any:
    """Return a function that reads *field* from a ticket (``_MISSING`` when absent)."""
    if field.startswith("attributes."):
        key = field.removeprefix("attributes.")
        return lambda t: t.attributes.get(key, _MISSING)
    if field == "money_at_stake.amount":
        return lambda t: t.money_at_stake.amount if t.money_at_stake is not None else _MISSING
    if field == "money_at_stake.currency":
        return lambda t: t.money_at_stake.currency if t.money_at_stake is not None else _MISSING
    if field.startswith("customer."):
        name = field.removeprefix("customer.")
        return lambda t: getattr(t.customer, name)
    return lambda t: getattr(t, field)


def _at_least(value: Any, operand: float) -> bool:
    """Whether *value*, read as a number, is at least *operand*; a value that is not a number never is.

    A whole number too large for a float (a 401-digit count) is compared exactly, as Python compares
    ``int`` with ``float``.
    """
    try:
        return bool(float(value) >= operand)
    except OverflowError:
        return bool(value >= operand) if isinstance(value, int) else False
    except (TypeError, ValueError):
        return False


@attrs.frozen
class _Test:
    """One compiled condition (picklable: no closures are kept)."""

    field: str
    op: str
    operand: Any

    def __call__(self, ticket: Ticket) -> bool:
        value = _reader(self.field)(ticket)
        if value is _MISSING or value is None:
            return False
        if self.op == "equals":
            return bool(_text_of(value) == self.operand)
        if self.op == "one_of":
            return _text_of(value) in self.operand
        if self.op == "contains":
            if isinstance(value, frozenset):
                return any(_text_of(v) == self.operand for v in value)
            return bool(self.operand in _text_of(value).lower())
        return _at_least(value, self.operand)

    def bind(self) -> Callable[[Ticket], bool]:
        """Return a function that answers as calling the test does, its reader and operation chosen once."""
        field, op, operand = self.field, self.op, self.operand
        read = (
            _reader(field)
            if field.startswith(("attributes.", "money_at_stake."))
            else operator.attrgetter(field)  # a plain or customer field: the same getattr, without a lambda
        )
        text = _text_of
        missing = _MISSING

        if op == "equals":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if type(value) is str:  # _text_of of a plain string is the string itself
                    return bool(value == operand)
                return value is not missing and value is not None and text(value) == operand

        elif op == "one_of":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if type(value) is str:  # _text_of of a plain string is the string itself
                    return value in operand
                return value is not missing and value is not None and text(value) in operand

        elif op == "contains":

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if value is missing or value is None:
                    return False
                if isinstance(value, frozenset):
                    return any(text(v) == operand for v in value)
                return bool(operand in text(value).lower())

        else:

            def test(ticket: Ticket) -> bool:
                value = read(ticket)
                if value is missing or value is None:
                    return False
                return _at_least(value, operand)

        return test


def _compile_condition(condition: Condition, path: str, policy: TriagePolicy) -> _Test | None:
    """Return the compiled test, or ``None`` for a disabled (non-strict) protected read."""
    field = condition.field.strip()
    protected = _protected_name(field, policy.protected_attributes)
    if protected is not None:
        if policy.strict:
            _fail(
                f"{path}.field",
                f"reads the protected attribute {protected!r} ({field}); triage rules may not read "
                f"protected attributes ({', '.join(policy.protected_attributes)})",
            )
        return None
    if not (field in _TICKET_FIELDS or (field.startswith("attributes.") and len(field) > len("attributes."))):
        _fail(f"{path}.field", f"expected one of {', '.join(_TICKET_FIELDS)} or attributes.<name>, got {field!r}")
    if condition.equals is not None:
        return _Test(field, "equals", str(condition.equals))
    if condition.one_of is not None:
        return _Test(field, "one_of", frozenset(str(v) for v in condition.one_of))
    if condition.contains is not None:
        operand = condition.contains if field == "flags" else condition.contains.lower()
        return _Test(field, "contains", operand)
    return _Test(field, "at_least", float(condition.at_least))  # type: ignore[arg-type]


@attrs.frozen
class _CompiledRule:
    tests: tuple[_Test, ...]
    urgency: int
    importance: int
    marks: frozenset[Mark]
    reason: Reason


def _steps(
    steps: tuple[Any, ...], scale: Scale, path: str, which: str, code: str, *, noun: str
) -> tuple[tuple[Any, int, Reason], ...]:
    """Return steps as (bound, rank, reason), in the given order, checking the level names."""
    result = []
    for index, step in enumerate(steps):
        rank = _rank_of(scale, step.level, f"{path}[{index}].level", which)
        assert rank is not None
        bound = step.within if isinstance(step, DeadlineStep) else step.at_least
        shown = _fmt(bound) if isinstance(bound, timedelta) else str(bound)
        if isinstance(step, DeadlineStep):
            message = f"due within {shown}: {which} {step.level}"
            evidence = {"within": shown, "level": step.level}
        else:
            message = f"{noun} at least {shown}: {which} {step.level}"
            evidence = {"at_least": shown, "level": step.level}
        result.append((bound, rank, _reason(code, message, f"{path}[{index}]", FrozenMap(evidence))))
    return tuple(result)


def _count_table(steps: tuple[tuple[Any, int, Reason], ...]) -> tuple[tuple[Any, int, Reason], ...]:
    """Order count steps for a first-match scan from the largest bound down.

    Each step's level becomes the highest level of any step with a bound at
    most its own (with that step's reason), so a larger count never gives a
    lower level, whatever order the policy lists its steps in.
    """
    ordered = sorted(steps, key=lambda step: step[0])
    table: list[tuple[Any, int, Reason]] = []
    best: tuple[int, Reason] | None = None
    for bound, rank, reason in ordered:
        if best is None or rank > best[0]:
            best = (rank, reason)
        table.append((bound, best[0], best[1]))
    return tuple(reversed(table))


class _Engine:
    """A policy compiled for fast classification. Immutable after construction."""

    def __init__(self, policy: TriagePolicy) -> None:
        self.policy = policy
        us, im = policy.urgency, policy.importance
        self.u_levels = tuple(Level(i, n) for i, n in enumerate(us.levels))
        self.i_levels = tuple(Level(i, n) for i, n in enumerate(im.levels))
        self.u_top, self.i_top = len(us.levels) - 1, len(im.levels) - 1
        self.u_threshold, self.i_threshold = us.rank(us.threshold), im.rank(im.threshold)

        known = {s.value for s in Signal}
        enabled: set[str] = set()
        for index, name in enumerate(policy.signals):
            if name in known:
                enabled.add(name)
            elif policy.strict:
                _fail(f"signals[{index}]", f"unknown signal {name!r}; expected one of {', '.join(sorted(known))}")
        self.enabled = frozenset(enabled)
        on = self.enabled.__contains__

        lexicon = _lexicon_settings(policy)
        try:
            self.lexicon: LexiconDetector | None = LexiconDetector(lexicon) if lexicon.enabled else None
        except PolicyError as exc:
            message = str(exc)
            raise PolicyError(message if message.startswith("lexicon.") else f"lexicon: {message}") from None
        for index, candidate in enumerate(policy.detectors):
            detector: object = candidate  # typed as a Detector, but a policy is built at run time
            if not isinstance(detector, Detector):
                _fail(f"detectors[{index}]", f"expected a detector (a name and a detect method), got {detector!r}")
        self.detectors = policy.detectors
        self.concept_signal = {c.id: c.signal for c in concepts().values()}

        # Deadline
        self.deadline = _steps(policy.deadline, us, "deadline", "urgency", "signal.deadline", noun="")
        self.deadline_on = on(Signal.DEADLINE)
        overdue_rank = _rank_of(us, policy.overdue, "overdue", "urgency")
        assert overdue_rank is not None
        for index, (_, step_rank, _) in enumerate(self.deadline):
            if step_rank > overdue_rank:
                # A deadline that comes closer raises urgency: once past due, a need
                # may not fall below the level it had just before.
                _fail(
                    "overdue",
                    f"expected a level at least as urgent as every deadline step, got {policy.overdue!r} "
                    f"below deadline[{index}].level {us.levels[step_rank]!r}",
                )
        self.overdue_rank = overdue_rank
        self.overdue_reason = _reason(
            "signal.deadline", f"overdue: urgency {policy.overdue}", "overdue", FrozenMap({"level": policy.overdue})
        )

        # Declared urgency
        self.declared: dict[DeclaredUrgency, tuple[int, Reason]] = {}
        for key, level in policy.declared_urgency.items():
            try:
                declared = DeclaredUrgency(key)
            except ValueError:
                choices = ", ".join(d.value for d in DeclaredUrgency)
                _fail(f"declared_urgency.{key}", f"expected a declared urgency ({choices}), got {key!r}")
            rank = _rank_of(us, level, f"declared_urgency.{key}", "urgency")
            assert rank is not None
            if rank > 0 and on(Signal.DECLARED_URGENCY):
                reason = _reason(
                    "signal.declared_urgency",
                    f"the customer says the need is {key}: urgency {level}",
                    f"declared_urgency.{key}",
                    FrozenMap({"declared_urgency": key, "level": level}),
                )
                self.declared[declared] = (rank, reason)

        # Safety, police, regulator, public exposure
        self.safety_on = on(Signal.SAFETY)
        self.safety_flag_reason = _reason(
            "signal.safety", "safety flag: handled as real, at once", "signals.safety", FrozenMap({"flag": "safety"})
        )
        self.raises: dict[str, tuple[int, int, Reason, Reason]] = {}
        for signal, setting, flag_word in (
            (Signal.POLICE, policy.police, "police"),
            (Signal.REGULATOR, policy.regulator, "regulator"),
            (Signal.PUBLIC_EXPOSURE, policy.public_exposure, "public_exposure"),
            (Signal.DISCRIMINATION, policy.discrimination, "discrimination"),
            (Signal.ANGER, policy.anger, "anger"),
        ):
            path = signal.value
            u = _rank_of(us, setting.urgency, f"{path}.urgency", "urgency")
            i = _rank_of(im, setting.importance, f"{path}.importance", "importance")
            levels = ", ".join(
                part
                for part in (
                    f"urgency {setting.urgency}" if setting.urgency else "",
                    f"importance {setting.importance}" if setting.importance else "",
                )
                if part
            )
            via_name = "regulator" if signal is Signal.REGULATOR else "social_media"
            flag_reason = _reason(f"signal.{path}", f"{flag_word} flag: {levels}", path, {"flag": flag_word})
            channel_reason = _reason(
                f"signal.{path}",
                f"reached us through the {via_name} channel: {levels}",
                path,
                FrozenMap({"channel": "regulator" if signal is Signal.REGULATOR else "social_media"}),
            )
            self.raises[path] = (u if u is not None else -1, i if i is not None else -1, flag_reason, channel_reason)
        self.raise_list = tuple(
            (name, flag, kind, via, *self.raises[name])
            for name, flag, kind, via in (
                ("police", Flag.POLICE, "police", None),
                ("regulator", Flag.REGULATOR, "regulator", Channel.REGULATOR),
                ("public_exposure", Flag.PUBLIC_EXPOSURE, "public_exposure", Channel.SOCIAL_MEDIA),
                ("discrimination", None, "discrimination", None),
                ("anger", None, "anger", None),
            )
            if name in self.enabled
        )
        self.doubt_attribute = policy.doubt_attribute
        if policy.doubt_attribute is not None:
            protected = _protected_name(policy.doubt_attribute, policy.protected_attributes)
            if protected is not None:
                _fail("doubt_attribute", f"names the protected attribute {protected!r}")
        self.doubt_attr_reason = _reason(
            "signal.doubt",
            "marked doubtful: still handled as real; verify afterwards",
            "doubt_attribute",
            FrozenMap({"attribute": str(policy.doubt_attribute)}),
        )

        # Reach, VIP, money, affected, repeat contacts
        self.reach = _count_table(_steps(policy.reach, im, "reach", "importance", "signal.reach", noun="reach"))
        self.reach_on = on(Signal.REACH)
        self.vip: dict[CustomerTier, tuple[int, Reason]] = {}
        for key, level in policy.vip.items():
            try:
                tier = CustomerTier(key)
            except ValueError:
                choices = ", ".join(t.value for t in CustomerTier)
                _fail(f"vip.{key}", f"expected a customer tier ({choices}), got {key!r}")
            rank = _rank_of(im, level, f"vip.{key}", "importance")
            assert rank is not None
            if rank > 0 and on(Signal.VIP):
                self.vip[tier] = (
                    rank,
                    _reason(
                        "signal.vip",
                        f"{key} customer: importance {level}",
                        f"vip.{key}",
                        FrozenMap({"tier": key, "level": level}),
                    ),
                )
        money_steps = _steps(policy.money, im, "money", "importance", "signal.money", noun="money at stake")
        by_currency: dict[str, list[tuple[Any, int, Reason]]] = {}
        for bound, rank, reason in money_steps:
            by_currency.setdefault(bound.currency, []).append((bound.amount, rank, reason))
        self.money = {cur: _count_table(tuple(items)) for cur, items in by_currency.items()}
        self.money_on = on(Signal.MONEY)
        self.affected = _count_table(
            _steps(policy.affected, im, "affected", "importance", "signal.affected", noun="customers affected")
        )
        self.affected_on = on(Signal.AFFECTED)
        self.repeat = _count_table(
            _steps(
                policy.repeat_contacts,
                us,
                "repeat_contacts",
                "urgency",
                "signal.repeat_contacts",
                noun="repeat contacts",
            )
        )
        self.repeat_on = on(Signal.REPEAT_CONTACTS)
        if (
            isinstance(policy.complaint_risk_from, bool)
            or not isinstance(policy.complaint_risk_from, int)
            or policy.complaint_risk_from < 1
        ):
            _fail("complaint_risk_from", f"expected a whole number >= 1, got {policy.complaint_risk_from!r}")
        self.complaint_from = policy.complaint_risk_from
        self.repeat_risk_reason = _reason(
            "signal.repeat_contacts",
            f"came back at least {policy.complaint_risk_from} times: complaint risk",
            "complaint_risk_from",
            FrozenMap({"at_least": str(policy.complaint_risk_from)}),
        )
        self.lift_reason = _reason(
            "rule.complaint_risk",
            f"urgent need with complaint risk: the customer's side wins, importance {policy.importance.threshold}",
            "complaint_risk",
        )

        # Direct to top
        combos = []
        for index, combo in enumerate(policy.direct_to_top):
            if not combo:
                _fail(f"direct_to_top[{index}]", "expected at least one signal name")
            for j, name in enumerate(combo):
                if name not in known and policy.strict:
                    _fail(f"direct_to_top[{index}][{j}]", f"unknown signal {name!r}")
            combos.append(frozenset(combo))
        self.direct = tuple(combos)
        self.direct_reason = _reason(
            "rule.direct_to_top", "gravest case: may go straight to top management", "direct_to_top"
        )

        # Custom rules
        rules = []
        for index, rule in enumerate(policy.rules):
            path = f"rules[{index}]"
            tests = [_compile_condition(c, f"{path}.when[{j}]", policy) for j, c in enumerate(rule.when)]
            u = _rank_of(us, rule.urgency, f"{path}.urgency", "urgency")
            i = _rank_of(im, rule.importance, f"{path}.importance", "importance")
            if any(t is None for t in tests):
                continue  # non-strict: a rule reading a protected attribute is kept but never applied
            parts = [
                f"urgency {rule.urgency}" if rule.urgency else "",
                f"importance {rule.importance}" if rule.importance else "",
            ]
            parts += [f"mark {m.value}" for m in sorted(rule.marks, key=lambda m: m.value)]
            message = f"rule {rule.name!r}: " + (", ".join(p for p in parts if p) or "matched")
            evidence = {c.field: _condition_text(c) for c in rule.when}
            rules.append(
                _CompiledRule(
                    tuple(t for t in tests if t is not None),
                    u if u is not None else -1,
                    i if i is not None else -1,
                    rule.marks,
                    _reason("rule.custom", message, f"rules[{index}]", FrozenMap(evidence)),
                )
            )
        self.rules = tuple(rules)

        # Priority matrix and targets
        matrix = policy.matrix
        self.matrix = matrix
        n_imp, n_urg = matrix.impacts, matrix.urgencies
        self.impact_of_rank = tuple(1 + ((self.i_top - r) * n_imp) // (self.i_top + 1) for r in range(self.i_top + 1))
        self.urgency_of_rank = tuple(1 + ((self.u_top - r) * n_urg) // (self.u_top + 1) for r in range(self.u_top + 1))
        self.mapped: dict[tuple[int, int], tuple[int, Reason]] = {}
        for ur in range(self.u_top + 1):
            for ir in range(self.i_top + 1):
                imp, urg = self.impact_of_rank[ir], self.urgency_of_rank[ur]
                prio = matrix.priority(imp, urg)
                self.mapped[(ur, ir)] = (
                    prio,
                    _reason(
                        "priority.matrix",
                        f"priority {prio}: importance {im.levels[ir]} -> impact {imp}, "
                        f"urgency {us.levels[ur]} -> urgency {urg}",
                        "matrix",
                        FrozenMap({"impact": str(imp), "urgency": str(urg), "priority": str(prio)}),
                    ),
                )
        self.explicit: dict[tuple[int, int], tuple[int, Reason]] = {}
        for imp in range(1, n_imp + 1):
            for urg in range(1, n_urg + 1):
                prio = matrix.priority(imp, urg)
                self.explicit[(imp, urg)] = (
                    prio,
                    _reason(
                        "priority.explicit",
                        f"priority {prio} from the matrix alone: the ticket records impact {imp}, urgency {urg}",
                        "matrix",
                        FrozenMap({"impact": str(imp), "urgency": str(urg), "priority": str(prio)}),
                    ),
                )
        self.n_imp, self.n_urg = n_imp, n_urg
        targets: dict[int, timedelta] = {}
        for index, target in enumerate(policy.targets):
            if target.priority in targets:
                _fail(f"targets[{index}].priority", f"priority {target.priority} has two targets")
            targets[target.priority] = target.within
        self.targets = targets
        self.itsm_impact = self._itsm(policy.itsm.impact, im, n_imp, "impact", "importance")
        self.itsm_urgency = self._itsm(policy.itsm.urgency, us, n_urg, "urgency", "urgency")
        self.calendar = policy.calendar
        # Deadline cutoffs per instant of "now" (see deadline_cutoffs): the last one used, and a
        # small table; both are replaced whole, never changed in place, so threads may share them.
        self.cutoffs_recent: tuple[datetime | None, _Cutoffs | None] = (None, None)
        self.cutoffs_table: dict[datetime, _Cutoffs | None] = {}
        self._prepare_fast_paths()
        self.classify: Callable[[Ticket, datetime], Triage] = _build_classifier(self)

    def _itsm(
        self, names: tuple[str, ...] | None, scale: Scale, count: int, field: str, which: str
    ) -> dict[int, tuple[int, Reason]]:
        """Recorded level (1 = highest) -> (rank it raises the scale to, reason); empty when the signal is off."""
        if names is None:
            threshold = scale.rank(scale.threshold)
            ranks = [len(scale.levels) - 1, threshold]
            if count >= 4 and threshold > 0:
                ranks.append(threshold - 1)
            names = tuple(scale.levels[r] for r in ranks)
        table: dict[int, tuple[int, Reason]] = {}
        above: tuple[int, str] | None = None  # the rank the next higher recorded level raises to, and its name
        for index, name in enumerate(names):
            rank = _rank_of(scale, name, f"itsm.{field}[{index}]", which) if name else -1
            assert rank is not None
            if above is not None and rank > above[0]:
                _fail(
                    f"itsm.{field}[{index}]",
                    f"recorded {field} {index + 1} would raise {which} to {name!r}, above what the higher "
                    f"{field} {index} raises it to ({above[1] or 'nothing'!r}): a higher recorded level must "
                    "never raise less",
                )
            above = (rank, name)
            if not name:
                continue
            if rank > 0 and Signal.ITSM in self.enabled:
                table[index + 1] = (
                    rank,
                    _reason(
                        "signal.itsm",
                        f"recorded {field} {index + 1}: {which} {name}",
                        f"itsm.{field}",
                        FrozenMap({field: str(index + 1), "level": name}),
                    ),
                )
        return table

    def deadline_cutoffs(self, now: datetime) -> _Cutoffs | None:
        """Return the deadline steps at *now* as instants to compare due times with, or ``None``.

        With a business calendar, ``elapsed(now, due) <= d`` holds exactly when
        ``due <= calendar._cutoff(now, d)``: so the overdue test (``d = 0``)
        and each step's ``within`` become one instant each, computed once per
        *now* instead of a walk through the calendar per ticket. ``None``
        (measure each ticket with ``elapsed``) without a calendar, or when a
        cutoff is out of reach.
        """
        key = now.astimezone(UTC)
        table = self.cutoffs_table
        if key in table:
            cutoffs = table[key]
        else:
            cutoffs = None
            calendar = self.calendar
            if calendar is not None:
                try:
                    overdue = calendar._cutoff(now, _ZERO)  # noqa: SLF001 - the calendar's helper for this
                    steps: list[tuple[datetime, int, Reason]] = []
                    for within, rank, reason in self.deadline:
                        bound = calendar._cutoff(now, within)  # noqa: SLF001
                        if bound is None:
                            break
                        steps.append((bound, rank, reason))
                    else:
                        if overdue is not None:
                            cutoffs = (overdue, tuple(steps))
                except (ArithmeticError, ValueError, PolicyError):  # out of range: measure ticket by ticket
                    cutoffs = None
            self.cutoffs_table = {**table, key: cutoffs} if len(table) < _CUTOFFS_KEPT else {key: cutoffs}
        self.cutoffs_recent = (now, cutoffs)
        return cutoffs

    # ------------------------------------------------------------------

    def _prepare_fast_paths(self) -> None:
        """Tables keyed by plain values (enum hashing is slow) and bit masks for marks and signals."""
        self.declared_by_value = {d.value: v for d, v in self.declared.items()}
        self.vip_by_value = {t.value: v for t, v in self.vip.items()}
        self.rule_bits = tuple(
            (tuple(t.bind() for t in rule.tests), rule.urgency, rule.importance, _mark_bits(rule.marks), rule.reason)
            for rule in self.rules
        )
        self.raise_by_flag = {
            flag.value: (index, ru, ri, flag_reason)
            for index, (name, flag, _, _, ru, ri, flag_reason, _) in enumerate(self.raise_list)
            if flag is not None
        }
        self.raise_by_channel = {
            via.value: (index, ru, ri, channel_reason)
            for index, (_, _, _, via, ru, ri, _, channel_reason) in enumerate(self.raise_list)
            if via is not None
        }
        self.raise_by_kind = {
            kind: (index, ru, ri) for index, (_, _, kind, _, ru, ri, _, _) in enumerate(self.raise_list)
        }
        self.raise_bits = tuple(_SIGNAL_BIT[name] for name, *_ in self.raise_list)
        # Complaint risk: neglect turns these into a public or formal complaint (police and anger only press time).
        self.raise_risk = tuple(name in _COMPLAINT_RISK for name, *_ in self.raise_list)
        self.direct_bits = tuple(sum(_SIGNAL_BIT.get(n, 0) for n in combo) for combo in self.direct if combo <= _KNOWN)
        self.quadrants = (
            (Quadrant.Q4, Quadrant.Q2),
            (Quadrant.Q3, Quadrant.Q1),
        )
        self.mark_sets = tuple(_marks_of(bits) for bits in range(1 << len(_MARK_ORDER)))
        self.signal_sets: dict[int, frozenset[str]] = {}
