"""Slot-setting constructors for the results of the hot path, kept in one place.

The evaluator builds its results with the private constructors below: they
set the slots of an attrs class directly, skipping the keyword parsing of
the generated ``__init__``. They are only used with values that are valid
by construction (decimals and currencies read from validated money, reasons
made at compile time), and ``_member_setters`` refuses a class whose fields
it would not set completely.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.model import (
    FrozenMap,
    Money,
    Obligation,
    ObligationKind,
    Reason,
)

if TYPE_CHECKING:
    from collections.abc import Callable
from servicetriage.authority._request import Decision, Outcome


def _member_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """Return the slot setters of *cls* for *names*, which must be all of its attrs fields, in order."""
    fields = tuple(a.name for a in attrs.fields(cls))
    if fields != names or "__attrs_post_init__" in vars(cls):
        msg = f"{cls.__name__}: fast constructor expects fields {names}, the class has {fields}"
        raise TypeError(msg)
    return tuple(vars(cls)[name].__set__ for name in names)


_new = object.__new__


def _money_constructor() -> Callable[[Decimal, str], Money]:
    set_amount, set_currency = _member_setters(Money, ("amount", "currency"))

    def money(amount: Decimal, currency: str) -> Money:
        made = _new(Money)
        set_amount(made, amount)
        set_currency(made, currency)
        return made

    return money


def _obligation_constructor() -> Callable[[ObligationKind, datetime, str, str, str | None], Obligation]:
    set_kind, set_due, set_to, set_note, set_rule = _member_setters(Obligation, ("kind", "due", "to", "note", "rule"))

    def obligation(kind: ObligationKind, due: datetime, to: str, note: str, rule: str | None) -> Obligation:
        made = _new(Obligation)
        set_kind(made, kind)
        set_due(made, due)
        set_to(made, to)
        set_note(made, note)
        set_rule(made, rule)
        return made

    return obligation


def _reason_constructor() -> Callable[[str, str, str | None, FrozenMap[str, str]], Reason]:
    set_code, set_message, set_rule, set_evidence = _member_setters(Reason, ("code", "message", "rule", "evidence"))

    def reason(code: str, message: str, rule: str | None, evidence: FrozenMap[str, str]) -> Reason:
        made = _new(Reason)
        set_code(made, code)
        set_message(made, message)
        set_rule(made, rule)
        set_evidence(made, evidence)
        return made

    return reason


_DECISION_FIELDS = (
    "outcome",
    "action",
    "actor",
    "tier",
    "lowest_tier",
    "headroom",
    "guardrail",
    "missing",
    "delegation",
    "reasons",
    "obligations",
    "policy_hash",
    "policy_version",
)


def _decision_constructor() -> Callable[..., Decision]:
    (
        set_outcome,
        set_action,
        set_actor,
        set_tier,
        set_lowest,
        set_headroom,
        set_guardrail,
        set_missing,
        set_delegation,
        set_reasons,
        set_obligations,
        set_policy_hash,
        set_policy_version,
    ) = _member_setters(Decision, _DECISION_FIELDS)

    def decision(  # noqa: PLR0917
        outcome: Outcome,
        action: str,
        actor: str,
        tier: str,
        lowest_tier: str | None,
        headroom: Money | None,
        guardrail: str | None,
        missing: tuple[str, ...],
        delegation: str | None,
        reasons: tuple[Reason, ...],
        obligations: tuple[Obligation, ...],
        policy_hash: str,
        policy_version: int | None = None,
    ) -> Decision:
        made = _new(Decision)
        set_outcome(made, outcome)
        set_action(made, action)
        set_actor(made, actor)
        set_tier(made, tier)
        set_lowest(made, lowest_tier)
        set_headroom(made, headroom)
        set_guardrail(made, guardrail)
        set_missing(made, missing)
        set_delegation(made, delegation)
        set_reasons(made, reasons)
        set_obligations(made, obligations)
        set_policy_hash(made, policy_hash)
        set_policy_version(made, policy_version)
        return made

    return decision


_fast_money = _money_constructor()
_fast_obligation = _obligation_constructor()
_fast_reason = _reason_constructor()
_fast_decision = _decision_constructor()
_NO_EVIDENCE: FrozenMap[str, str] = FrozenMap()
