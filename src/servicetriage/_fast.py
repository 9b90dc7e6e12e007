"""Speed tricks, in one place: each generated from, or checked against, the plain definition.

The library's results are frozen ``attrs`` values built by their plain
constructors, and its plain functions say what the results mean. A hot path
may take a shortcut only through this module, and each shortcut here is
either generated from the plain definition or checked against it by a
property test (``tests/test_fast.py``), so a change to the model cannot
leave a fast path behind.

**Fast constructors** (`constructor`). An ``attrs`` ``__init__`` runs every
converter and validator and, on a frozen class, sets each field through
``object.__setattr__`` by name. A result assembled from parts that are valid
by construction (reasons prepared when a policy is compiled, amounts read
from validated money) needs none of that. ``constructor(cls)`` generates,
from ``attrs.fields(cls)``, a function with the same signature as the class
(names, keyword-only parameters, defaults) that allocates the object and
sets its slots directly: about half the cost. It sets exactly the fields
the class has, so a field added to the model flows through (with its
default), and a class it cannot build faithfully (no slots, an
``__attrs_post_init__``, a field left out of ``__init__``, state kept
beside the fields) raises `TypeError` when the fast constructor is made,
that is, when the module that uses it is imported. What it skips is the
contract: pass only values the plain constructor would store unchanged
(already converted, already valid). Call sites that pass a keyword-only
class's fields by position name them, in their order:
``constructor(Obligation, "kind", "due", "to", "note", "rule")``. Checked
by: fast equals plain on the library's own strategies.

**Packed rank key** (`packed_rank_key`). The command line sorts and pickles
a key per row; `servicetriage.triage.rank_key` has nine fields, the first
six small whole numbers. The packed key is computed *from* ``rank_key``:
those six become one integer (fixed widths, every field shifted to be
non-negative), the last three are kept, so comparing and pickling a row is
about twice as fast. A change to ``rank_key``'s arity fails on the first
row; a change to a field's range shows in the property test that sorting
by the packed key equals sorting by ``rank_key``. ``None`` when a policy's
priorities or levels do not fit the widths (the caller then uses
``rank_key`` itself).

**Enum members** are not wrapped here: on Python 3.11 ``Outcome.ALLOWED``
and ``member.value`` each cost a descriptor call (about 0.2 us, ten times a
global), so a hot path reads ``member._value_`` and binds the members it
needs to module-level names (``_ALLOWED = Outcome.ALLOWED``). Such an alias
needs no test: Python itself fails at import on a renamed member.

Not here: a compiled policy's lookup tables (``triage/_compile.py``, the
authority compiler) are the compilers' own output, and each compiled
evaluator is checked against a plain reference evaluator
(``tests/test_triage_reference.py``, ``tests/test_authority_properties.py``).
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

import attrs

from servicetriage.triage._public import rank_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from servicetriage.model import Ticket, Triage
    from servicetriage.triage._policy import TriagePolicy

P = ParamSpec("P")
T = TypeVar("T")

#: Slots an attrs class may have besides its fields.
_FREE_SLOTS = frozenset({"__weakref__"})
#: The class of a factory default (attrs' stubs type ``attrs.Factory`` as a function).
_FACTORY = cast("type[Any]", attrs.Factory)


@overload
def constructor(cls: Callable[P, T]) -> Callable[P, T]: ...
@overload
def constructor(cls: Callable[..., T], *positional: str) -> Callable[..., T]: ...
def constructor(cls: Callable[..., T], *positional: str) -> Callable[..., T]:
    """Return a function that builds *cls* as its ``__init__`` does, minus converters and validators.

    The function is generated from ``attrs.fields(cls)``: same parameters
    (positional or keyword-only as in the class), same defaults (a default
    is converted once, here, as ``__init__`` would convert it; a factory is
    called per object). Raises `TypeError` for a class it cannot build
    exactly: not a slotted attrs class, a ``__attrs_pre_init__`` or
    ``__attrs_post_init__``, a field with ``init=False``, a factory that
    takes ``self``, a converter that takes the instance, or a slot that
    is not a field.

    *positional*, if given, names the fields the call sites pass by
    position, in their order; every other field becomes keyword-only and
    must have a default. Write the names out where the call sites are (never
    derive them from the class: a field inserted in the middle would shift
    every argument). A field added to the class with a default then flows
    through; one without a default, or a name that is not a field, raises
    `TypeError` here, at import. The class's own signature (no *positional*)
    keeps the call sites type-checked, so prefer it for new code.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        msg = f"fast constructor: expected an attrs class, got {cls!r}"
        raise TypeError(msg)
    name = cls.__name__
    fields = attrs.fields(cls)
    problem = _problem(cls, fields, positional)
    if problem is not None:
        msg = f"fast constructor for {name}: {problem}"
        raise TypeError(msg)

    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_NOTHING": attrs.NOTHING}
    defaults: dict[str, str] = {}  # parameter name -> the name of its default in the namespace
    body: list[str] = []
    for index, field in enumerate(fields):
        alias, default = field.alias, field.default
        namespace[f"_set_{index}"] = _slot(cls, field.name).__set__
        if isinstance(default, _FACTORY):
            namespace[f"_factory_{index}"] = default.factory
            namespace[f"_convert_{index}"] = field.converter or _same
            defaults[alias] = "_NOTHING"
            body.append(f"    if {alias} is _NOTHING:\n        {alias} = _convert_{index}(_factory_{index}())")
        elif default is not attrs.NOTHING:
            namespace[f"_default_{index}"] = field.converter(default) if field.converter else default
            defaults[alias] = f"_default_{index}"
    if positional:
        aliases = {f.name: f.alias for f in fields}
        by_position = [aliases[n] for n in positional]
        by_keyword = [f.alias for f in fields if f.name not in positional]
    else:
        by_position = [f.alias for f in fields if not f.kw_only]
        by_keyword = [f.alias for f in fields if f.kw_only]
    required = [n for n in by_position if n not in defaults]  # a default only after the last required parameter
    last = by_position.index(required[-1]) if required else -1
    parameters = [n if i <= last else f"{n}={defaults[n]}" for i, n in enumerate(by_position)]
    if by_keyword:
        parameters += ["*", *(f"{n}={defaults[n]}" if n in defaults else n for n in by_keyword)]
    function = f"fast_{name.lower()}"
    lines = [f"def {function}({', '.join(parameters)}):", *body, "    _made = _new(_cls)"]
    lines += [f"    _set_{index}(_made, {field.alias})" for index, field in enumerate(fields)]
    lines.append("    return _made")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<fast constructor of {cls.__module__}.{name}>", "exec"), namespace)  # noqa: S102
    made: Callable[..., T] = namespace[function]
    made.__doc__ = f"Build a {name} from values it would store unchanged, skipping converters and validators."
    return made


def _problem(cls: type, fields: tuple[attrs.Attribute[Any], ...], positional: tuple[str, ...]) -> str | None:
    """Why the fast constructor could not build *cls* exactly as its ``__init__`` does, or ``None``."""
    slots = {s for k in cls.__mro__ for s in vars(k).get("__slots__", ())} - _FREE_SLOTS
    names = [f.name for f in fields]
    if "__slots__" not in vars(cls):
        return "it has no slots"
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return "its __attrs_pre_init__ or __attrs_post_init__ would be skipped"
    if slots != set(names):
        return f"its slots {sorted(slots)} are not its fields {names}"
    if positional and (len(set(positional)) != len(positional) or not set(positional) <= set(names)):
        return f"expected distinct field names ({', '.join(names)}), got {positional}"
    for field in fields:
        default = field.default
        if not field.init:
            return f"field {field.name!r} is not set by __init__"
        if isinstance(default, _FACTORY) and default.takes_self:
            return f"field {field.name!r} has a factory that takes self"
        if isinstance(field.converter, attrs.Converter):
            return f"field {field.name!r} has a converter that takes the instance or the field"
        alias = field.alias or ""
        if not alias.isidentifier() or alias.startswith("_") or keyword.iskeyword(alias):
            return f"field {field.name!r} has the parameter name {alias!r}"
        if positional and field.name not in positional and default is attrs.NOTHING:
            return f"field {field.name!r} has no default and is not among the positional fields {positional}"
    return None


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor of field *name* (it may be declared by a base class)."""
    for klass in cls.__mro__:
        if name in vars(klass).get("__slots__", ()):
            return vars(klass)[name]
    msg = f"fast constructor for {cls.__name__}: no slot for field {name!r}"  # unreachable after the slot check
    raise TypeError(msg)


def _same(value: T) -> T:
    return value


# --------------------------------------------------------------------------
# The command's sort key

#: Bits for each of the small fields of a packed rank key.
BITS = 16

#: A packed rank key: the six small leading fields of `rank_key` in one integer, then due, opened_at and id.
PackedKey = tuple[int, float, float, str]


def packed_rank_key(policy: TriagePolicy) -> Callable[[Ticket, Triage], PackedKey] | None:
    """Return a sort key computed from `rank_key` that orders every pair of rows as it does; ``None`` if unfit.

    ``rank_key`` gives (quadrant, no live safety signal, priority,
    -importance rank, -urgency rank, no due time, due, opened_at, id). The
    first six are packed, in that order, into one integer: each field is
    shifted to be non-negative (importance and urgency by the policy's top
    rank) and given `BITS` bits (a flag one); the quadrant leads, so it
    needs no width. ``None`` when a priority the policy can give is not a
    whole number in ``[0, 2**BITS)`` or a scale has more than ``2**BITS``
    levels.
    """
    engine = policy._engine  # noqa: SLF001 - the compiled tables list every priority the policy can give
    priorities = {p for p, _ in engine.mapped.values()} | {p for p, _ in engine.explicit.values()}
    i_top, u_top = engine.i_top, engine.u_top
    limit = 1 << BITS
    if not all(type(p) is int and 0 <= p < limit for p in priorities) or max(i_top, u_top) >= limit:
        return None
    bits = BITS

    def key(ticket: Ticket, triage: Triage) -> PackedKey:
        quadrant, no_safety, priority, importance, urgency, no_due, due, opened_at, ticket_id = rank_key(ticket, triage)
        head = (quadrant << 1) + no_safety
        head = (head << bits) + priority
        head = (head << bits) + i_top + importance
        head = (((head << bits) + u_top + urgency) << 1) + no_due
        return head, due, opened_at, ticket_id

    return key
