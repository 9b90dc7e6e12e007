"""The speed tricks of `servicetriage._fast` agree with the plain definitions they are made from."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import _fast, triage
from servicetriage import strategies as sts
from servicetriage.authority import Decision, authorize
from servicetriage.model import (
    Customer,
    FrozenMap,
    Level,
    Mark,
    Money,
    Obligation,
    ObligationKind,
    Quadrant,
    Reason,
    Ticket,
    TicketStatus,
    Triage,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from servicetriage.authority import AuthorityPolicy, Request

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

#: The classes the library's hot paths build, or may build, with a fast constructor.
HOT = (Money, Reason, Obligation, Decision, Triage, Level, Ticket)

_MADE: dict[type, Any] = {}


def fast(cls: type) -> Any:
    """The fast constructor of *cls*, made once."""
    made = _MADE.get(cls)
    if made is None:
        made = _MADE[cls] = _fast.constructor(cls)
    return made


def _attrs_values(value: Any) -> Iterator[Any]:
    """Every attrs instance in *value*, itself included, depth first (through fields, tuples and sets)."""
    if attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from _attrs_values(getattr(value, field.name))
    elif isinstance(value, tuple | frozenset):
        for item in value:
            yield from _attrs_values(item)


def _accepted(cls: type) -> bool:
    try:
        fast(cls)
    except TypeError:
        return False
    return True


def _assert_rebuilt_equal(value: Any) -> None:
    """The fast constructor, called as the class is (positional, then keyword-only), builds an equal object."""
    cls = type(value)
    fields = attrs.fields(cls)
    args = [getattr(value, f.name) for f in fields if not f.kw_only]
    kwargs = {f.alias: getattr(value, f.name) for f in fields if f.kw_only}
    plain = cls(*args, **kwargs)  # the precondition: the plain constructor stores these values unchanged
    made = fast(cls)(*args, **kwargs)
    assert type(made) is cls
    assert made == plain == value
    assert hash(made) == hash(value)
    attrs.validate(made)  # the validators the fast constructor skipped accept what it built


def _check_all(*values: object) -> None:
    seen = 0
    for value in values:
        for part in _attrs_values(value):
            if _accepted(type(part)):
                _assert_rebuilt_equal(part)
                seen += 1
    assert seen


# --------------------------------------------------------------------------
# Fast constructors


def test_the_hot_classes_have_fast_constructors_with_their_own_signature() -> None:
    """Same parameter names, kinds and defaults as the class: a call that type-checks on one fits the other."""
    for cls in HOT:
        plain = inspect.signature(cls).parameters
        generated = inspect.signature(fast(cls)).parameters
        assert [(p.name, p.kind) for p in generated.values()] == [(p.name, p.kind) for p in plain.values()]
        for name, parameter in plain.items():
            expected = parameter.default
            converter: Any = attrs.fields_dict(cls)[name].converter
            if expected is not inspect.Parameter.empty and expected is not attrs.NOTHING and converter is not None:
                expected = converter(expected)
            assert generated[name].default == expected


@settings(max_examples=40)  # a random policy compiles its lexicon: slow to draw
@given(ticket=sts.tickets(), policy=st.one_of(st.just(triage.DEFAULT_POLICY), sts.triage_policies()))
def test_fast_constructors_rebuild_tickets_and_triages_equal(ticket: Ticket, policy: triage.TriagePolicy) -> None:
    """Ticket, customer, money, pauses, triage, levels and reasons: fast equals plain on the library's strategies."""
    _check_all(ticket, triage.classify(ticket, policy, NOW))


@given(policy=sts.authority_policies(), request=sts.requests())
def test_fast_constructors_rebuild_decisions_equal(policy: AuthorityPolicy, request: Request) -> None:
    """Decision, obligations, headroom and the request's parts: fast equals plain."""
    _check_all(request, authorize(request, policy, NOW))


@given(st.text(min_size=1), st.text(), st.none() | st.text())
def test_defaults_are_the_plain_constructors_defaults(code: str, message: str, rule: str | None) -> None:
    """Left out, a default (converted) or a factory's fresh value is what the class's __init__ gives."""
    assert fast(Reason)(code, message) == Reason(code, message)
    assert fast(Reason)(code, message, rule) == Reason(code, message, rule)
    assert fast(Reason)(code, message).evidence == FrozenMap()
    due = NOW + timedelta(hours=1)
    assert fast(Obligation)(kind=ObligationKind.CALL_BACK, due=due, to="customer") == Obligation(
        kind=ObligationKind.CALL_BACK, due=due, to="customer"
    )


# --------------------------------------------------------------------------
# A field added to a class flows through, or the class is refused at once


@attrs.frozen(kw_only=True)
class _Point:
    x: int
    y: int = attrs.field(default=0, validator=attrs.validators.ge(0))


def _ints(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


def test_a_field_added_to_a_class_flows_through_the_fast_constructor() -> None:
    """The generator reads attrs.fields: a subclass's new field is built too, with its default when left out."""

    @attrs.frozen(kw_only=True)
    class Point3(_Point):
        z: tuple[int, ...] = attrs.field(factory=tuple, converter=_ints)

    assert list(inspect.signature(fast(Point3)).parameters) == ["x", "y", "z"]
    assert fast(Point3)(x=1, y=2, z=(3,)) == Point3(x=1, y=2, z=(3,))
    assert fast(Point3)(x=1) == Point3(x=1)


def _point_class(*names: str) -> type:
    return attrs.make_class("Point", dict.fromkeys(names, attrs.field()), frozen=True, kw_only=True, slots=True)


def test_a_required_field_added_to_a_class_fails_every_call_that_leaves_it_out() -> None:
    """After an edit to the model, a call written for the old fields raises; it never builds half an object."""
    before, after = _point_class("x", "y"), _point_class("x", "y", "label")
    assert fast(before)(x=1, y=2) == before(x=1, y=2)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'label'"):
        fast(after)(x=1, y=2)
    assert fast(after)(x=1, y=2, label="a") == after(x=1, y=2, label="a")


@given(policy=sts.authority_policies(), request=sts.requests())
def test_fields_taken_by_position_build_what_the_plain_constructor_builds(
    policy: AuthorityPolicy, request: Request
) -> None:
    """Named positional fields, in the caller's order; a trailing field with a default may be left out."""
    decision = authorize(request, policy, NOW)
    names = [f.name for f in attrs.fields(Decision)][:-1]  # all but policy_version, which has a default
    make = _fast.constructor(Decision, *reversed(names))
    assert make(*(getattr(decision, n) for n in reversed(names))) == attrs.evolve(decision, policy_version=None)
    for obligation in decision.obligations:
        make_obligation = _fast.constructor(Obligation, "due", "kind", "to", "note", "rule")
        args = (obligation.due, obligation.kind, obligation.to, obligation.note, obligation.rule)
        assert make_obligation(*args) == obligation


def test_with_positional_fields_a_new_field_flows_through_or_is_refused_at_once() -> None:
    """A field added with a default is set to it; one without a default, or a name not a field, is a TypeError."""
    with_default = attrs.make_class(
        "Point", {"x": attrs.field(), "y": attrs.field(), "label": attrs.field(default="")}, frozen=True, slots=True
    )
    assert _fast.constructor(with_default, "x", "y")(1, 2) == with_default(1, 2, "")
    assert _fast.constructor(with_default, "y", "x")(2, 1, label="a") == with_default(1, 2, "a")
    required = _point_class("x", "y", "label")
    message = "field 'label' has no default and is not among the positional fields"
    with pytest.raises(TypeError, match=f"fast constructor for Point: {message}"):
        _fast.constructor(required, "x", "y")
    for wrong in (("x", "y", "z"), ("x", "x", "label")):
        with pytest.raises(TypeError, match="expected distinct field names"):
            _fast.constructor(required, *wrong)


def test_validators_and_converters_are_what_the_fast_constructor_skips() -> None:
    """The contract, shown: a value the plain constructor would refuse or convert is stored as given."""
    assert fast(_Point)(x=1, y=-1).y == -1
    with pytest.raises(ValueError, match="'y' must be >= 0"):
        _Point(x=1, y=-1)


def test_a_class_the_generator_cannot_build_exactly_is_refused_when_the_constructor_is_made() -> None:
    """No slots, a post-init hook, a field outside __init__, a cached hash, a factory taking self: TypeError."""

    @attrs.frozen(slots=False)
    class NoSlots:
        x: int

    @attrs.frozen
    class PostInit:
        x: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen
    class NotInInit:
        x: int
        y: int = attrs.field(init=False, default=0)

    @attrs.frozen(cache_hash=True)
    class CachedHash:
        x: int

    @attrs.frozen
    class TakesSelf:
        x: int
        y: int = attrs.field(default=attrs.Factory(lambda self: self.x, takes_self=True))

    @attrs.frozen
    class FieldConverter:
        x: int = attrs.field(converter=attrs.Converter(lambda v, self: v, takes_self=True))  # type: ignore[misc]

    expected = {
        NoSlots: "it has no slots",
        PostInit: "its __attrs_pre_init__ or __attrs_post_init__ would be skipped",
        NotInInit: "field 'y' is not set by __init__",
        CachedHash: "its slots .* are not its fields",
        TakesSelf: "field 'y' has a factory that takes self",
        FieldConverter: "field 'x' has a converter that takes the instance",
    }
    for cls, message in expected.items():
        with pytest.raises(TypeError, match=f"fast constructor for {cls.__name__}: {message}"):
            _fast.constructor(cls)
    with pytest.raises(TypeError, match="expected an attrs class"):
        _fast.constructor(dict)


# --------------------------------------------------------------------------
# The packed rank key


def _sign(a: tuple[object, ...], b: tuple[object, ...]) -> int:
    return (a > b) - (a < b)


def _assert_orders_as_rank_key(policy: triage.TriagePolicy, placed: list[tuple[Ticket, Triage]]) -> None:
    packed = _fast.packed_rank_key(policy)
    assert packed is not None
    for a in placed:
        for b in placed:
            assert _sign(packed(*a), packed(*b)) == _sign(triage.rank_key(*a), triage.rank_key(*b))
    assert sorted(placed, key=lambda p: packed(*p)) == sorted(placed, key=lambda p: triage.rank_key(*p))


@settings(max_examples=60)
@given(
    st.one_of(st.just(triage.DEFAULT_POLICY), sts.triage_policies()),
    st.lists(sts.tickets(max_level=6), min_size=2, max_size=6),
    sts.aware_datetimes(),
)
def test_packed_rank_key_orders_classified_tickets_as_rank_key(
    policy: triage.TriagePolicy, tickets: list[Ticket], now: datetime
) -> None:
    """On tickets as classify places them (repeated ones tie), the packed key sorts as rank_key does."""
    tickets = [*tickets, tickets[0], attrs.evolve(tickets[1], id=tickets[1].id + "b")]
    _assert_orders_as_rank_key(policy, [(t, triage.classify(t, policy, now)) for t in tickets])


@st.composite
def _extreme_placements(draw: st.DrawFn, policy: triage.TriagePolicy) -> tuple[Ticket, Triage]:
    """A ticket with a triage at any corner the key allows: priority 0 or 2**16-1, top or bottom ranks, ties."""
    engine = policy._engine
    limit = (1 << _fast.BITS) - 1
    small = st.sampled_from([0, 1, limit - 1, limit]) | st.integers(0, limit)
    ticket = draw(sts.tickets(statuses=st.sampled_from([TicketStatus.OPEN, TicketStatus.RESOLVED])))
    ticket = attrs.evolve(ticket, id=draw(st.sampled_from(["a", "b", "c"])))
    u, i = draw(st.integers(0, engine.u_top)), draw(st.integers(0, engine.i_top))
    times = st.sampled_from([datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC), NOW])
    placed = Triage(
        ticket_id=ticket.id,
        quadrant=draw(st.sampled_from(Quadrant)),
        priority=draw(small),
        urgency=Level(u, "u"),
        importance=Level(i, "i"),
        due=draw(st.none() | times),
        reasons=(),
        marks=frozenset({Mark.OVERDUE}),
        signals=draw(st.sampled_from([frozenset(), frozenset({"safety"}), frozenset({"deadline", "vip"})])),
    )
    return ticket, placed


@given(st.data(), st.one_of(st.just(triage.DEFAULT_POLICY), sts.triage_policies()))
def test_packed_rank_key_orders_extreme_values_as_rank_key(data: st.DataObject, policy: triage.TriagePolicy) -> None:
    """Every field at its bounds, alone or together, and ties on all but one field: the same order."""
    placed = data.draw(st.lists(_extreme_placements(policy), min_size=2, max_size=8))
    _assert_orders_as_rank_key(policy, placed)


def test_packed_rank_key_steps_aside_when_a_priority_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """With fields too narrow for the policy's priorities, there is no packed key and the caller uses rank_key."""
    assert _fast.packed_rank_key(triage.DEFAULT_POLICY) is not None
    monkeypatch.setattr(_fast, "BITS", 1)
    assert _fast.packed_rank_key(triage.DEFAULT_POLICY) is None


def test_a_change_to_rank_key_reaches_the_packed_key_or_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed key is computed from rank_key: a field more is an error on the first row, not a wrong order."""
    ticket = Ticket(id="t", opened_at=NOW, customer=Customer(id="c"))
    placed = triage.classify(ticket, triage.DEFAULT_POLICY, NOW)
    monkeypatch.setattr(_fast, "rank_key", lambda t, r: (*triage.rank_key(t, r), 0))
    packed = _fast.packed_rank_key(triage.DEFAULT_POLICY)
    assert packed is not None
    with pytest.raises(ValueError, match="too many values to unpack"):
        packed(ticket, placed)
