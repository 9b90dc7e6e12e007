"""Did the amendment help: figures before and after each playbook version, with intervals that can be checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.cli import main
from servicetriage.effect import MEASURES, compare, effect, newcombe, student_t_quantile, welch, wilson
from servicetriage.errors import PolicyError
from servicetriage.review import IncidentOutcome, IncidentReport, PlaybookRef
from servicetriage.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
Z95 = 1.959963984540054


def _report(n: int, version: int, **fields: object) -> IncidentReport:
    return IncidentReport(
        id=f"R{version}-{n}",
        ticket_id=f"T{version}-{n}",
        owner="li",
        opened_at=T0 + timedelta(days=30 * version, hours=n),
        playbook=PlaybookRef(id="refunds", version=version),
        **fields,  # type: ignore[arg-type]
    )


def test_wilson_interval_matches_the_published_example() -> None:
    """81 of 263: the Wilson interval is 0.2553 to 0.3662 (Newcombe 1998, table I)."""
    low, high = wilson(81, 263, Z95)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_newcombe_interval_matches_the_published_example() -> None:
    """56/70 against 48/80: the difference 0.2 has the hybrid score interval 0.0524 to 0.3339 (Newcombe 1998)."""
    d, low, high = newcombe((48, 80), (56, 70), Z95)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


@pytest.mark.parametrize(("df", "expected"), [(1, 12.7062), (5, 2.5706), (10, 2.2281), (30, 2.0423), (1000, 1.9623)])
def test_student_quantiles_match_the_tables(df: float, expected: float) -> None:
    """The 97.5% quantile of Student's t agrees with the printed tables to four places."""
    assert round(student_t_quantile(0.975, df), 4) == expected


def test_welch_interval_by_hand() -> None:
    """Means 3 and 4, variances 2.5 and 1.6 over 5 and 6 values: 1 +/- t(7.66) * 0.8756."""
    d, low, high = welch([1, 2, 3, 4, 5], [2, 3, 4, 5, 5, 5], 0.95)
    assert d == 1
    assert (round(low, 3), round(high, 3)) == (-1.035, 3.035)


def test_each_version_is_compared_with_the_one_before() -> None:
    """v1 -> v2 -> v3: two comparisons; reports without a playbook or of another playbook stay out."""
    reports = [
        *(_report(n, 1, outcome=IncidentOutcome.COMPLAINT if n < 4 else IncidentOutcome.RESOLVED) for n in range(10)),
        *(_report(n, 2, outcome=IncidentOutcome.COMPLAINT if n < 1 else IncidentOutcome.RESOLVED) for n in range(10)),
        *(_report(n, 3) for n in range(5)),
        IncidentReport(id="X", ticket_id="X", owner="li", opened_at=T0),
    ]
    first, second = effect(reports, playbook="refunds")
    assert (first.previous, first.version, second.previous, second.version) == (1, 2, 2, 3)
    complaints = first.comparison("complaints")
    assert (complaints.before.events, complaints.before.n, complaints.after.events) == (4, 10, 1)
    assert complaints.difference == Decimal("-0.3")
    assert effect(reports, playbook="other") == ()


def test_a_report_that_leaves_a_figure_out_is_left_out_of_that_measure_only() -> None:
    """Escalation recorded by two reports of three: n is 2 for escalations and 3 for complaints."""
    before = [_report(0, 1, escalated=True), _report(1, 1, escalated=False), _report(2, 1)]
    after = [_report(0, 2, escalated=False), _report(1, 2)]
    (found,) = effect([*before, *after])
    assert found.comparison("escalations").before.n == 2
    assert found.comparison("complaints").before.n == 3
    assert found.comparison("satisfaction").difference is None
    assert found.comparison("satisfaction").verdict == "unclear"


def test_a_mean_from_one_report_a_side_has_a_difference_but_no_interval() -> None:
    """Welch's interval needs two values a side; with one the difference is shown and the verdict unclear."""
    (found,) = effect([_report(0, 1, satisfaction_after=2), _report(0, 2, satisfaction_after=5)])
    satisfaction = found.comparison("satisfaction")
    assert satisfaction.difference == 3
    assert (satisfaction.low, satisfaction.verdict) == (None, "unclear")


@pytest.mark.parametrize("confidence", [0.2, 1, 1.5, "high", True])
def test_a_confidence_level_out_of_range_is_named(confidence: object) -> None:
    """A bad confidence level is a PolicyError naming the parameter and the value."""
    with pytest.raises(PolicyError, match=r"confidence: expected a level from 0\.5"):
        effect([], confidence=confidence)  # type: ignore[arg-type]


def test_an_unknown_measure_is_named() -> None:
    """Asking for a measure that is not compared names it and lists the ones that are."""
    (found,) = effect([_report(0, 1), _report(0, 2)])
    with pytest.raises(PolicyError, match=r"measure: expected one of complaints, .*got 'nps'"):
        found.comparison("nps")


_SIDES = st.tuples(st.integers(1, 400), st.integers(0, 400)).map(lambda t: (min(t), t[0]))


@given(before=_SIDES, after=_SIDES, confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_the_proportion_interval_holds_the_difference_within_minus_one_to_one(
    before: tuple[int, int], after: tuple[int, int], confidence: float
) -> None:
    """Newcombe's interval always contains the observed difference and stays within -1..1."""
    from statistics import NormalDist  # noqa: PLC0415

    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    d, low, high = newcombe(before, after, z)
    assert -1 <= low <= d <= high <= 1
    swapped = newcombe(after, before, z)
    assert swapped == pytest.approx((-d, -high, -low))


@given(
    before=st.lists(st.integers(1, 5), min_size=2, max_size=60),
    after=st.lists(st.integers(1, 5), min_size=2, max_size=60),
)
def test_the_welch_interval_holds_the_difference_and_widens_with_confidence(
    before: list[int], after: list[int]
) -> None:
    """Welch's interval contains the difference, and the 99% interval contains the 90% one."""
    d, low, high = welch(before, after, 0.9)
    d2, low2, high2 = welch(before, after, 0.99)
    assert d == d2
    assert low2 <= low + 1e-9 <= d + 2e-9
    assert d <= high + 1e-9 <= high2 + 2e-9


@given(st.lists(sts.incident_reports(), max_size=12), st.randoms())
def test_effect_is_deterministic_whatever_the_order(reports: list[IncidentReport], random: object) -> None:
    """The same reports in any order give the same figures (no sampling, no seed needed)."""
    shuffled = list(reports)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert effect(reports) == effect(shuffled)
    for found in effect(reports):
        assert found.previous < found.version
        for item in found.comparisons:
            if item.low is not None and item.high is not None and item.difference is not None:
                assert item.low <= item.difference <= item.high


def test_measures_are_named_once() -> None:
    """Each measure has a distinct name, so comparisons can be asked for by name."""
    names = [m.name for m in MEASURES]
    assert len(names) == len(set(names)) == 6
    complaints = next(m for m in MEASURES if m.name == "complaints")
    assert compare(complaints, [], []).verdict == "unclear"


def _store_with_two_versions(path: Path) -> None:
    with Store(path) as store:
        for version, complaints in ((1, 6), (2, 1)):
            for n in range(20):
                report = _report(
                    n,
                    version,
                    outcome=IncidentOutcome.COMPLAINT if n < complaints else IncidentOutcome.RESOLVED,
                    satisfaction_after=3 if n < complaints else 4 + n % 2,
                    reused=n % 3 != 0,
                )
                store.add_report(report)


def test_playbook_effect_prints_a_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`playbook effect --state all` prints each measure before and after, and the same in JSON."""
    path = tmp_path / "s.db"
    _store_with_two_versions(path)
    assert main(["playbook", "effect", "refunds", "--state", "all", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("refunds v1 -> v2: 20 report(s) before, 20 after\n")
    assert "complaints    30.0% (n=20)" in out
    assert "-25.0 pts" in out
    assert main(["playbook", "effect", "--state", "all", "--json", "--store", str(path)]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    complaints = found["measures"][0]
    assert complaints["measure"] == "complaints"
    assert complaints["difference"] == "-0.2500"
    assert complaints["before"] == {"n": 20, "value": "0.3000", "events": 6}
    assert complaints["method"].startswith("Newcombe")
    assert main(["playbook", "effect", "--store", str(path)]) == 0
    assert capsys.readouterr().out == "no two versions of any playbook with reports to compare\n"


def test_playbook_effect_names_a_bad_confidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A confidence level that is not one is a one-line error naming the option, exit 2."""
    assert main(["playbook", "effect", "--confidence", "95", "--store", str(tmp_path / "s.db")]) == 2
    assert "--confidence: expected a level from 0.5" in capsys.readouterr().err
