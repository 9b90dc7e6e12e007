"""Tests of priority matrices: presets, validation, checks and loading from files."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.cli import main
from servicetriage.errors import PolicyError, TicketError
from servicetriage.matrix import GLPI, PRESETS, SERVICENOW, PriorityMatrix, check_matrix, preset, preset_name
from servicetriage.model import Customer, Severity, Ticket
from servicetriage.triage import TriagePolicy, classify

# GLPI's default matrix as GLPI writes it: table[urgency][impact], 5 = very high.
GLPI_NATIVE = {
    1: {1: 1, 2: 1, 3: 2, 4: 2, 5: 2},
    2: {1: 1, 2: 2, 3: 2, 4: 3, 5: 3},
    3: {1: 2, 2: 2, 3: 3, 4: 4, 5: 4},
    4: {1: 2, 2: 3, 3: 4, 4: 4, 5: 5},
    5: {1: 2, 2: 3, 3: 4, 4: 5, 5: 5},
}


def test_servicenow_preset_is_impact_plus_urgency_minus_one() -> None:
    """ServiceNow's default incident table: 1 Critical for high x high, 5 Planning for low x low."""
    for impact in (1, 2, 3):
        for urgency in (1, 2, 3):
            assert SERVICENOW.priority(impact, urgency) == impact + urgency - 1
    assert SERVICENOW.priority_name(SERVICENOW.priority(3, 3)) == "planning"
    assert SERVICENOW.priority_name(SERVICENOW.priority(1, 1)) == "critical"


@pytest.mark.parametrize("glpi_urgency", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("glpi_impact", [1, 2, 3, 4, 5])
def test_glpi_preset_is_glpi_renumbered(glpi_urgency: int, glpi_impact: int) -> None:
    """Our GLPI cell at (6 - impact, 6 - urgency) is 6 minus GLPI's priority."""
    ours = GLPI.priority(6 - glpi_impact, 6 - glpi_urgency)
    assert ours == 6 - GLPI_NATIVE[glpi_urgency][glpi_impact]


def test_glpi_preset_has_the_level_on_its_diagonal() -> None:
    """GLPI's diagonal m[k][k] = k survives the renumbering."""
    assert [GLPI.priority(k, k) for k in range(1, 6)] == [1, 2, 3, 4, 5]
    assert GLPI.priority_name(1) == "very high"


@pytest.mark.parametrize("matrix", [SERVICENOW, GLPI])
def test_presets_are_monotone_symmetric_and_reach_every_priority(matrix: PriorityMatrix) -> None:
    """The presets pass every check."""
    assert check_matrix(matrix) == ()


def test_preset_by_name_is_case_insensitive() -> None:
    """preset() finds presets by any case."""
    assert preset("ServiceNow") is SERVICENOW
    assert preset(" glpi ") is GLPI
    assert set(PRESETS) == {"servicenow", "glpi"}


def test_unknown_preset_lists_the_known_ones() -> None:
    """An unknown name raises PolicyError naming it and the choices."""
    with pytest.raises(PolicyError, match=r"'itil'.*'servicenow', 'glpi'"):
        preset("itil")


def test_out_of_range_levels_name_the_ticket_field() -> None:
    """Levels off the matrix raise TicketError naming ticket.impact or ticket.urgency and the value."""
    with pytest.raises(TicketError, match=r"^ticket\.impact: expected a level from 1 to 3 .*got 4$"):
        SERVICENOW.priority(4, 1)
    with pytest.raises(TicketError, match=r"^ticket\.urgency: expected a level from 1 to 5 .*got 0$"):
        GLPI.priority(1, 0)
    with pytest.raises(TicketError, match=r"ticket\.impact: .*got True"):
        SERVICENOW.priority(True, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cells": []}, r"matrix\.cells: expected at least one row"),
        ({"cells": [[1, 2], [2]]}, r"matrix\.cells\[1\]: expected 2 priorities like row 0, got 1"),
        ({"cells": [[1, 2], [2, 0]]}, r"matrix\.cells\[1\]\[1\]: expected a priority >= 1, got 0"),
        ({"cells": [[1, "2"], [2, 3]]}, r"matrix\.cells\[0\]\[1\]: expected a priority >= 1, got '2'"),
        ({"cells": "1,2"}, r"matrix\.cells: expected rows"),
        ({"cells": [[1, 2], [2, 3]], "impact_levels": ["high"]}, r"matrix\.impact_levels: expected 2 names"),
        ({"cells": [[1, 2], [2, 3]], "urgency_levels": ["a", "a"]}, r"matrix\.urgency_levels\[1\]: duplicate"),
        ({"cells": [[1, 2], [2, 3]], "priority_names": ["p1", "p2"]}, r"matrix\.cells\[1\]\[1\]: .*1 to 2"),
    ],
)
def test_bad_matrices_name_the_cell_path_and_value(kwargs: dict[str, object], message: str) -> None:
    """Invalid matrices raise PolicyError naming the path and the value."""
    with pytest.raises(PolicyError, match=message):
        PriorityMatrix(**kwargs)  # type: ignore[arg-type]


def test_level_names_default_to_numbers() -> None:
    """Without names, levels are called '1', '2'..."""
    matrix = PriorityMatrix(cells=[[1, 2, 3], [2, 3, 4]])
    assert matrix.impact_levels == ("1", "2")
    assert matrix.urgency_levels == ("1", "2", "3")
    assert (matrix.impacts, matrix.urgencies, matrix.lowest_priority) == (2, 3, 4)
    assert matrix.priority_name(4) == "4"


def test_check_matrix_reports_non_monotone_cells_with_their_path() -> None:
    """A cell more pressing than a higher-level neighbour is an error at its path."""
    matrix = PriorityMatrix(cells=[[1, 2, 3], [2, 1, 4], [3, 4, 5]])
    errors = [f for f in check_matrix(matrix) if f.severity is Severity.ERROR]
    assert {f.path for f in errors} == {"matrix.cells[1][1]"}
    assert {f.code for f in errors} == {"matrix.not_monotone"}


def test_check_matrix_reports_unreached_priorities_and_asymmetry() -> None:
    """Named priorities that no cell gives, and impact/urgency weighed differently, are reported."""
    matrix = PriorityMatrix(cells=[[1, 1], [3, 3]], priority_names=["p1", "p2", "p3", "p4"])
    found = {(f.code, f.severity): f for f in check_matrix(matrix)}
    assert "p2, p4" in found["matrix.unreached_priority", Severity.WARNING].message
    assert ("matrix.asymmetric", Severity.INFO) in found


def _swap(matrix: PriorityMatrix, a: tuple[int, int], b: tuple[int, int]) -> PriorityMatrix:
    cells = [list(row) for row in matrix.cells]
    (i, u), (j, v) = a, b
    cells[i][u], cells[j][v] = cells[j][v], cells[i][u]
    return attrs.evolve(matrix, cells=cells)


def _monotone(cells: tuple[tuple[int, ...], ...]) -> bool:
    rows_ok = all(row[u] >= row[u - 1] for row in cells for u in range(1, len(row)))
    cols_ok = all(cells[i][u] >= cells[i - 1][u] for i in range(1, len(cells)) for u in range(len(cells[0])))
    return rows_ok and cols_ok


@given(sts.priority_matrices())
def test_generated_matrices_pass_the_monotonicity_and_reach_checks(matrix: PriorityMatrix) -> None:
    """The strategy draws only matrices without errors or warnings."""
    assert all(f.severity is Severity.INFO for f in check_matrix(matrix))


@given(sts.priority_matrices(), st.data())
def test_check_matrix_finds_every_non_monotone_swap(matrix: PriorityMatrix, data: st.DataObject) -> None:
    """Swapping two cells breaks monotonicity exactly when check_matrix reports an error."""
    rows, cols = matrix.impacts, matrix.urgencies
    cell = st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1))
    swapped = _swap(matrix, data.draw(cell), data.draw(cell))
    has_error = any(f.code == "matrix.not_monotone" for f in check_matrix(swapped))
    assert has_error == (not _monotone(swapped.cells))


@given(sts.priority_matrices(), st.data())
def test_priority_never_gets_more_pressing_at_lower_levels(matrix: PriorityMatrix, data: st.DataObject) -> None:
    """On a monotone matrix, a lower impact or urgency never gives a more pressing priority."""
    impact = data.draw(st.integers(1, matrix.impacts))
    urgency = data.draw(st.integers(1, matrix.urgencies))
    base = matrix.priority(impact, urgency)
    if impact < matrix.impacts:
        assert matrix.priority(impact + 1, urgency) >= base
    if urgency < matrix.urgencies:
        assert matrix.priority(impact, urgency + 1) >= base


@given(sts.priority_matrices(), st.sampled_from(["toml", "json", "yaml"]))
def test_matrix_round_trips_through_files(matrix: PriorityMatrix, fmt: config.Format) -> None:
    """load(dump(matrix)) == matrix in every format."""
    wrapped = {"matrix": config.unstructure(matrix)}
    text = config.dump(wrapped, fmt)
    assert config.structure(config.load(text, dict, fmt)["matrix"], PriorityMatrix) == matrix


@attrs.frozen(kw_only=True)
class _Policy:
    matrix: PriorityMatrix = SERVICENOW


def test_policy_file_may_name_a_preset() -> None:
    """`matrix = "glpi"` loads the preset, and a preset dumps as its name."""
    policy = config.load('matrix = "GLPI"\n', _Policy)
    assert policy.matrix is GLPI
    assert config.unstructure(_Policy(matrix=GLPI)) == {"matrix": "glpi"}
    assert preset_name(PriorityMatrix(cells=[[1]])) is None


def test_policy_file_may_give_cells() -> None:
    """A table with cells loads, with named levels."""
    text = """
[matrix]
cells = [[1, 2], [2, 3]]
impact_levels = ["wide", "narrow"]
"""
    policy = config.load(text, _Policy)
    assert policy.matrix.priority(2, 2) == 3
    assert policy.matrix.impact_levels == ("wide", "narrow")


def test_bad_matrix_in_a_file_names_the_path() -> None:
    """Errors in a matrix table and unknown preset names come back with their paths."""
    with pytest.raises(PolicyError, match=r"matrix\.cells\[0\]\[1\]: expected a priority >= 1, got -1"):
        config.load("[matrix]\ncells = [[1, -1], [2, 3]]\n", _Policy)
    with pytest.raises(PolicyError, match=r"^matrix: unknown priority matrix preset 'itil'"):
        config.load('matrix = "itil"\n', _Policy)
    with pytest.raises(PolicyError, match=r"matrix: extra fields found \(colour\)"):
        config.load("[matrix]\ncells = [[1]]\ncolour = 'red'\n", _Policy)


def test_matrices_pickle_and_hash() -> None:
    """Presets survive pickling and can be dictionary keys."""
    for matrix in PRESETS.values():
        copy = pickle.loads(pickle.dumps(matrix))
        assert copy == matrix
        assert hash(copy) == hash(matrix)


# --------------------------------------------------------------------------
# Presets with overrides


def _override_lists(name: str) -> st.SearchStrategy[list[dict[str, object]]]:
    """Overrides of distinct cells of preset *name*, levels by name or number, priorities in range."""
    base = PRESETS[name]
    cell = st.tuples(st.integers(1, base.impacts), st.integers(1, base.urgencies))

    def level(names: tuple[str, ...], number: int) -> st.SearchStrategy[object]:
        return st.sampled_from([names[number - 1], number, str(number)])

    def record(spot: tuple[int, int]) -> st.SearchStrategy[dict[str, object]]:
        impact, urgency = spot
        return st.fixed_dictionaries(
            {
                "impact": level(base.impact_levels, impact),
                "urgency": level(base.urgency_levels, urgency),
                "priority": st.integers(1, base.lowest_priority),
            }
        )

    return st.lists(cell, unique=True, max_size=6).flatmap(lambda cells: st.tuples(*map(record, cells)).map(list))


def _number(names: tuple[str, ...], level: object) -> int:
    return names.index(level) + 1 if level in names else int(level)  # type: ignore[call-overload]


@given(st.sampled_from(sorted(PRESETS)).flatmap(lambda name: st.tuples(st.just(name), _override_lists(name))))
def test_overrides_change_exactly_their_cells(case: tuple[str, list[dict[str, object]]]) -> None:
    """A preset with overrides equals the preset except at the overridden cells, which `overridden` lists."""
    name, overrides = case
    base = PRESETS[name]
    matrix = preset(name, overrides=overrides)
    wanted = {
        (_number(base.impact_levels, o["impact"]), _number(base.urgency_levels, o["urgency"])): o["priority"]
        for o in overrides
    }
    for impact in range(1, base.impacts + 1):
        for urgency in range(1, base.urgencies + 1):
            assert matrix.priority(impact, urgency) == wanted.get((impact, urgency), base.priority(impact, urgency))
    assert {(i, u): (was, now) for i, u, was, now in matrix.overridden()} == {
        cell: (base.priority(*cell), priority) for cell, priority in wanted.items()
    }
    assert (matrix.impact_levels, matrix.urgency_levels, matrix.priority_names) == (
        base.impact_levels,
        base.urgency_levels,
        base.priority_names,
    )
    # check lists each override once: changed cells as info, restated ones as a warning
    listed = [f for f in check_matrix(matrix) if f.code in ("matrix.overridden", "matrix.override_unchanged")]
    assert [f.path for f in listed] == [f"matrix.overrides[{i}]" for i in range(len(overrides))]
    for finding, (cell, priority) in zip(listed, wanted.items(), strict=True):
        changed = base.priority(*cell) != priority
        assert finding.code == ("matrix.overridden" if changed else "matrix.override_unchanged")
        assert finding.severity is (Severity.INFO if changed else Severity.WARNING)


@given(
    st.sampled_from(sorted(PRESETS)).flatmap(lambda name: st.tuples(st.just(name), _override_lists(name))),
    st.sampled_from(["toml", "json", "yaml"]),
)
def test_preset_with_overrides_round_trips_through_files(
    case: tuple[str, list[dict[str, object]]], fmt: config.Format
) -> None:
    """A preset with overrides dumps as its preset and overrides (or the bare name) and loads back equal."""
    name, overrides = case
    matrix = preset(name, overrides=overrides)
    plain = config.unstructure(matrix)
    assert plain == name or set(plain) == {"preset", "overrides"}
    text = config.dump({"matrix": plain}, fmt)
    again = config.structure(config.load(text, dict, fmt)["matrix"], PriorityMatrix)
    assert again == matrix
    assert again.overridden() == (matrix.overridden() if plain != name else ())


@given(
    st.sampled_from(sorted(PRESETS)),
    st.sampled_from(["impact", "urgency"]),
    st.one_of(st.integers(min_value=6), st.integers(max_value=0), st.sampled_from(["critical", "none", ""])),
)
def test_an_override_outside_the_matrix_names_its_path(name: str, axis: str, level: object) -> None:
    """A level the preset does not have raises PolicyError naming matrix.overrides[i].impact (or urgency)."""
    record: dict[str, object] = {"impact": 1, "urgency": 1, "priority": 1, axis: level}
    with pytest.raises(PolicyError, match=rf"^matrix\.overrides\[1\]\.{axis}: .* is outside the {name} matrix"):
        preset(name, overrides=[{"impact": 2, "urgency": 2, "priority": 2}, record])


@given(st.sampled_from(sorted(PRESETS)), st.one_of(st.integers(max_value=0), st.integers(min_value=6)))
def test_a_priority_out_of_range_names_its_path(name: str, priority: int) -> None:
    """A priority the preset does not have raises PolicyError naming matrix.overrides[i].priority and the value."""
    with pytest.raises(PolicyError, match=rf"^matrix\.overrides\[0\]\.priority: .*1 to 5 .*got {priority}$"):
        preset(name, overrides=[{"impact": 1, "urgency": 1, "priority": priority}])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'preset = "servicenow"\noverrides = [{impact = "lowest", urgency = "low", priority = 4}]',
            (r"triage\.matrix\.overrides\[0\]\.impact: 'lowest' is outside the servicenow matrix; "
            r"expected one of 'high', 'medium', 'low' or a number from 1 to 3"),
        ),
        (
            'preset = "servicenow"\noverrides = [{impact = 3, urgency = 3, priority = 6}]',
            r"triage\.matrix\.overrides\[0\]\.priority: expected a priority from 1 to 5 .*got 6",
        ),
        (
            ('preset = "glpi"\noverrides = [{impact = 1, urgency = 1, priority = 1}, '
            '{impact = "very high", urgency = "1", priority = 2}]'),
            r"triage\.matrix\.overrides\[1\]: .* already overridden by matrix\.overrides\[0\]",
        ),
        (
            'preset = "servicenow"\noverrides = [{impact = 3, urgency = 3}]',
            r"triage\.matrix\.overrides\[0\]\.priority: required field missing",
        ),
        (
            'preset = "servicenow"\ncells = [[1, 2], [2, 3]]',
            r"triage\.matrix\.cells: the servicenow preset gives the cells; change single cells with overrides",
        ),
        (
            'preset = "servicenow"\nurgency_levels = ["now", "soon", "later"]',
            r"triage\.matrix\.urgency_levels: the servicenow preset names its own levels",
        ),
        (
            "cells = [[1, 2], [2, 3]]\noverrides = [{impact = 2, urgency = 2, priority = 2}]",
            r"triage\.matrix\.overrides: overrides change cells of a preset",
        ),
        ('preset = "itil"', r"triage\.matrix\.preset: unknown priority matrix preset 'itil'"),
    ],
)
def test_bad_overrides_in_a_policy_file_name_the_path(tmp_path: Path, table: str, message: str) -> None:
    """Every bad override is a PolicyError naming the file, the full path and the value."""
    policy = tmp_path / "p.toml"
    policy.write_text(f"[triage.matrix]\n{table}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^{re.escape(str(policy))}: {message}"):
        config.load_section(policy, "triage", TriagePolicy)


def test_servicenow_low_low_set_to_4_ranks_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: ServiceNow with low x low = 4 loads, gives 4, and `check` lists the overridden cell."""
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[triage.matrix]\npreset = "servicenow"\noverrides = [{ impact = "low", urgency = "low", priority = 4 }]\n',
        encoding="utf-8",
    )
    loaded = config.load_section(policy, "triage", TriagePolicy, required=True)
    assert loaded is not None
    assert loaded.matrix.cells == ((1, 2, 3), (2, 3, 4), (3, 4, 4))
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ticket = Ticket(id="T1", opened_at=now, customer=Customer(id="C1"), impact=3, urgency=3)
    assert classify(ticket, loaded, now).priority == 4
    assert main(["check", str(policy)]) == 0
    out = capsys.readouterr().out
    assert (
        f"{policy}: info: triage.matrix.overrides[0]: impact low x urgency low: priority 4 (low) "
        "instead of 5 (planning) in the servicenow preset (matrix.overridden)"
    ) in out.splitlines()
    # 5 (planning) is no longer reachable: the check says so too
    assert "no cell gives priority planning (matrix.unreached_priority)" in out


def test_a_preset_without_overrides_is_the_preset() -> None:
    """`preset = "glpi"` as a table equals the bare name, dumps as the name and lists no overridden cell."""
    matrix = config.load('[matrix]\npreset = "GLPI"\n', _Policy).matrix
    assert matrix == GLPI
    assert matrix.overridden() == ()
    assert config.unstructure(matrix) == "glpi"
    assert not [f for f in check_matrix(matrix) if f.code.startswith("matrix.overrid")]
