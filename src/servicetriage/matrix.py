"""Impact x urgency -> priority matrices, with the ServiceNow and GLPI defaults as presets.

The convention throughout the library: **level 1 is the highest** impact or
urgency, and **priority 1 is the most pressing**. A matrix has one row per
impact level and one column per urgency level; ``cells[i - 1][u - 1]`` is the
priority of impact ``i`` and urgency ``u``. A well-formed matrix is
*monotone*: moving to a lower impact or urgency (a larger level number) never
gives a more pressing priority (a smaller number). `check_matrix`
reports matrices that are not.

Presets (`PRESETS`, `preset`), each with its source:

- ``"servicenow"`` (`SERVICENOW`): ServiceNow's default incident
  priority lookup rules, 3 x 3 -> 1 Critical .. 5 Planning, equal to
  ``impact + urgency - 1``. Source: the ServiceNow product documentation,
  IT Service Management > Incident Management, "Define priority lookup
  rules" (the rules listed under System Policy > Rules > Priority Lookup
  Rules of a base instance). Some newer ServiceNow releases list the low x
  low cell as 4 - Low in their sample data; this preset keeps 5 - Planning,
  the value of the long-standing default table and of the problem-management
  table, so that every priority 1..5 is reachable and the matrix stays
  ``impact + urgency - 1`` everywhere. An instance that uses 4 sets it with
  an override (below).
- ``"glpi"`` (`GLPI`): GLPI's default 5 x 5 matrix. Source: the
  ``priority_matrix`` configuration value that GLPI's installer writes
  (``install/empty_data.php`` in the GLPI source; shown under Setup >
  General > Assistance). GLPI numbers its levels the other way round
  (5 = very high, 1 = very low), so the preset turns level ``g`` into
  ``6 - g`` for impact, urgency and priority alike. GLPI's sixth priority,
  "major", sits outside its matrix and is not part of the preset.

A preset with a few cells changed is written with ``preset`` and
``overrides`` (`CellOverride`), in a policy file or in Python:

>>> m = PriorityMatrix(preset="servicenow", overrides=[CellOverride(impact="low", urgency="low", priority=4)])
>>> m.priority(3, 3), m.priority(3, 2)
(4, 4)

The matrix keeps its preset and overrides, so `check_matrix` lists each
overridden cell against the preset's own value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Finding, FrozenMap, Severity

__all__ = [
    "GLPI",
    "PRESETS",
    "SERVICENOW",
    "CellOverride",
    "PriorityMatrix",
    "check_matrix",
    "preset",
    "preset_name",
]


#: The preset names, known before the presets themselves are built.
_PRESET_NAMES: Final = ("servicenow", "glpi")


def _to_cells(value: Iterable[Iterable[int]]) -> tuple[tuple[int, ...], ...]:
    return _cells_of(value)


def _cells_of(value: object) -> tuple[tuple[int, ...], ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"matrix.cells: expected rows of priorities such as [[1, 2], [2, 3]], got {value!r}"
        raise PolicyError(msg)
    rows: list[tuple[int, ...]] = []
    for i, row in enumerate(value):
        if isinstance(row, str) or not isinstance(row, Iterable):
            msg = f"matrix.cells[{i}]: expected a row of priorities, got {row!r}"
            raise PolicyError(msg)
        rows.append(tuple(row))
    return tuple(rows)


def _to_names(value: Iterable[str]) -> tuple[str, ...]:
    return _names_of(value)


def _names_of(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"expected a list of level names, got {value!r}"
        raise PolicyError(msg)
    return tuple(value)


def _default_names(count: int) -> tuple[str, ...]:
    return tuple(str(level) for level in range(1, count + 1))


def _default_impact(self: PriorityMatrix) -> tuple[str, ...]:
    if self.preset is not None:
        return PRESETS[self.preset].impact_levels
    return _default_names(len(self.cells))


def _default_urgency(self: PriorityMatrix) -> tuple[str, ...]:
    if self.preset is not None:
        return PRESETS[self.preset].urgency_levels
    return _default_names(len(self.cells[0]) if self.cells else 0)


def _default_priority_names(self: PriorityMatrix) -> tuple[str, ...]:
    return PRESETS[self.preset].priority_names if self.preset is not None else ()


def _default_cells(self: PriorityMatrix) -> tuple[tuple[int, ...], ...]:
    if self.preset is None:
        return ()
    return _apply_overrides(self.preset, self.overrides)


def _to_preset(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in _PRESET_NAMES:
        known = ", ".join(repr(k) for k in _PRESET_NAMES)
        msg = f"matrix.preset: unknown priority matrix preset {value!r}; expected one of {known}"
        raise PolicyError(msg)
    return str(key)


def _level_text(value: str | int) -> str:
    """A level of an override as text: its name, or its number written out."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return repr(value)  # never a level name: reported as unknown when the matrix resolves it
    return value.strip() if isinstance(value, str) else str(value)


@attrs.frozen(kw_only=True)
class CellOverride:
    """One cell of a preset set to another priority: ``impact`` x ``urgency`` -> ``priority``.

    ``impact`` and ``urgency`` name a level of the preset (``"low"``,
    ``"very high"``...) or give its number (1 is the highest); ``priority``
    is a priority of the preset (1 to 5 for both shipped presets).

    >>> CellOverride(impact="low", urgency=3, priority=4)
    CellOverride(impact='low', urgency='3', priority=4)
    """

    impact: str = attrs.field(converter=_level_text)
    urgency: str = attrs.field(converter=_level_text)
    priority: int


def _to_overrides(value: Iterable[CellOverride | Mapping[str, Any]]) -> tuple[CellOverride, ...]:
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        msg = f"matrix.overrides: expected a list of {{impact, urgency, priority}} tables, got {value!r}"
        raise PolicyError(msg)
    overrides: list[CellOverride] = []
    for index, item in enumerate(value):
        if isinstance(item, CellOverride):
            overrides.append(item)
            continue
        if not isinstance(item, Mapping) or set(item) != {"impact", "urgency", "priority"}:
            msg = f"matrix.overrides[{index}]: expected a table with impact, urgency and priority, got {item!r}"
            raise PolicyError(msg)
        overrides.append(CellOverride(impact=item["impact"], urgency=item["urgency"], priority=item["priority"]))
    return tuple(overrides)


def _level_of(names: tuple[str, ...], text: str, path: str, what: str, preset: str) -> int:
    """The level number an override names, by name or by number."""
    if text in names:
        return names.index(text) + 1
    if text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= len(names):
        return int(text)
    choices = ", ".join(repr(n) for n in names)
    msg = (
        f"{path}.{what}: {text!r} is outside the {preset} matrix; expected one of {choices} "
        f"or a number from 1 to {len(names)}"
    )
    raise PolicyError(msg)


def _resolve(name: str, overrides: tuple[CellOverride, ...]) -> dict[tuple[int, int], int]:
    """Map each override to its cell ``(impact, urgency)`` (levels from 1), checking levels, priorities, repeats."""
    base = PRESETS[name]
    cells: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], int] = {}
    top = base.lowest_priority
    for index, override in enumerate(overrides):
        path = f"matrix.overrides[{index}]"
        cell = (
            _level_of(base.impact_levels, override.impact, path, "impact", name),
            _level_of(base.urgency_levels, override.urgency, path, "urgency", name),
        )
        priority = override.priority
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= top:
            msg = f"{path}.priority: expected a priority from 1 to {top} of the {name} matrix, got {priority!r}"
            raise PolicyError(msg)
        if cell in where:
            msg = (
                f"{path}: impact {override.impact!r} x urgency {override.urgency!r} is already overridden "
                f"by matrix.overrides[{where[cell]}]"
            )
            raise PolicyError(msg)
        where[cell] = index
        cells[cell] = priority
    return cells


def _apply_overrides(name: str, overrides: tuple[CellOverride, ...]) -> tuple[tuple[int, ...], ...]:
    changed = _resolve(name, overrides)
    return tuple(
        tuple(changed.get((i, u), cell) for u, cell in enumerate(row, start=1))
        for i, row in enumerate(PRESETS[name].cells, start=1)
    )


def _check_names(field: str, names: tuple[str, ...], count: int, what: str) -> None:
    if len(names) != count:
        msg = f"matrix.{field}: expected {count} names (one per {what} of cells), got {len(names)}: {list(names)!r}"
        raise PolicyError(msg)
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            msg = f"matrix.{field}[{index}]: expected a non-empty name, got {name!r}"
            raise PolicyError(msg)
        if name in seen:
            msg = f"matrix.{field}[{index}]: duplicate level name {name!r}"
            raise PolicyError(msg)
        seen.add(name)


@attrs.frozen(kw_only=True)
class PriorityMatrix:
    """An impact x urgency -> priority table.

    ``cells`` has one row per impact level (row 0 is impact 1, the highest)
    and one column per urgency level. ``impact_levels`` and
    ``urgency_levels`` name the levels, highest first (by default ``"1"``,
    ``"2"``...); ``priority_names`` optionally names the priorities, most
    pressing first, and then bounds them.

    Instead of ``cells``, a matrix may name a ``preset`` (``"servicenow"``
    or ``"glpi"``) and change single cells of it with ``overrides``; the
    cells, level names and priority names are then the preset's, and giving
    other ones is an error. ``preset`` and ``overrides`` record where the
    cells come from: two matrices with the same cells and names are equal
    however they were written.

    >>> m = PriorityMatrix(cells=[[1, 2], [2, 3]])
    >>> m.priority(2, 1)
    2
    >>> PriorityMatrix(preset="glpi") == GLPI
    True

    :raises PolicyError: naming the path (``matrix.cells[1][0]``,
        ``matrix.overrides[0].urgency``...) and the value.
    """

    preset: str | None = attrs.field(default=None, converter=_to_preset, eq=False)
    overrides: tuple[CellOverride, ...] = attrs.field(default=(), converter=_to_overrides, eq=False)
    cells: tuple[tuple[int, ...], ...] = attrs.field(
        default=attrs.Factory(_default_cells, takes_self=True), converter=_to_cells
    )
    impact_levels: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_impact, takes_self=True), converter=_to_names
    )
    urgency_levels: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_urgency, takes_self=True), converter=_to_names
    )
    priority_names: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_priority_names, takes_self=True), converter=_to_names
    )

    def __attrs_post_init__(self) -> None:
        if self.preset is not None:
            self._check_preset(self.preset)
        elif self.overrides:
            msg = (
                "matrix.overrides: overrides change cells of a preset; name one with preset = 'servicenow' "
                "or 'glpi', or write the priority in cells directly"
            )
            raise PolicyError(msg)
        if not self.cells or not self.cells[0]:
            msg = (
                "matrix.cells: expected at least one row and one column (or a preset such as 'servicenow'), "
                f"got {[list(r) for r in self.cells]!r}"
            )
            raise PolicyError(msg)
        width = len(self.cells[0])
        bound = len(self.priority_names) or None
        for i, row in enumerate(self.cells):
            if len(row) != width:
                msg = f"matrix.cells[{i}]: expected {width} priorities like row 0, got {len(row)}: {list(row)!r}"
                raise PolicyError(msg)
            for u, cell in enumerate(row):
                if isinstance(cell, bool) or not isinstance(cell, int) or cell < 1:
                    msg = f"matrix.cells[{i}][{u}]: expected a priority >= 1, got {cell!r}"
                    raise PolicyError(msg)
                if bound is not None and cell > bound:
                    msg = f"matrix.cells[{i}][{u}]: expected a priority from 1 to {bound} (priority_names), got {cell}"
                    raise PolicyError(msg)
        _check_names("impact_levels", self.impact_levels, len(self.cells), "row")
        _check_names("urgency_levels", self.urgency_levels, width, "column")
        _check_names("priority_names", self.priority_names, len(self.priority_names), "priority")

    def _check_preset(self, name: str) -> None:
        """With a preset, the table and the names are the preset's: refuse other ones, naming the field."""
        base = PRESETS[name]
        expected = _apply_overrides(name, self.overrides)
        if self.cells != expected:
            msg = (
                f"matrix.cells: the {name} preset gives the cells; change single cells with overrides "
                f"(impact, urgency, priority), or leave the preset out, got {[list(r) for r in self.cells]!r}"
            )
            raise PolicyError(msg)
        for field in ("impact_levels", "urgency_levels", "priority_names"):
            if getattr(self, field) != getattr(base, field):
                msg = (
                    f"matrix.{field}: the {name} preset names its own levels {list(getattr(base, field))!r}; "
                    f"leave {field} out, or give cells instead of a preset, got {list(getattr(self, field))!r}"
                )
                raise PolicyError(msg)

    def overridden(self) -> tuple[tuple[int, int, int, int], ...]:
        """The cells changed from the preset: ``(impact, urgency, preset's priority, priority)``, levels from 1.

        Empty for a matrix without a preset.

        >>> m = PriorityMatrix(preset="servicenow", overrides=[CellOverride(impact=3, urgency=3, priority=4)])
        >>> m.overridden()
        ((3, 3, 5, 4),)
        """
        if self.preset is None:
            return ()
        base = PRESETS[self.preset]
        changed = _resolve(self.preset, self.overrides)
        return tuple((i, u, base.priority(i, u), priority) for (i, u), priority in sorted(changed.items()))

    @property
    def impacts(self) -> int:
        """The number of impact levels (rows)."""
        return len(self.cells)

    @property
    def urgencies(self) -> int:
        """The number of urgency levels (columns)."""
        return len(self.cells[0])

    @property
    def lowest_priority(self) -> int:
        """The least pressing priority: the number of priority names, else the largest cell."""
        return len(self.priority_names) or max(max(row) for row in self.cells)

    def priority(self, impact: int, urgency: int) -> int:
        """Return the priority of an impact and an urgency level (1 is the highest level).

        :raises TicketError: naming ``ticket.impact`` or ``ticket.urgency``
            when a level is off the matrix.
        """
        if isinstance(impact, bool) or not isinstance(impact, int) or not 1 <= impact <= len(self.cells):
            msg = f"ticket.impact: expected a level from 1 to {len(self.cells)} on the priority matrix, got {impact!r}"
            raise TicketError(msg)
        row = self.cells[impact - 1]
        if isinstance(urgency, bool) or not isinstance(urgency, int) or not 1 <= urgency <= len(row):
            msg = f"ticket.urgency: expected a level from 1 to {len(row)} on the priority matrix, got {urgency!r}"
            raise TicketError(msg)
        return row[urgency - 1]

    def priority_name(self, priority: int) -> str:
        """Return the name of *priority*, or its number when the matrix names none."""
        if self.priority_names and 1 <= priority <= len(self.priority_names):
            return self.priority_names[priority - 1]
        return str(priority)


# --------------------------------------------------------------------------
# Presets

#: ServiceNow's default incident priority lookup rules (impact + urgency - 1).
SERVICENOW: Final[PriorityMatrix] = PriorityMatrix(
    cells=((1, 2, 3), (2, 3, 4), (3, 4, 5)),
    impact_levels=("high", "medium", "low"),
    urgency_levels=("high", "medium", "low"),
    priority_names=("critical", "high", "moderate", "low", "planning"),
)

# GLPI's default `priority_matrix[urgency][impact]`, in GLPI's numbering
# (5 = very high), from its install data; rows are urgency 1..5, columns impact 1..5.
_GLPI_TABLE: tuple[tuple[int, ...], ...] = (
    (1, 1, 2, 2, 2),
    (1, 2, 2, 3, 3),
    (2, 2, 3, 4, 4),
    (2, 3, 4, 4, 5),
    (2, 3, 4, 5, 5),
)


def _from_glpi(table: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """Turn GLPI's ``table[urgency][impact]`` (5 = very high) into our rows by impact (1 = highest)."""
    size = len(table)
    top = size + 1
    return tuple(
        tuple(top - table[top - urgency - 1][top - impact - 1] for urgency in range(1, size + 1))
        for impact in range(1, size + 1)
    )


_GLPI_NAMES = ("very high", "high", "medium", "low", "very low")

#: GLPI's default 5 x 5 matrix, renumbered so that 1 is the highest.
GLPI: Final[PriorityMatrix] = PriorityMatrix(
    cells=_from_glpi(_GLPI_TABLE),
    impact_levels=_GLPI_NAMES,
    urgency_levels=_GLPI_NAMES,
    priority_names=_GLPI_NAMES,
)

#: The named presets, by lower-case name.
PRESETS: Final[Mapping[str, PriorityMatrix]] = FrozenMap({"servicenow": SERVICENOW, "glpi": GLPI})


def preset(name: str, *, overrides: Iterable[CellOverride | Mapping[str, Any]] = ()) -> PriorityMatrix:
    """Return the preset matrix called *name* (case-insensitive), with single cells changed by *overrides*.

    The presets and their sources are listed in the module's documentation.

    >>> preset("servicenow", overrides=[{"impact": "low", "urgency": "low", "priority": 4}]).priority(3, 3)
    4

    :raises PolicyError: for an unknown name, listing the known ones; for an
        override outside the matrix or a priority out of range, naming
        ``matrix.overrides[i]`` and the value.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in PRESETS:
        known = ", ".join(repr(k) for k in PRESETS)
        msg = f"unknown priority matrix preset {name!r}; expected one of {known} or a table of cells"
        raise PolicyError(msg)
    changes = _to_overrides(overrides)
    return PriorityMatrix(preset=key, overrides=changes) if changes else PRESETS[key]


def preset_name(matrix: PriorityMatrix) -> str | None:
    """Return the name of the preset equal to *matrix*, or ``None``."""
    for name, candidate in PRESETS.items():
        if candidate == matrix:
            return name
    return None


# --------------------------------------------------------------------------
# Static checks


def _overridden_by_index(matrix: PriorityMatrix) -> list[tuple[int, tuple[int, int, int, int]]]:
    """Each override of *matrix* with its index: ``(index, (impact, urgency, preset's priority, priority))``."""
    assert matrix.preset is not None
    base = PRESETS[matrix.preset]
    changed = _resolve(matrix.preset, matrix.overrides)
    return [
        (index, (impact, urgency, base.priority(impact, urgency), priority))
        for index, ((impact, urgency), priority) in enumerate(changed.items())
    ]


def check_matrix(matrix: PriorityMatrix, *, path: str = "matrix") -> tuple[Finding, ...]:
    """Report what is questionable in a matrix, and list the cells that differ from its preset.

    Errors: a cell more pressing than its neighbour with a higher impact or
    urgency (non-monotone rows or columns). Warnings: priorities between 1 and
    the lowest one that no cell reaches; an override that sets a cell to the
    value the preset already gives. Info: an asymmetric square matrix (impact
    and urgency weigh differently; often intended); each overridden cell of a
    preset (``matrix.overridden``), with the preset's value and the new one.

    >>> m = preset("servicenow", overrides=[{"impact": "low", "urgency": "low", "priority": 4}])
    >>> [f.message for f in check_matrix(m) if f.code == "matrix.overridden"]
    ['impact low x urgency low: priority 4 (low) instead of 5 (planning) in the servicenow preset']
    """
    findings: list[Finding] = []
    cells = matrix.cells
    if matrix.preset is not None:
        base = PRESETS[matrix.preset]
        for index, (impact, urgency, was, now) in _overridden_by_index(matrix):
            cell = (
                f"impact {matrix.impact_levels[impact - 1]} x urgency {matrix.urgency_levels[urgency - 1]}"
            )
            if was == now:
                findings.append(
                    Finding(
                        "matrix.override_unchanged",
                        Severity.WARNING,
                        f"{path}.overrides[{index}]",
                        f"{cell}: the {matrix.preset} preset already gives priority {now} "
                        f"({base.priority_name(now)}); the override changes nothing",
                    )
                )
                continue
            findings.append(
                Finding(
                    "matrix.overridden",
                    Severity.INFO,
                    f"{path}.overrides[{index}]",
                    f"{cell}: priority {now} ({matrix.priority_name(now)}) instead of {was} "
                    f"({base.priority_name(was)}) in the {matrix.preset} preset",
                )
            )
    findings.extend(
        Finding(
            "matrix.not_monotone",
            Severity.ERROR,
            f"{path}.cells[{i}][{u}]",
            f"urgency {u + 1} gives priority {row[u]}, more pressing than {row[u - 1]} "
            f"for the higher urgency {u} (impact {i + 1})",
        )
        for i, row in enumerate(cells)
        for u in range(1, len(row))
        if row[u] < row[u - 1]
    )
    findings.extend(
        Finding(
            "matrix.not_monotone",
            Severity.ERROR,
            f"{path}.cells[{i}][{u}]",
            f"impact {i + 1} gives priority {cell}, more pressing than {cells[i - 1][u]} "
            f"for the higher impact {i} (urgency {u + 1})",
        )
        for i in range(1, len(cells))
        for u, cell in enumerate(cells[i])
        if cell < cells[i - 1][u]
    )
    reached = {cell for row in cells for cell in row}
    unreached = [p for p in range(1, matrix.lowest_priority + 1) if p not in reached]
    if unreached:
        findings.append(
            Finding(
                "matrix.unreached_priority",
                Severity.WARNING,
                f"{path}.cells",
                "no cell gives priority " + ", ".join(matrix.priority_name(p) for p in unreached),
            )
        )
    if matrix.impacts == matrix.urgencies:
        pairs = [
            (i, u)
            for i in range(matrix.impacts)
            for u in range(i + 1, matrix.urgencies)
            if cells[i][u] != cells[u][i]
        ]
        if pairs:
            i, u = pairs[0]
            findings.append(
                Finding(
                    "matrix.asymmetric",
                    Severity.INFO,
                    f"{path}.cells",
                    f"impact and urgency weigh differently: cells[{i}][{u}] = {cells[i][u]} but "
                    f"cells[{u}][{i}] = {cells[u][i]} ({len(pairs)} such pair{'s' if len(pairs) > 1 else ''})",
                )
            )
    return tuple(findings)
