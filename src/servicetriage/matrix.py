"""Impact x urgency -> priority matrices, with the ServiceNow and GLPI defaults as presets.

The convention throughout the library: **level 1 is the highest** impact or
urgency, and **priority 1 is the most pressing**. A matrix has one row per
impact level and one column per urgency level; ``cells[i - 1][u - 1]`` is the
priority of impact ``i`` and urgency ``u``. A well-formed matrix is
*monotone*: moving to a lower impact or urgency (a larger level number) never
gives a more pressing priority (a smaller number). `check_matrix`
reports matrices that are not.

Presets (`PRESETS`, `preset`):

- ``"servicenow"`` (`SERVICENOW`): ServiceNow's default incident
  priority lookup rules, 3 x 3 -> 1 Critical .. 5 Planning, equal to
  ``impact + urgency - 1``. Some newer ServiceNow releases list the low x low
  cell as 4 - Low in their sample data; this preset keeps 5 - Planning, the
  value of the long-standing default table and of the problem-management
  table, so that every priority 1..5 is reachable and the matrix stays
  ``impact + urgency - 1`` everywhere.
- ``"glpi"`` (`GLPI`): GLPI's default 5 x 5 matrix. GLPI numbers its
  levels the other way round (5 = very high, 1 = very low), so the preset
  turns level ``g`` into ``6 - g`` for impact, urgency and priority alike.
  GLPI's sixth priority, "major", sits outside its matrix and is not part of
  the preset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Finding, FrozenMap, Severity

__all__ = [
    "GLPI",
    "PRESETS",
    "SERVICENOW",
    "PriorityMatrix",
    "check_matrix",
    "preset",
    "preset_name",
]


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
    return _default_names(len(self.cells))


def _default_urgency(self: PriorityMatrix) -> tuple[str, ...]:
    return _default_names(len(self.cells[0]) if self.cells else 0)


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

    >>> m = PriorityMatrix(cells=[[1, 2], [2, 3]])
    >>> m.priority(2, 1)
    2
    """

    cells: tuple[tuple[int, ...], ...] = attrs.field(converter=_to_cells)
    impact_levels: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_impact, takes_self=True), converter=_to_names
    )
    urgency_levels: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_default_urgency, takes_self=True), converter=_to_names
    )
    priority_names: tuple[str, ...] = attrs.field(default=(), converter=_to_names)

    def __attrs_post_init__(self) -> None:
        if not self.cells or not self.cells[0]:
            msg = f"matrix.cells: expected at least one row and one column, got {[list(r) for r in self.cells]!r}"
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


def preset(name: str) -> PriorityMatrix:
    """Return the preset matrix called *name* (case-insensitive).

    :raises PolicyError: for an unknown name, listing the known ones.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in PRESETS:
        known = ", ".join(repr(k) for k in PRESETS)
        msg = f"unknown priority matrix preset {name!r}; expected one of {known} or a table of cells"
        raise PolicyError(msg)
    return PRESETS[key]


def preset_name(matrix: PriorityMatrix) -> str | None:
    """Return the name of the preset equal to *matrix*, or ``None``."""
    for name, candidate in PRESETS.items():
        if candidate == matrix:
            return name
    return None


# --------------------------------------------------------------------------
# Static checks


def check_matrix(matrix: PriorityMatrix, *, path: str = "matrix") -> tuple[Finding, ...]:
    """Report what is questionable in a matrix.

    Errors: a cell more pressing than its neighbour with a higher impact or
    urgency (non-monotone rows or columns). Warnings: priorities between 1 and
    the lowest one that no cell reaches. Info: an asymmetric square matrix
    (impact and urgency weigh differently; often intended).
    """
    findings: list[Finding] = []
    cells = matrix.cells
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
