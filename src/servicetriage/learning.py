"""The learning loop: typical deviations become amendments; false alarms and drills are kept.

From the accepted incident reports, `propose` finds the *typical*
deviations and proposes amendments:

- deviations are grouped by their `Signature` (the incident's
  category, the action kind, and conditions such as the quadrant and the
  customer tier); a signature that recurs at least ``min_count`` times within
  ``window``, with a good enough success rate, or any deviation in a report
  marked exemplary, becomes a proposal for a new or changed playbook step
  (or a new playbook for a category that has none);
- deviations that tier *T* keeps authorizing for the same kind (and
  currency) become a proposal to delegate that kind to the tier below, up to
  the largest amount seen, and no broader than the evidence: the grant holds
  only for the categories, quadrants, customer tiers and channels its
  reports show (`Scope`). Given the authority policy in force, a
  delegation it already allows is not proposed, and the others say how they
  relate to the grants in force (``Proposal.notes``).

Every `Proposal` carries its provenance (the incident ids) and its
`Evidence` (counts, outcomes, satisfaction before and after). A
proposal is not yet an amendment: `Proposal.amendment` makes one on the
current version of its target, so that two proposals on the same version
conflict instead of overwriting each other (`servicetriage.versions`).

The module also applies the false-alarm penalty rule (`penalize`),
lists playbooks not drilled or used within their interval (`stale`) and
computes per-playbook figures (`figures`). Everything is pure and
deterministic: the caller passes ``now``.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._inputs import duration, money
from servicetriage._scope import Relation, Scope, against
from servicetriage._validators import check_non_empty, check_whole_number, to_tuple
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import DEFAULT_TIERS, FrozenMap, Money, require_aware
from servicetriage.versions import (
    Amendment,
    Document,
    DocumentRef,
    Operation,
    OpKind,
    Path,
    Provenance,
    Version,
    freeze,
    parse_path,
    thaw,
)

if TYPE_CHECKING:
    from servicetriage.authority import AuthorityPolicy
    from servicetriage.review import IncidentReport

__all__ = [
    "Drill",
    "DrillDue",
    "Evidence",
    "LearningConfig",
    "Penalty",
    "PenaltyAction",
    "PenaltyRule",
    "PenaltyStep",
    "PlaybookFigures",
    "Proposal",
    "ProposalKind",
    "Relation",
    "Scope",
    "Signature",
    "StaleEntry",
    "default_grant",
    "default_playbook",
    "default_step",
    "drill_schedule",
    "figures",
    "penalize",
    "propose",
    "signatures_of",
    "stale",
]

_TWO = Decimal("0.01")


# --------------------------------------------------------------------------
# Signatures and evidence


@attrs.frozen(kw_only=True, order=True)
class Signature:
    """What makes two deviations "the same": category, action kind and conditions."""

    category: str
    kind: str
    conditions: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """A stable text key: ``flight/rebooking[customer_tier=standard,quadrant=Q1]``."""
        inner = ",".join(f"{k}={v}" for k, v in self.conditions)
        return f"{self.category}/{self.kind}" + (f"[{inner}]" if inner else "")

    @property
    def slug(self) -> str:
        """A short identifier usable as a step id: ``learned-rebooking-q1-standard``."""
        parts = [self.kind, *(v for _, v in self.conditions)]
        return "learned-" + "-".join(p.lower().replace(" ", "_") for p in parts)

    def __str__(self) -> str:
        return self.key


@attrs.frozen(kw_only=True)
class Evidence:
    """The facts behind a proposal.

    ``count`` is the number of deviations, ``incidents`` the reports they come
    from; ``outcomes`` counts the reports' outcomes; the satisfaction figures
    are means on the 1-5 scale (``None`` when no report gave one);
    ``max_amount`` is the largest amount granted (per the proposal's currency);
    ``tiers`` counts the deviations by the tier that authorized them;
    ``categories`` lists the incidents' categories; ``scope`` holds the
    conditions every incident meets.
    """

    count: int
    incidents: tuple[str, ...]
    outcomes: FrozenMap[str, int]
    success_rate: Decimal
    satisfaction_before: Decimal | None
    satisfaction_after: Decimal | None
    first_seen: datetime
    last_seen: datetime
    exemplary: tuple[str, ...] = ()
    max_amount: Money | None = None
    tiers: FrozenMap[str, int] = attrs.field(factory=FrozenMap)
    categories: tuple[str, ...] = ()
    scope: Scope = attrs.field(factory=Scope)

    def describe(self) -> str:
        """The evidence in one readable line."""
        parts = [f"{self.count} deviation(s) in {len(self.incidents)} incident(s)"]
        parts.append(f"success {self.success_rate:.0%}")
        if self.satisfaction_before is not None or self.satisfaction_after is not None:
            parts.append(f"satisfaction {self.satisfaction_before} -> {self.satisfaction_after}")
        if self.max_amount is not None:
            parts.append(f"up to {self.max_amount}")
        if self.exemplary:
            parts.append("exemplary: " + ", ".join(self.exemplary))
        return "; ".join(parts)


class ProposalKind(enum.Enum):
    """What a proposal changes."""

    PLAYBOOK_STEP = "playbook_step"
    """Add (or update) a step in the playbook for the signature's category."""
    DELEGATE_AUTHORITY = "delegate_authority"
    """Grant the tier below the authority for a kind of deviation, up to a limit."""


def default_step(signature: Signature, evidence: Evidence) -> Document:
    """The playbook step a typical deviation becomes (plain data, in the shape of a ``PlaybookStep``).

    The step may be taken by the lowest tier that took the deviation; its
    note starts with ``[<signature slug>]`` so a later proposal for the same
    signature updates it instead of adding a second one.
    """
    tiers = sorted(evidence.tiers)
    limit = f" up to {evidence.max_amount}" if evidence.max_amount is not None else ""
    step: dict[str, Any] = {
        "action": signature.kind,
        "role": "owner",
        "note": (
            f"[{signature.slug}] {signature.kind.replace('_', ' ')}{limit} by procedure for {signature.key}; "
            f"learned from {', '.join(evidence.incidents)}"
        ),
    }
    if len(tiers) == 1:
        step["authority"] = tiers[0]
    return step


def default_playbook(playbook_id: str, signature: Signature, step: Document) -> Document:
    """A new playbook holding one learned step (plain data, in the shape of a ``Playbook``)."""
    return {
        "id": playbook_id,
        "version": 1,
        "title": f"{signature.category.replace('_', ' ')} (learned)",
        "triggers": [{"categories": [signature.category]}],
        "steps": [step],
    }


def default_grant(tier: str, signature: Signature, limit: Money | None, evidence: Evidence) -> Document:
    """The authority grant a delegation proposal adds (plain data, in the shape of a ``Grant``).

    It is no broader than its evidence: it holds for the categories,
    quadrants, customer tiers and channels of its incidents only
    (``evidence.scope``), up to the largest amount granted.
    """
    grant: dict[str, Any] = {
        "id": f"delegated-{signature.kind}-{tier}" + (f"-{limit.currency.lower()}" if limit is not None else ""),
        "tier": tier,
        "action": signature.kind,
        "note": f"delegated after {evidence.count} approvals above; learned from {', '.join(evidence.incidents)}",
    }
    when = evidence.scope.when() if evidence.scope != Scope() else {"categories": list(evidence.categories)}
    if when:
        grant["when"] = when
    if limit is not None:
        grant["limits"] = {"max_amount": str(limit)}
    return grant


def _to_map(value: Mapping[str, str] | None) -> FrozenMap[str, str]:
    return FrozenMap(value or {})


_PREFIX = {"LearningConfig": "learning", "PenaltyRule": "penalty", "PenaltyStep": "penalty.steps[]", "Drill": "drill"}


def _where(instance: Any, attribute: attrs.Attribute[Any]) -> str:
    return f"{_PREFIX.get(type(instance).__name__, type(instance).__name__.lower())}.{attribute.name}"


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    check_whole_number(_where(instance, attribute), value)


def _positive_window(instance: Any, attribute: attrs.Attribute[Any], value: timedelta) -> None:
    duration(value, _where(instance, attribute), PolicyError)


def _rate(value: Any) -> Decimal:
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value))
        ok = not isinstance(value, bool) and Decimal(0) <= rate <= 1
    except ArithmeticError:  # not a number at all
        ok = False
    if not ok:
        msg = f"learning.min_success_rate: expected a rate from 0 to 1, got {value!r}"
        raise PolicyError(msg)
    return rate


def _names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            msg = f"{_where(instance, attribute)}[{index}]: expected a non-empty name, got {item!r}"
            raise PolicyError(msg)
        if item in value[:index]:
            msg = f"{_where(instance, attribute)}[{index}]: {item!r} is named twice"
            raise PolicyError(msg)


def _some_names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        msg = f"{_where(instance, attribute)}: expected at least one tier, lowest first, got ()"
        raise PolicyError(msg)
    _names(instance, attribute, value)


def _tiers(value: Iterable[str]) -> tuple[str, ...]:
    return to_tuple(value)


def _name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_non_empty(_where(instance, attribute), value)


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, datetime):
        msg = f"{_where(instance, attribute)}: expected an aware datetime, got {value!r}"
        raise PolicyError(msg)
    require_aware(_where(instance, attribute), value, PolicyError)


@attrs.frozen(kw_only=True)
class LearningConfig:
    """How `propose` recognises a typical deviation and words its proposals.

    ``conditions`` names what, beside category and kind, makes deviations the
    same: ``"quadrant"``, ``"customer_tier"``, or any key of a report's
    ``conditions``. ``playbooks`` maps a category to the id of its playbook
    (by default the category itself). ``step``, ``new_playbook`` and
    ``grant`` build the plain-data pieces the amendments insert, so the same
    loop serves any playbook or policy layout; ``steps_path`` and
    ``grants_path`` say where they go.
    """

    min_count: int = attrs.field(default=3, validator=_positive)
    window: timedelta = attrs.field(default=timedelta(days=30), validator=_positive_window)
    min_success_rate: Decimal = attrs.field(default=Decimal("0.5"), converter=_rate)
    delegate: bool = True
    conditions: tuple[str, ...] = attrs.field(default=("quadrant", "customer_tier"), converter=_tiers, validator=_names)
    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=_tiers, validator=_some_names)
    playbooks: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_to_map)
    authority_id: str = attrs.field(default="default", validator=_name)
    steps_path: Path = attrs.field(default=("steps",), converter=parse_path)
    grants_path: Path = attrs.field(default=("grants",), converter=parse_path)
    step: Callable[[Signature, Evidence], Document] = default_step
    new_playbook: Callable[[str, Signature, Document], Document] = default_playbook
    grant: Callable[[str, Signature, Money | None, Evidence], Document] = default_grant

    def playbook_for(self, category: str) -> str:
        """The id of the playbook that covers *category*."""
        return str(self.playbooks.get(category, category))


def signatures_of(
    report: IncidentReport, conditions: Iterable[str] = ("quadrant", "customer_tier")
) -> tuple[Signature, ...]:
    """The signature of each deviation in *report*, in order."""
    pairs = _conditions_of(report, tuple(conditions))
    return tuple(Signature(category=report.category, kind=d.kind, conditions=pairs) for d in report.deviations)


def _conditions_of(report: IncidentReport, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for name in names:
        if name == "quadrant":
            if report.quadrant is not None:
                pairs.append((name, report.quadrant.name))
        elif name == "customer_tier":
            pairs.append((name, report.customer_tier.value))
        elif name in report.conditions:
            pairs.append((name, report.conditions[name]))
    return tuple(sorted(pairs))


# --------------------------------------------------------------------------
# Proposals


@attrs.frozen(kw_only=True)
class Proposal:
    """A proposed change to a playbook or an authority policy, with its reasons.

    ``trigger`` is ``"recurring"`` (the signature recurred often enough) or
    ``"exemplary"`` (a report was marked exemplary). ``item`` is the
    plain-data step or grant to insert; `amendment` turns the proposal
    into an `Amendment` on a given version. ``notes`` say how a delegation
    relates to the grants in force (``narrower than grant ...``,
    ``extends grant ...``) and which facts its evidence does not record.
    """

    id: str
    kind: ProposalKind
    target: DocumentRef
    signature: Signature
    trigger: str
    item: Document = attrs.field(converter=freeze)
    evidence: Evidence
    summary: str
    path: Path = ("steps",)
    new_document: Document = attrs.field(default=None, converter=freeze)
    tier: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def provenance(self) -> Provenance:
        """Where the proposal comes from: its incidents and its reason."""
        return Provenance(incidents=self.evidence.incidents, proposed_by="learning", reason=self.summary)

    def operations(self, base: Document | None) -> tuple[Operation, ...]:
        """The operations that carry the proposal out on *base* (``None``: a new document).

        When *base* already holds the same item at the proposal's path (the
        same ``id``, or for steps a note with the same ``[signature slug]``
        marker), that item is replaced (a changed step); otherwise the item
        is added.
        """
        item = thaw(self.item)
        if base is None:
            if self.new_document is None:
                msg = f"proposal {self.id}: {self.target} does not exist yet and the proposal cannot create it"
                raise PolicyError(msg)
            return (Operation(op=OpKind.SET, path=(), value=thaw(self.new_document)),)
        items: Any = base
        for part in self.path:
            try:
                items = items[part]
            except (KeyError, IndexError, TypeError):
                items = None
                break
        if items is None:
            return (Operation(op=OpKind.SET, path=self.path, value=[item]),)
        if not isinstance(items, list):
            msg = f"proposal {self.id}: {self.target} has no list at {self.path!r}"
            raise PolicyError(msg)
        for index, existing in enumerate(items):
            if self._same_item(existing, item):
                return (Operation(op=OpKind.SET, path=(*self.path, index), value=item),)
        return (Operation(op=OpKind.ADD, path=self.path, value=item),)

    def _same_item(self, existing: Any, item: Any) -> bool:
        if not isinstance(existing, dict) or not isinstance(item, dict):
            return False
        if "id" in item:
            return bool(existing.get("id") == item["id"])
        marker = f"[{self.signature.slug}]"
        return str(existing.get("note", "")).startswith(marker) and str(item.get("note", "")).startswith(marker)

    def amendment(self, base: Version | None, *, id: str | None = None) -> Amendment:
        """The proposal as an amendment made on *base* (the target's current version, or ``None``).

        A playbook document's ``version`` field (1 when left out) is raised
        by one, so reports can name the version they used. The default id
        joins the proposal's id and the base's short hash, so the same
        proposal made again on the same version has the same id, and on a
        later version a new one.
        """
        if base is not None and base.target != self.target:
            msg = f"proposal {self.id} targets {self.target}, not {base.target}"
            raise PolicyError(msg)
        operations = self.operations(base.document if base is not None else None)
        if base is not None:
            document = base.document
            number = document.get("version") if isinstance(document, dict) else None
            if number is None and self.kind is ProposalKind.PLAYBOOK_STEP and isinstance(document, dict):
                number = 1  # a playbook's version defaults to 1 and may be left out of its document
            if isinstance(number, int) and not isinstance(number, bool):
                operations = (*operations, Operation(op=OpKind.SET, path=("version",), value=number + 1))
        return Amendment(
            id=id or f"A-{self.id.removeprefix('P-')}-{base.short[:8] if base is not None else 'new'}",
            target=self.target,
            base=base.hash if base is not None else None,
            operations=operations,
            provenance=self.provenance,
            summary=self.summary,
        )


class _Group:
    """An accumulator for one group of deviations (kept small: 100,000 reports must be quick)."""

    __slots__ = ("after", "amounts", "before", "count", "exemplary", "first", "incidents", "last", "outcomes", "tiers")

    def __init__(self) -> None:
        self.count = 0
        self.incidents: dict[str, IncidentReport] = {}
        self.exemplary: set[str] = set()
        self.amounts: dict[str, Decimal] = {}
        self.tiers: dict[str, int] = {}
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, report: IncidentReport, amount: Money | None, tier: str) -> None:
        self.count += 1
        self.incidents[report.id] = report
        if report.exemplary:
            self.exemplary.add(report.id)
        if amount is not None:
            best = self.amounts.get(amount.currency)
            if best is None or amount.amount > best:
                self.amounts[amount.currency] = amount.amount
        self.tiers[tier] = self.tiers.get(tier, 0) + 1
        if self.first is None or report.opened_at < self.first:
            self.first = report.opened_at
        if self.last is None or report.opened_at > self.last:
            self.last = report.opened_at

    def evidence(self, currency: str | None = None) -> Evidence:
        reports = [self.incidents[k] for k in sorted(self.incidents)]
        outcomes: dict[str, int] = {}
        good = 0
        for report in reports:
            outcomes[report.outcome.value] = outcomes.get(report.outcome.value, 0) + 1
            good += report.outcome.good
        before = [r.satisfaction_before for r in reports if r.satisfaction_before is not None]
        after = [r.satisfaction_after for r in reports if r.satisfaction_after is not None]
        if currency is None and len(self.amounts) == 1:
            currency = next(iter(self.amounts))
        max_amount = Money(self.amounts[currency], currency) if currency in self.amounts else None
        assert self.first is not None  # a group is never empty
        assert self.last is not None
        return Evidence(
            count=self.count,
            incidents=tuple(r.id for r in reports),
            outcomes=FrozenMap(sorted(outcomes.items())),
            success_rate=(Decimal(good) / len(reports)).quantize(_TWO),
            satisfaction_before=_mean(before),
            satisfaction_after=_mean(after),
            first_seen=self.first,
            last_seen=self.last,
            exemplary=tuple(sorted(self.exemplary)),
            max_amount=max_amount,
            tiers=FrozenMap(sorted(self.tiers.items())),
            categories=tuple(sorted({r.category for r in reports})),
            scope=Scope.of(reports),
        )


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(_TWO)


def _proposal_id(kind: ProposalKind, target: DocumentRef, key: str) -> str:
    digest = hashlib.sha256(f"{kind.value}|{target}|{key}".encode()).hexdigest()
    return f"P-{digest[:10]}"


def propose(
    reports: Iterable[IncidentReport],
    config: LearningConfig,
    now: datetime,
    *,
    authority: AuthorityPolicy | None = None,
) -> tuple[Proposal, ...]:
    """Propose amendments from the accepted *reports*: deterministic, in a stable order.

    Pass only the reports whose review was accepted. Reports opened within
    ``config.window`` before *now* count; false alarms never do. With
    *authority*, the policy in force, a delegation that a grant at the
    target tier (or below) already allows is left out, and the others note
    the grants they extend or are narrower than. See the module
    documentation for the rules.
    """
    require_aware("now", now)
    since = now - config.window
    names = config.conditions
    by_signature: dict[Signature, _Group] = {}
    by_authority: dict[tuple[str, str, str], _Group] = {}
    for report in reports:
        if report.false_alarm or not report.deviations or not since < report.opened_at <= now:
            continue
        pairs = _conditions_of(report, names)
        for deviation in report.deviations:
            signature = Signature(category=report.category, kind=deviation.kind, conditions=pairs)
            group = by_signature.get(signature)
            if group is None:
                group = by_signature[signature] = _Group()
            group.add(report, deviation.amount, deviation.tier)
            if config.delegate:
                currency = deviation.amount.currency if deviation.amount is not None else ""
                akey = (deviation.kind, deviation.tier, currency)
                agroup = by_authority.get(akey)
                if agroup is None:
                    agroup = by_authority[akey] = _Group()
                agroup.add(report, deviation.amount, deviation.tier)
    proposals = [*_playbook_proposals(by_signature, config), *_delegations(by_authority, config, authority)]
    proposals.sort(key=lambda p: (p.kind.value, str(p.target), p.signature.key, p.tier or ""))
    return tuple(proposals)


def _playbook_proposals(groups: dict[Signature, _Group], config: LearningConfig) -> list[Proposal]:
    result = []
    for signature in sorted(groups):
        group = groups[signature]
        recurring = len(group.incidents) >= config.min_count
        if not recurring and not group.exemplary:
            continue
        evidence = group.evidence()
        if recurring and not group.exemplary and evidence.success_rate < config.min_success_rate:
            continue
        target = DocumentRef(kind="playbook", id=config.playbook_for(signature.category))
        step = config.step(signature, evidence)
        trigger = "recurring" if recurring else "exemplary"
        summary = (
            f"make {signature.kind} a step of playbook {target.id} for {signature.key} "
            f"({trigger}: {evidence.describe()})"
        )
        result.append(
            Proposal(
                id=_proposal_id(ProposalKind.PLAYBOOK_STEP, target, signature.key),
                kind=ProposalKind.PLAYBOOK_STEP,
                target=target,
                signature=signature,
                trigger=trigger,
                item=step,
                evidence=evidence,
                summary=summary,
                path=config.steps_path,
                new_document=config.new_playbook(target.id, signature, step),
            )
        )
    return result


def _delegations(
    groups: dict[tuple[str, str, str], _Group], config: LearningConfig, authority: AuthorityPolicy | None
) -> list[Proposal]:
    result = []
    target = DocumentRef(kind="authority", id=config.authority_id)
    for kind, tier, currency in sorted(groups):
        group = groups[(kind, tier, currency)]
        if tier not in config.tiers or config.tiers.index(tier) == 0 or len(group.incidents) < config.min_count:
            continue
        evidence = group.evidence(currency or None)
        if evidence.success_rate < config.min_success_rate:
            continue
        below = config.tiers[config.tiers.index(tier) - 1]
        signature = Signature(category="*", kind=kind, conditions=(("currency", currency),) if currency else ())
        limit = evidence.max_amount
        relation = Relation()
        if authority is not None:
            relation = against(authority, action=kind, tier=below, scope=evidence.scope, limit=limit)
            if relation.covered_by is not None:
                continue  # the policy in force already allows it
        notes = relation.notes
        if evidence.scope.unrecorded:
            missing = " or ".join(evidence.scope.unrecorded)
            notes = (*notes, f"not limited by {missing}: some reports do not record it")
        summary = (
            f"delegate {kind}" + (f" up to {limit}" if limit is not None else "") + f" from {tier} to {below} "
            f"for {evidence.scope.describe()} ({evidence.describe()})"
        )
        result.append(
            Proposal(
                id=_proposal_id(ProposalKind.DELEGATE_AUTHORITY, target, f"{kind}|{tier}|{currency}"),
                kind=ProposalKind.DELEGATE_AUTHORITY,
                target=target,
                signature=signature,
                trigger="recurring",
                item=config.grant(below, signature, limit, evidence),
                evidence=evidence,
                summary=summary,
                path=config.grants_path,
                tier=below,
                notes=notes,
            )
        )
    return result


# --------------------------------------------------------------------------
# False alarms


class PenaltyAction(enum.Enum):
    """What the false-alarm rule does to the party who raised the alarm."""

    RECORD = "record"
    """Only record it."""
    WARNING = "warning"
    FEE = "fee"
    SUSPEND = "suspend"
    """Suspend the party's account or service pending review."""


def _to_penalty_action(value: Any) -> PenaltyAction:
    if isinstance(value, PenaltyAction):
        return value
    try:
        return PenaltyAction(value)
    except ValueError:
        choices = ", ".join(repr(a.value) for a in PenaltyAction)
        msg = f"penalty.steps[].action: expected one of {choices}, got {value!r}"
        raise PolicyError(msg) from None


def _to_fee(value: Any) -> Money | None:
    return None if value is None else money(value, "penalty.steps[].fee", PolicyError)


@attrs.frozen(kw_only=True)
class PenaltyStep:
    """From the *after*-th false alarm within the window on, take *action* (and charge *fee*)."""

    after: int = attrs.field(validator=_positive)
    action: PenaltyAction = attrs.field(converter=_to_penalty_action)
    fee: Money | None = attrs.field(default=None, converter=_to_fee)


def _steps(value: Iterable[Any]) -> tuple[PenaltyStep, ...]:
    items: tuple[Any, ...] = tuple(value)
    steps: list[PenaltyStep] = []
    for index, step in enumerate(items):
        if not isinstance(step, PenaltyStep):
            msg = f"penalty.steps[{index}]: expected a PenaltyStep, got {step!r}"
            raise PolicyError(msg)
        steps.append(step)
    seen: dict[int, int] = {}
    for index, step in enumerate(steps):
        if step.after in seen:
            msg = f"penalty.steps[{index}].after: {step.after} is also the count of steps[{seen[step.after]}]"
            raise PolicyError(msg)
        seen[step.after] = index
    return tuple(sorted(steps, key=lambda s: s.after))


@attrs.frozen(kw_only=True)
class PenaltyRule:
    """The configured false-alarm rule: a ladder of steps by count within a window.

    The default warns at the first false alarm and charges a fee from the
    third within 90 days.
    """

    window: timedelta = attrs.field(default=timedelta(days=90), validator=_positive_window)
    steps: tuple[PenaltyStep, ...] = attrs.field(
        default=(
            PenaltyStep(after=1, action=PenaltyAction.WARNING),
            PenaltyStep(after=3, action=PenaltyAction.FEE, fee=Money(Decimal(200), "CNY")),
        ),
        converter=_steps,
    )


@attrs.frozen(kw_only=True)
class Penalty:
    """A recorded application of the false-alarm rule."""

    report_id: str
    party: str
    at: datetime
    count: int
    action: PenaltyAction
    fee: Money | None = None
    reason: str = ""


def penalize(report: IncidentReport, rule: PenaltyRule, history: Iterable[Penalty], *, now: datetime) -> Penalty | None:
    """Apply *rule* to a false-alarm *report*, given the penalties already recorded.

    Returns ``None`` for a report that was not a false alarm. The count is
    this alarm plus the party's earlier ones within ``rule.window`` before
    *now*; the step with the largest ``after`` not above the count applies.
    A report already penalised returns its recorded penalty (idempotent).
    """
    if not report.false_alarm:
        return None
    require_aware("now", now)
    if not report.reporter:
        msg = f"report {report.id}.reporter: a false alarm needs the party who raised it, got {report.reporter!r}"
        raise TicketError(msg)
    earlier = 0
    for penalty in history:
        if penalty.report_id == report.id:
            return penalty
        if penalty.party == report.reporter and now - rule.window < penalty.at <= now:
            earlier += 1
    count = earlier + 1
    chosen = PenaltyStep(after=1, action=PenaltyAction.RECORD)
    for step in rule.steps:
        if step.after <= count:
            chosen = step
    reason = f"false alarm {count} of {report.reporter} within {rule.window.days} days"
    return Penalty(
        report_id=report.id,
        party=report.reporter,
        at=now,
        count=count,
        action=chosen.action,
        fee=chosen.fee,
        reason=reason,
    )


# --------------------------------------------------------------------------
# Q2 upkeep: drills, staleness, figures


@attrs.frozen(kw_only=True)
class Drill:
    """A recorded drill of a playbook (planned Q2 work)."""

    playbook_id: str = attrs.field(validator=_name)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_name)
    note: str = ""


@attrs.frozen(kw_only=True)
class StaleEntry:
    """A playbook not drilled or used within its interval."""

    playbook_id: str
    interval: timedelta
    last_drill: datetime | None
    last_use: datetime | None

    @property
    def last_activity(self) -> datetime | None:
        """The later of the last drill and the last use."""
        times = [t for t in (self.last_drill, self.last_use) if t is not None]
        return max(times) if times else None

    def __str__(self) -> str:
        last = self.last_activity
        since = f"last drilled or used {last.isoformat()}" if last else "never drilled or used"
        return f"{self.playbook_id}: {since}; interval {self.interval.days} days"


def _playbook_id_and_interval(item: Any, default: timedelta, index: int) -> tuple[str, timedelta]:
    if isinstance(item, str):
        return item, default
    if isinstance(item, Mapping):
        if not isinstance(item.get("id"), str) or not item["id"].strip():
            msg = f"playbooks[{index}].id: expected a playbook id, got {item.get('id')!r}"
            raise PolicyError(msg)
        interval = item.get("drill_every") or item.get("drill_interval") or default
        duration(interval, f"playbooks[{index}].drill_every", PolicyError)
        return str(item["id"]), interval
    if not hasattr(item, "id"):
        msg = f"playbooks[{index}]: expected a playbook id, a mapping with an id or a playbook, got {item!r}"
        raise PolicyError(msg)
    interval = getattr(item, "drill_every", None) or getattr(item, "drill_interval", None) or default
    return str(item.id), interval


def _recorded(item: Any, name: str) -> datetime | None:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return value if isinstance(value, datetime) else None


def stale(
    playbooks: Iterable[Any],
    now: datetime,
    *,
    drills: Iterable[Drill] = (),
    reports: Iterable[IncidentReport] = (),
    default_interval: timedelta = timedelta(days=90),
) -> tuple[StaleEntry, ...]:
    """The playbooks not drilled or used within their interval before *now*, by id.

    *playbooks* holds ids, mappings with ``id`` (and ``drill_every``,
    ``last_drilled``, ``last_used``) or objects with those attributes, such
    as `Playbook`; a playbook without its own
    interval uses *default_interval*. Drills come from *drills* and the
    playbook's own ``last_drilled``; uses from *reports* that name the
    playbook and its own ``last_used``.
    """
    require_aware("now", now)
    entries = _activity(playbooks, now, drills, reports, default_interval)
    return tuple(e for e in entries if e.last_activity is None or now - e.last_activity > e.interval)


def _activity(
    playbooks: Iterable[Any],
    now: datetime,
    drills: Iterable[Drill],
    reports: Iterable[IncidentReport],
    default_interval: timedelta,
) -> tuple[StaleEntry, ...]:
    """Every playbook's last drill and last use up to *now*, by id."""
    last_drill: dict[str, datetime] = {}
    for drill in drills:
        if drill.at <= now and (drill.playbook_id not in last_drill or drill.at > last_drill[drill.playbook_id]):
            last_drill[drill.playbook_id] = drill.at
    last_use: dict[str, datetime] = {}
    for report in reports:
        if report.playbook is None or report.opened_at > now:
            continue
        pid = report.playbook.id
        if pid not in last_use or report.opened_at > last_use[pid]:
            last_use[pid] = report.opened_at
    result = []
    for index, item in enumerate(playbooks):
        pid, interval = _playbook_id_and_interval(item, default_interval, index)
        drilled = [t for t in (last_drill.get(pid), _recorded(item, "last_drilled")) if t is not None and t <= now]
        used = [t for t in (last_use.get(pid), _recorded(item, "last_used")) if t is not None and t <= now]
        result.append(
            StaleEntry(
                playbook_id=pid,
                interval=interval,
                last_drill=max(drilled) if drilled else None,
                last_use=max(used) if used else None,
            )
        )
    return tuple(sorted(result, key=lambda e: e.playbook_id))


@attrs.frozen(kw_only=True)
class DrillDue:
    """When a playbook's next drill is due, and what its drill record holds.

    ``due`` is the last drill or use plus the interval (*now* when the plan
    was never drilled nor used); ``drills`` counts the recorded drills up to
    *now*.
    """

    playbook_id: str
    interval: timedelta
    due: datetime
    overdue: bool
    drills: int
    last_drill: datetime | None
    last_use: datetime | None

    def __str__(self) -> str:
        state = "overdue since" if self.overdue else "next drill due"
        return f"{self.playbook_id}: {state} {self.due.isoformat()}; {self.drills} drill(s) recorded"


def drill_schedule(
    playbooks: Iterable[Any],
    now: datetime,
    *,
    drills: Iterable[Drill] = (),
    reports: Iterable[IncidentReport] = (),
    default_interval: timedelta = timedelta(days=90),
) -> tuple[DrillDue, ...]:
    """The next drill of every playbook, soonest first (ties by id); the same inputs as `stale`.

    A playbook is overdue when *now* is past its due time (a plan never
    drilled nor used is due at once); `stale` lists exactly the overdue
    ones.
    """
    require_aware("now", now)
    recorded = [d for d in drills if d.at <= now]
    counts: dict[str, int] = {}
    for drill in recorded:
        counts[drill.playbook_id] = counts.get(drill.playbook_id, 0) + 1
    result = []
    for entry in _activity(playbooks, now, recorded, reports, default_interval):
        last = entry.last_activity
        due = last + entry.interval if last is not None else now
        result.append(
            DrillDue(
                playbook_id=entry.playbook_id,
                interval=entry.interval,
                due=due,
                overdue=last is None or now - last > entry.interval,
                drills=counts.get(entry.playbook_id, 0),
                last_drill=entry.last_drill,
                last_use=entry.last_use,
            )
        )
    return tuple(sorted(result, key=lambda d: (d.due, d.playbook_id)))


@attrs.frozen(kw_only=True)
class PlaybookFigures:
    """How a playbook fared: uses, deviations taken while using it, mean satisfaction."""

    playbook_id: str
    uses: int
    deviations: int
    satisfaction_before: Decimal | None
    satisfaction_after: Decimal | None
    versions: FrozenMap[int, int] = attrs.field(factory=FrozenMap)


def figures(reports: Iterable[IncidentReport]) -> tuple[PlaybookFigures, ...]:
    """Per-playbook figures from *reports*, by playbook id; ``versions`` counts uses per version."""
    uses: dict[str, list[IncidentReport]] = {}
    for report in reports:
        if report.playbook is not None:
            uses.setdefault(report.playbook.id, []).append(report)
    result = []
    for pid in sorted(uses):
        used = uses[pid]
        by_version: dict[int, int] = {}
        for report in used:
            assert report.playbook is not None  # filtered above
            by_version[report.playbook.version] = by_version.get(report.playbook.version, 0) + 1
        result.append(
            PlaybookFigures(
                playbook_id=pid,
                uses=len(used),
                deviations=sum(len(r.deviations) for r in used),
                satisfaction_before=_mean([r.satisfaction_before for r in used if r.satisfaction_before is not None]),
                satisfaction_after=_mean([r.satisfaction_after for r in used if r.satisfaction_after is not None]),
                versions=FrozenMap(sorted(by_version.items())),
            )
        )
    return tuple(result)
