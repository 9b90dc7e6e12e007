"""Loading and dumping policies, playbooks and tickets: TOML, JSON and YAML.

This is the shell around the pure core: one `cattrs` converter that knows
the library's value types (money as ``"500 CNY"``, durations as ``"1h30m"``,
aware ISO times, time zones), and functions that read and write files.
Every error names the path of each bad field and its value, all of a
document's problems at once:

    grants[3].limit: expected a positive amount, got '-5 CNY'

YAML needs the ``yaml`` extra (PyYAML); TOML output needs the ``toml`` extra
(tomli-w). Reading TOML and JSON needs only the standard library.
"""

from __future__ import annotations

import enum
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import format_exception, transform_error

from servicetriage import model
from servicetriage._inputs import member
from servicetriage.calendar import Shift
from servicetriage.errors import PolicyError, ServiceTriageError, TicketError
from servicetriage.matrix import PriorityMatrix, preset, preset_name
from servicetriage.model import AttributeValue, FrozenMap, Money, Quadrant

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_DURATION",
    "MAX_NESTING",
    "MAX_VALUES",
    "Format",
    "check_time",
    "converter",
    "dump",
    "dump_file",
    "format_duration",
    "load",
    "load_file",
    "load_section",
    "parse_duration",
    "prefix_problems",
    "read_document",
    "structure",
    "unstructure",
]

T = TypeVar("T")

#: The file formats the library reads and writes.
Format = Literal["toml", "json", "yaml"]

_SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}

# --------------------------------------------------------------------------
# Durations: "1h30m", "2d", "45s", "PT1H30M", or a number of seconds.

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_COMPACT_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)([wdhms]))+$")
_COMPACT_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_ISO_RE = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


#: The longest duration the library reads: 100 years. Longer ones overflow the calendar as soon as they are
#: added to a time (``call_back_within = "999999999d"`` passed ``check`` and then broke every decision).
MAX_DURATION = timedelta(days=36_500)
#: The times the library reads: from 1900 to the end of 2999. With `MAX_DURATION`, no deadline computed from
#: them can leave the calendar (which ends in 9999).
EARLIEST = model.EARLIEST
LATEST = model.LATEST


def _exact_timedelta(seconds: Decimal, value: object) -> timedelta:
    # Decimal, not float: "99421d0.000001s" keeps its microsecond.
    if abs(seconds) > MAX_DURATION.days * 86400:
        msg = f"expected a duration of at most {MAX_DURATION.days}d (100 years), got {value!r}"
        raise ValueError(msg)
    return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value()))


def check_time(value: datetime, where: str = "") -> datetime:
    """Return *value* if it lies between `EARLIEST` and `LATEST`, else raise ``ValueError`` naming *where*."""
    if not EARLIEST <= value < LATEST:
        prefix = f"{where}: " if where else ""
        msg = f"{prefix}expected a time from 1900 to 2999, got {value.isoformat()!r}"
        raise ValueError(msg)
    return value


def parse_duration(value: object) -> timedelta:
    """Parse a duration: ``"1h30m"``, ``"2d"``, ``"PT45M"``, ``"-15m"`` or seconds.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    if isinstance(value, timedelta):
        if abs(value) > MAX_DURATION:
            msg = f"expected a duration of at most {MAX_DURATION.days}d (100 years), got {format_duration(value)!r}"
            raise ValueError(msg)
        return value
    if isinstance(value, bool):
        msg = f"expected a duration such as '1h30m', got {value!r}"
        raise ValueError(msg)
    if isinstance(value, int | float):
        if not abs(value) <= MAX_DURATION.days * 86400:  # NaN too
            msg = f"expected a duration of at most {MAX_DURATION.days}d (100 years), got {value!r}"
            raise ValueError(msg)
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        sign = 1
        if text.startswith("-"):
            sign, text = -1, text[1:]
        if text and _COMPACT_RE.match(text):
            seconds = sum((Decimal(n) * _UNIT_SECONDS[u] for n, u in _COMPACT_PART_RE.findall(text)), Decimal(0))
            return sign * _exact_timedelta(seconds, value)
        match = _ISO_RE.match(text)
        if text not in ("P", "PT") and match and any(match.groupdict().values()):
            parts = {k: Decimal(v) for k, v in match.groupdict().items() if v}
            seconds = sum((parts.get(k, Decimal(0)) * _UNIT_SECONDS[k.lower()] for k in "wdhms"), Decimal(0))
            return sign * _exact_timedelta(seconds, value)
    msg = f"expected a duration such as '1h30m', 'PT45M' or a number of seconds, got {value!r}"
    raise ValueError(msg)


def format_duration(value: timedelta) -> str:
    """Render a duration compactly, the inverse of `parse_duration`.

    >>> format_duration(timedelta(hours=1, minutes=30))
    '1h30m'
    """
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    if micros == 0:
        return "0s"
    whole, frac = divmod(micros, 1_000_000)
    parts = []
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if whole or frac:
        seconds = f"{whole}" if not frac else f"{whole}.{frac:06d}".rstrip("0")
        parts.append(f"{seconds}s")
    return sign + "".join(parts)


# --------------------------------------------------------------------------
# The converter


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.strip())
        except ValueError:
            msg = f"expected an ISO 8601 time such as '2026-05-01T09:30:00+08:00', got {value!r}"
            raise ValueError(msg) from None
    else:
        msg = f"expected an ISO 8601 time, got {value!r}"
        raise ValueError(msg)
    if result.tzinfo is None or result.utcoffset() is None:
        msg = f"expected an aware time (with a time zone offset), got naive {value!r}"
        raise ValueError(msg)
    return check_time(result)


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        msg = f"expected a date such as '2026-10-01', got {value!r}"
        raise ValueError(msg) from None


def _structure_time(value: Any, _: type) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        msg = f"expected a time of day such as '09:00', got {value!r}"
        raise ValueError(msg) from None


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        msg = f"expected a decimal written as a string or an integer, got {value!r}"
        raise ValueError(msg)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        msg = f"expected a decimal number, got {value!r}"
        raise ValueError(msg) from None


def _structure_bool(value: Any, _: type) -> bool:
    # cattrs' own hook is bool(value): "false" and "no" would read as true.
    if not isinstance(value, bool):
        msg = f"expected true or false, got {value!r}"
        raise ValueError(msg)
    return value


def _structure_money(value: Any, _: type) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, str):
        return Money.parse(value)
    if isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
        return Money(_structure_decimal(value["amount"], Decimal), value["currency"])
    msg = f"expected money such as '500 CNY', got {value!r}"
    raise ValueError(msg)


def _structure_zone(value: Any, _: type) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"expected an IANA time zone such as 'Asia/Shanghai', got {value!r}"
        raise ValueError(msg) from None


def _structure_quadrant(value: Any, _: type) -> Quadrant:
    # Files name quadrants as people do ("Q1"); the handling order (1) is accepted too (one rule: `_inputs`).
    return member(Quadrant, value, None)


def _structure_duration(value: Any, _: type) -> timedelta:
    return parse_duration(value)


def _is_set(cls: Any) -> bool:
    return cls in (frozenset, set) or get_origin(cls) in (frozenset, set)


def _enum_hook(cls: type[enum.Enum]) -> Callable[[Any, Any], enum.Enum]:
    def hook(value: Any, _: Any) -> enum.Enum:
        return member(cls, value, None)

    return hook


def _is_frozenmap(cls: Any) -> bool:
    return cls is FrozenMap or get_origin(cls) is FrozenMap


def _frozenmap_hook(cls: Any) -> Callable[[Any, Any], FrozenMap[Any, Any]]:
    args = get_args(cls)
    mapping_type = dict[args[0], args[1]] if args else dict[str, Any]  # type: ignore[valid-type]

    def hook(value: Any, _: Any) -> FrozenMap[Any, Any]:
        if isinstance(value, FrozenMap):
            return value
        return FrozenMap(converter.structure(value, mapping_type))

    return hook


def _structure_attribute_value(value: Any, _: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    msg = f"expected a string, number or boolean, got {value!r}"
    raise ValueError(msg)


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _register_calendar_and_matrix(conv: cattrs.Converter) -> None:
    """Shifts as ``"09:00-18:00"``; a priority matrix as a preset name or a table of cells."""
    conv.register_structure_hook(Shift, lambda value, _: Shift.parse(value))
    conv.register_unstructure_hook(Shift, str)
    table = cattrs.gen.make_dict_structure_fn(PriorityMatrix, conv, _cattrs_forbid_extra_keys=True)
    plain = cattrs.gen.make_dict_unstructure_fn(PriorityMatrix, conv, _cattrs_omit_if_default=True)

    def structure_matrix(value: Any, _: type) -> PriorityMatrix:
        if isinstance(value, PriorityMatrix):
            return value
        if isinstance(value, str):  # matrix = "servicenow"
            return preset(value)
        return table(value, PriorityMatrix)

    conv.register_structure_hook(PriorityMatrix, structure_matrix)
    conv.register_unstructure_hook(PriorityMatrix, lambda matrix: preset_name(matrix) or plain(matrix))


def _register_triage(conv: cattrs.Converter) -> None:
    """A triage policy's ``detectors`` are Python objects: never written to a file, never read from one."""
    from servicetriage.triage import TriagePolicy  # noqa: PLC0415 - the triage module is core; imported late

    skip = cattrs.gen.override(omit=True)
    conv.register_structure_hook(
        TriagePolicy,
        cattrs.gen.make_dict_structure_fn(TriagePolicy, conv, _cattrs_forbid_extra_keys=True, detectors=skip),
    )
    conv.register_unstructure_hook(
        TriagePolicy,
        cattrs.gen.make_dict_unstructure_fn(TriagePolicy, conv, _cattrs_omit_if_default=True, detectors=skip),
    )


def _register_authority(conv: cattrs.Converter) -> None:
    """A condition's quadrants are held by name: the file's values go to the one quadrant rule as written.

    Structured as ``frozenset[str]``, a quadrant written as its handling
    order (``1``) would become the string ``'1'`` and be refused, where
    every other place accepts it (see `servicetriage._inputs`).
    """
    from servicetriage.authority import Conditions  # noqa: PLC0415 - core modules load late here

    as_written = cattrs.gen.override(struct_hook=lambda value, _: value)
    conv.register_structure_hook(
        Conditions,
        cattrs.gen.make_dict_structure_fn(Conditions, conv, _cattrs_forbid_extra_keys=True, quadrants=as_written),
    )


def _register_escalation(conv: cattrs.Converter) -> None:
    """An escalation state's calendar is written as its `BusinessCalendar` table and read back as one.

    The state's ``calendar`` field is typed by what escalation needs (the
    `BusinessClock` protocol); the calendar the library ships is what a
    file or a CRM's database can hold, so a state started with one
    round-trips through JSON between `advance_escalation` calls.
    """
    from servicetriage.calendar import BusinessCalendar  # noqa: PLC0415 - core modules load late here
    from servicetriage.escalation import BusinessClock  # noqa: PLC0415

    def structure_clock(value: Any, _: type) -> BusinessCalendar:
        if isinstance(value, BusinessCalendar):
            return value
        return conv.structure(value, BusinessCalendar)

    conv.register_structure_hook(BusinessClock, structure_clock)


def make_converter() -> cattrs.Converter:
    """Build the library's converter: our value types, strict about extra keys."""
    conv = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(date, _structure_date)
    conv.register_structure_hook(time, _structure_time)
    conv.register_structure_hook(timedelta, _structure_duration)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Money, _structure_money)
    conv.register_structure_hook(ZoneInfo, _structure_zone)
    conv.register_structure_hook(Quadrant, _structure_quadrant)
    conv.register_structure_hook_factory(_is_frozenmap, _frozenmap_hook)
    conv.register_structure_hook_factory(lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _enum_hook)
    conv.register_structure_hook_func(lambda t: t == AttributeValue, _structure_attribute_value)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_unstructure_hook(time, lambda t: t.isoformat(timespec="minutes") if not t.second else t.isoformat())
    conv.register_unstructure_hook(timedelta, format_duration)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook(Money, str)
    conv.register_unstructure_hook(ZoneInfo, lambda z: z.key)
    conv.register_unstructure_hook(Quadrant, lambda q: q.name)
    conv.register_unstructure_hook_func(_is_frozenmap, lambda m: {k: conv.unstructure(v) for k, v in m.items()})
    conv.register_unstructure_hook_func(
        _is_set,
        lambda s: sorted((converter.unstructure(v) for v in s), key=repr),
    )
    _register_calendar_and_matrix(conv)
    _register_triage(conv)
    _register_authority(conv)
    _register_escalation(conv)
    return conv


#: The shared converter. Register hooks for your own types on a copy
#: (``converter.copy()``), not on this one.
converter = make_converter()

# --------------------------------------------------------------------------
# Errors with paths

_PREFIXED = re.compile(r"^[a-z_]+\.([A-Za-z_][\w.\[\]]*): (.*)$", re.DOTALL)


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ServiceTriageError | ValueError) and not isinstance(exc, KeyError) and str(exc):
        return str(exc)
    extra = getattr(exc, "extra_fields", None)
    if isinstance(extra, set | frozenset):  # cattrs joins them as strings: a YAML key may be a number or a boolean
        return f"extra fields found ({', '.join(sorted(str(key) for key in extra))})"
    return format_exception(exc, type_)


def _join(line: str) -> str:
    """Turn cattrs' ``msg @ $.a[0]`` into ``a[0].field: msg``."""
    message, _, path = line.rpartition(" @ ")
    if not _:
        return line
    path = path.removeprefix("$").removeprefix(".")
    match = _PREFIXED.match(message)
    if match:
        # The validator named its own field ("grant.limit: ..."): graft it on the path.
        field, message = match.groups()
        if not path.endswith(field):
            path = f"{path}.{field}" if path else field
    return f"{path or '<document>'}: {message}"


def problems_of(exc: BaseException) -> tuple[str, ...]:
    """All the problems a structuring error holds, each ``path: message``."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        return tuple(_join(line) for line in transform_error(exc, format_exception=_format))
    return (str(exc),)


def structure(data: Any, cls: type[T], *, error: type[ServiceTriageError] = PolicyError) -> T:
    """Build a *cls* from plain data, or raise *error* listing every problem."""
    try:
        return converter.structure(data, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        problems = problems_of(exc)
        raise (
            error("; ".join(problems), problems) if error in (PolicyError, TicketError) else error("; ".join(problems))
        ) from None
    except ServiceTriageError as exc:
        if isinstance(exc, error):
            raise
        raise error(str(exc)) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise error(f"<document>: {exc}") from None
    except AttributeError:  # a list or a scalar where a table of fields belongs
        raise error(f"<document>: expected a table of fields, got {data!r}") from None


def unstructure(value: object) -> Any:
    """Turn a library value into plain data (dicts, lists, strings, numbers)."""
    return converter.unstructure(value)


# --------------------------------------------------------------------------
# Files


class _DuplicateKeyError(ValueError):
    """A key given twice in one table: the parsers' own errors do not always name it."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key given twice (``json`` keeps the last one silently)."""
    table: dict[str, Any] = {}
    for key, value in pairs:
        if key in table:
            msg = f"duplicate key {key!r}"
            raise _DuplicateKeyError(msg)
        table[key] = value
    return table


_TOML_OVERWRITE = re.compile(r"^Cannot overwrite a value \(at line (\d+), column (\d+)\)$")
_TOML_SIMPLE_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_TOML_KEY = re.compile(rf"^\s*({_TOML_SIMPLE_KEY}(?:\s*\.\s*{_TOML_SIMPLE_KEY})*)\s*=")


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """The TOML parser's message, naming the key when it reports a key given twice ("Cannot overwrite a value")."""
    match = _TOML_OVERWRITE.match(str(exc))
    if match is None:
        return str(exc)
    line_no = int(match.group(1))
    lines = text.splitlines()
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    key = _TOML_KEY.match(line)
    if key is None:
        return str(exc)
    return f"duplicate key {key.group(1)!r} (at line {line_no})"


#: How deep a document may nest tables and lists. Deeper ones are rejected before anything walks them.
MAX_NESTING = 64
#: How many values (tables, lists and scalars) a document may hold once YAML aliases are expanded: a chain of
#: aliases a few hundred bytes long can stand for billions of values.
MAX_VALUES = 1_000_000


def _bounded(data: Any) -> Any:
    """Return *data* if it is small enough to walk; else raise ``ValueError``.

    At most `MAX_NESTING` levels deep and `MAX_VALUES` values, each alias counted as often as it is used;
    a value that contains itself is refused.
    """
    sizes: dict[int, int] = {}  # a shared (aliased) value is measured once
    open_ids: set[int] = set()

    def size(value: Any, depth: int) -> int:
        if not isinstance(value, dict | list):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if depth >= MAX_NESTING:
            msg = f"nested more than {MAX_NESTING} levels deep"
            raise ValueError(msg)
        if key in open_ids:
            msg = "a value contains itself (a recursive YAML alias)"
            raise ValueError(msg)
        open_ids.add(key)
        total = 1
        for child in value.values() if isinstance(value, dict) else value:
            total += size(child, depth + 1)
            if total > MAX_VALUES:
                msg = f"more than {MAX_VALUES:,} values (are YAML aliases expanding?)"
                raise ValueError(msg)
        open_ids.discard(key)
        sizes[key] = total
        return total

    size(data, 0)
    return data


def _parse(text: str, fmt: Format, source: str) -> Any:
    try:
        if fmt == "toml":
            try:
                return _bounded(tomllib.loads(text))
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(_toml_problem(exc, text)) from None
        if fmt == "json":
            return _bounded(json.loads(text, object_pairs_hook=_unique_pairs))
        return _bounded(_yaml_load(text))
    except ModuleNotFoundError:
        raise
    except RecursionError:
        msg = f"{source}: not valid {fmt.upper()}: nested more than {MAX_NESTING} levels deep"
        raise PolicyError(msg) from None
    except Exception as exc:  # noqa: BLE001 - the three parsers raise unrelated types
        msg = f"{source}: not valid {fmt.upper()}: {_one_line(exc)}"
        raise PolicyError(msg) from None


def _one_line(exc: Exception) -> str:
    """A parser's message on one line: PyYAML's spans several, with the offending text and a caret."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if isinstance(problem, str) and mark is not None:
        context = getattr(exc, "context", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return f"{context}: {problem} (at {where})" if isinstance(context, str) else f"{problem} (at {where})"
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def _yaml_load(text: str) -> Any:
    """``yaml.safe_load``, refusing a key given twice in one mapping (PyYAML keeps the last one silently)."""
    yaml = _yaml()

    class Loader(yaml.SafeLoader):  # type: ignore[misc,name-defined]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key: the constructor reports it
                if duplicate:
                    mark = key_node.start_mark
                    msg = f"duplicate key {key!r} (at line {mark.line + 1}, column {mark.column + 1})"
                    raise _DuplicateKeyError(msg)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return yaml.load(text, Loader=Loader)


def _yaml() -> Any:
    try:
        import yaml  # noqa: PLC0415
    except ModuleNotFoundError:
        msg = "YAML needs PyYAML: pip install 'servicetriage[yaml]'"
        raise PolicyError(msg) from None
    return yaml


def format_of(path: str | Path) -> Format:
    """The format a file name implies, from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        msg = f"{path}: cannot tell the format from the suffix {suffix!r}; use .toml, .json, .yaml or .yml"
        raise PolicyError(msg)
    return _SUFFIXES[suffix]


def load(text: str, cls: type[T], fmt: Format = "toml", *, source: str = "<string>") -> T:
    """Parse *text* in *fmt* and build a *cls* from it."""
    data = _parse(text, fmt, source)
    return structure(data, cls)


def load_file(path: str | Path, cls: type[T], *, error: type[PolicyError | TicketError] = PolicyError) -> T:
    """Read a TOML, JSON or YAML file (by suffix) and build a *cls* from it.

    Errors are *error* (a policy error by default; pass ``TicketError`` for
    records such as tickets and requests) and name the file and every bad
    field's path.
    """
    data = read_document(path, error=error)
    try:
        return structure(data, cls, error=error)
    except (PolicyError, TicketError) as exc:
        problems = tuple(p if p.startswith(str(path)) else f"{path}: {p}" for p in exc.problems)
        raise error("; ".join(problems), problems) from None


def dump(value: object, fmt: Format = "toml") -> str:
    """Render a library value as TOML, JSON or YAML text."""
    data = unstructure(value)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        return str(_yaml().safe_dump(data, allow_unicode=True, sort_keys=False))
    try:
        import tomli_w  # noqa: PLC0415
    except ModuleNotFoundError:
        msg = "writing TOML needs tomli-w: pip install 'servicetriage[toml]'"
        raise PolicyError(msg) from None
    return str(tomli_w.dumps(_drop_none(data)))


def _drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_drop_none(v) for v in data]
    return data


def dump_file(value: object, path: str | Path) -> None:
    """Write a library value to *path*, in the format its suffix names."""
    Path(path).write_text(dump(value, format_of(path)), encoding="utf-8")


def read_document(path: str | Path, *, error: type[PolicyError | TicketError] = PolicyError) -> Any:
    """Read and parse a TOML, JSON or YAML file (by suffix) into plain data.

    A file that cannot be read or parsed raises *error* naming the file.
    """
    try:
        fmt = format_of(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            msg = f"{path}: cannot read: {exc.strerror or exc}"
            raise PolicyError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"{path}: not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
            raise PolicyError(msg) from None
        return _parse(text, fmt, str(path))
    except PolicyError as exc:
        if error is PolicyError:
            raise
        raise error(str(exc)) from None


def prefix_problems(problems: Iterable[str], path: str | Path, section: str) -> tuple[str, ...]:
    """Name the file and the section in front of each ``path: message`` problem."""
    return tuple(f"{path}: {section}: {p}" if p.startswith("<") else f"{path}: {section}.{p}" for p in problems)


def load_section(path: str | Path, section: str, cls: type[T], *, required: bool = False) -> T | None:
    """Build a *cls* from the table *section* of a policy file.

    One policy file may hold several sections (``triage``, ``authority``,
    ``escalation``, ``playbooks``...). Errors name the file and the full path
    (``authority.grants[3].limit: ...``). Returns ``None`` when the section is
    absent, unless *required*.
    """
    data = read_document(path)
    if not isinstance(data, dict) or section not in data:
        if required:
            msg = f"{path}: no [{section}] section"
            raise PolicyError(msg)
        return None
    try:
        return structure(data[section], cls)
    except PolicyError as exc:
        problems = prefix_problems(exc.problems, path, section)
        raise PolicyError("; ".join(problems), problems) from None
