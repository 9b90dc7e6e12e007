"""Did the amendment help? Figures before and after each playbook version, with the uncertainty of the change.

A report names the playbook version it was handled under
(`PlaybookRef`). For every version of a playbook that
follows another one with reports, `effect` compares the reports handled
under the earlier version (*before*) with those handled under the later one
(*after*) on six measures:

| measure | kind | per report | better |
|---|---|---|---|
| complaints | proportion | the outcome was ``complaint`` | lower |
| escalations | proportion | ``escalated`` (reports that record it) | lower |
| sla_breaches | proportion | ``sla_breached`` (reports that record it) | lower |
| satisfied | proportion | ``satisfaction_after`` is 4 or 5 | higher |
| satisfaction | mean | ``satisfaction_after`` on the 1-5 scale | higher |
| reuse | proportion | ``reused``: the customer came back (if recorded) | higher |

A report that leaves a figure out is left out of that measure only; ``n``
says how many reports each side holds.

The uncertainty of each difference (*after* minus *before*) is a
two-sided interval at ``confidence`` (95% by default), computed in closed
form, so the same reports always give the same figures:

- for a proportion, Newcombe's hybrid score interval (his method 10): the
  Wilson score interval of each side, combined as
  ``d - sqrt((p2 - l2)^2 + (u1 - p1)^2)`` to ``d + sqrt((u2 - p2)^2 + (p1 - l1)^2)``;
  unlike the plain Wald interval it stays within -1..1 and keeps its
  coverage when a rate is near 0 or 1 or a side is small;
- for the mean satisfaction, Welch's interval: ``d +/- t * se`` with
  ``se = sqrt(s1^2/n1 + s2^2/n2)`` and ``t`` the Student quantile at the
  Welch-Satterthwaite degrees of freedom (no equal variances assumed); it
  needs two reports on each side.

A measure's ``verdict`` is ``"better"`` or ``"worse"`` when the whole
interval lies on one side of zero, else ``"unclear"`` (also when a side
has no report to judge by). The intervals are per measure: six measures
at 95% each will now and then show one change that is chance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING

import attrs

from servicetriage.errors import PolicyError

if TYPE_CHECKING:
    from servicetriage.review import IncidentReport

__all__ = [
    "MEASURES",
    "Comparison",
    "Measure",
    "Side",
    "VersionEffect",
    "compare",
    "effect",
    "newcombe",
    "show",
    "student_t_cdf",
    "student_t_quantile",
    "welch",
    "wilson",
]

_PLACES = Decimal("0.0001")


def _check_confidence(value: float) -> float:
    ok = isinstance(value, float | int | Decimal) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if not 0.5 <= number < 1:
        msg = f"confidence: expected a level from 0.5 up to (not including) 1, such as 0.95, got {value!r}"
        raise PolicyError(msg)
    return number


@attrs.frozen(kw_only=True)
class Measure:
    """One figure to compare: its name, its kind and how to read it off a report.

    ``value`` returns ``None`` when the report does not record the figure,
    a ``bool`` for a proportion, a number for a mean. ``higher_is_better``
    says which way is an improvement.
    """

    name: str
    kind: str
    higher_is_better: bool
    value: Callable[[IncidentReport], bool | int | None] = attrs.field(eq=False, repr=False)
    description: str = ""


def _complaint(report: IncidentReport) -> bool:
    return report.outcome.value == "complaint"


def _satisfied(report: IncidentReport) -> bool | None:
    return None if report.satisfaction_after is None else report.satisfaction_after >= 4


#: The measures `effect` compares, in the order it lists them.
MEASURES: tuple[Measure, ...] = (
    Measure(
        name="complaints", kind="proportion", higher_is_better=False, value=_complaint, description="outcome complaint"
    ),
    Measure(
        name="escalations",
        kind="proportion",
        higher_is_better=False,
        value=lambda r: r.escalated,
        description="escalated",
    ),
    Measure(
        name="sla_breaches",
        kind="proportion",
        higher_is_better=False,
        value=lambda r: r.sla_breached,
        description="SLA breached",
    ),
    Measure(
        name="satisfied",
        kind="proportion",
        higher_is_better=True,
        value=_satisfied,
        description="satisfaction after 4 or 5",
    ),
    Measure(
        name="satisfaction",
        kind="mean",
        higher_is_better=True,
        value=lambda r: r.satisfaction_after,
        description="mean satisfaction after (1-5)",
    ),
    Measure(
        name="reuse",
        kind="proportion",
        higher_is_better=True,
        value=lambda r: r.reused,
        description="customer came back",
    ),
)


@attrs.frozen(kw_only=True)
class Side:
    """One side of a comparison: ``n`` reports with the figure, and its proportion or mean."""

    n: int
    value: Decimal | None
    events: int | None = None
    """For a proportion, how many of the ``n`` reports had it."""


@attrs.frozen(kw_only=True)
class Comparison:
    """A measure before and after, the difference (after minus before) and its interval."""

    measure: str
    kind: str
    before: Side
    after: Side
    difference: Decimal | None
    low: Decimal | None
    high: Decimal | None
    method: str
    verdict: str

    def describe(self) -> str:
        """The comparison in one line: ``satisfied: 88.0% (n=3000) -> 91.0% (n=3000), +3.0 pts [+1.4, +4.6] better``."""
        text = f"{self.measure}: {show(self.kind, self.before.value)} (n={self.before.n}) -> "
        text += f"{show(self.kind, self.after.value)} (n={self.after.n})"
        if self.difference is None:
            return text + ", no difference to judge"
        text += f", {show(self.kind, self.difference, signed=True)}"
        if self.low is not None and self.high is not None:
            low, high = show(self.kind, self.low, signed=True, unit=False), show(self.kind, self.high, signed=True)
            text += f" [{low}, {high}]"
        return text + f" {self.verdict}"


def show(kind: str, value: Decimal | None, *, signed: bool = False, unit: bool = True) -> str:
    """A figure as text: a proportion in percent (a signed one in points), a mean to two places; ``-`` for none."""
    if value is None:
        return "-"
    if kind == "proportion":
        points = value * 100
        return (f"{points:+.1f}" + (" pts" if unit else "")) if signed else f"{points:.1f}%"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


@attrs.frozen(kw_only=True)
class VersionEffect:
    """How the reports under *version* of a playbook compare with those under *previous*."""

    playbook_id: str
    previous: int
    version: int
    uses_before: int
    uses_after: int
    confidence: float
    comparisons: tuple[Comparison, ...]

    def comparison(self, measure: str) -> Comparison:
        """The comparison of the measure named *measure*."""
        for item in self.comparisons:
            if item.measure == measure:
                return item
        names = ", ".join(c.measure for c in self.comparisons)
        msg = f"measure: expected one of {names}, got {measure!r}"
        raise PolicyError(msg)


# --------------------------------------------------------------------------
# Intervals


def wilson(events: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of the proportion *events* / *n* (``n`` >= 1)."""
    p = events / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def newcombe(before: tuple[int, int], after: tuple[int, int], z: float) -> tuple[float, float, float]:
    """The difference of two proportions (after minus before) and Newcombe's hybrid score interval."""
    (e1, n1), (e2, n2) = before, after
    p1, p2 = e1 / n1, e2 / n2
    l1, u1 = wilson(e1, n1, z)
    l2, u2 = wilson(e2, n2, z)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1) < 1e-14:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """The Student *t* distribution function with *df* (> 0, not necessarily whole) degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The *p*-quantile (0.5 <= p < 1) of the Student *t* distribution, by bisection to 1e-12."""
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2


def welch(before: list[int], after: list[int], confidence: float) -> tuple[float, float, float]:
    """The difference of two means (after minus before) and Welch's interval (two values a side at least)."""
    n1, n2 = len(before), len(after)
    m1, m2 = sum(before) / n1, sum(after) / n2
    v1 = sum((x - m1) ** 2 for x in before) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in after) / (n2 - 1)
    d = m2 - m1
    a, b = v1 / n1, v2 / n2
    se = math.sqrt(a + b)
    if se == 0:
        return d, d, d
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    t = student_t_quantile(1 - (1 - confidence) / 2, df)
    return d, d - t * se, d + t * se


# --------------------------------------------------------------------------
# Comparisons


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_PLACES)


def _verdict(low: float | None, high: float | None, higher_is_better: bool) -> str:
    if low is None or high is None:
        return "unclear"
    if low > 0:
        return "better" if higher_is_better else "worse"
    if high < 0:
        return "worse" if higher_is_better else "better"
    return "unclear"


def compare(
    measure: Measure, before: Iterable[IncidentReport], after: Iterable[IncidentReport], *, confidence: float = 0.95
) -> Comparison:
    """Compare *measure* over the *before* and *after* reports (see the module documentation for the method)."""
    level = _check_confidence(confidence)
    first = [v for v in (measure.value(r) for r in before) if v is not None]
    second = [v for v in (measure.value(r) for r in after) if v is not None]
    low = high = diff = None
    if measure.kind == "proportion":
        e1, e2 = sum(map(bool, first)), sum(map(bool, second))
        side1 = Side(n=len(first), value=_decimal(e1 / len(first)) if first else None, events=e1)
        side2 = Side(n=len(second), value=_decimal(e2 / len(second)) if second else None, events=e2)
        method = f"Newcombe hybrid score (Wilson), {level:.0%}"
        if first and second:
            z = NormalDist().inv_cdf(1 - (1 - level) / 2)
            diff, low, high = newcombe((e1, len(first)), (e2, len(second)), z)
    else:
        numbers1, numbers2 = [int(v) for v in first], [int(v) for v in second]
        side1 = Side(n=len(first), value=_decimal(sum(numbers1) / len(first)) if first else None)
        side2 = Side(n=len(second), value=_decimal(sum(numbers2) / len(second)) if second else None)
        method = f"Welch t, {level:.0%}"
        if first and second:
            diff = sum(numbers2) / len(numbers2) - sum(numbers1) / len(numbers1)
            if len(first) >= 2 and len(second) >= 2:  # a variance needs two values
                diff, low, high = welch(numbers1, numbers2, level)
    return Comparison(
        measure=measure.name,
        kind=measure.kind,
        before=side1,
        after=side2,
        difference=None if diff is None else _decimal(diff),
        low=None if low is None else _decimal(low),
        high=None if high is None else _decimal(high),
        method=method,
        verdict=_verdict(low, high, measure.higher_is_better),
    )


def effect(
    reports: Iterable[IncidentReport],
    *,
    playbook: str | None = None,
    confidence: float = 0.95,
    measures: tuple[Measure, ...] = MEASURES,
) -> tuple[VersionEffect, ...]:
    """Each playbook version against the version before it, by playbook id then version.

    Reports are grouped by the playbook and version they name (reports
    without a playbook are left out; *playbook* keeps one playbook's). A
    version is compared with the highest earlier version that has reports;
    the first version with reports has nothing to compare with and is not
    listed. Pure and deterministic: the same reports give the same figures.
    """
    level = _check_confidence(confidence)
    if playbook is not None and (not isinstance(playbook, str) or not playbook.strip()):
        msg = f"playbook: expected a playbook id, got {playbook!r}"
        raise PolicyError(msg)
    groups: dict[str, dict[int, list[IncidentReport]]] = {}
    for report in reports:
        ref = report.playbook
        if ref is None or (playbook is not None and ref.id != playbook):
            continue
        groups.setdefault(ref.id, {}).setdefault(ref.version, []).append(report)
    result = []
    for pid in sorted(groups):
        versions = groups[pid]
        numbers = sorted(versions)
        for previous, version in itertools.pairwise(numbers):
            before, after = versions[previous], versions[version]
            result.append(
                VersionEffect(
                    playbook_id=pid,
                    previous=previous,
                    version=version,
                    uses_before=len(before),
                    uses_after=len(after),
                    confidence=level,
                    comparisons=tuple(compare(m, before, after, confidence=level) for m in measures),
                )
            )
    return tuple(result)
