"""Versioned documents: amendments, hash chains, diffs, rollback and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.errors import ConflictError, PolicyError, TransitionError
from servicetriage.versions import (
    Amendment,
    ChangeKind,
    DocumentRef,
    History,
    Operation,
    OpKind,
    apply,
    apply_operations,
    canonical_json,
    create,
    diff,
    operations_of,
    parse_path,
    render_diff,
    rollback,
    verify_chain,
)

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
PLAYBOOK = DocumentRef(kind="playbook", id="flight-delay")
DOC = {"id": "flight-delay", "steps": [{"id": "listen", "text": "listen"}, {"id": "apologise", "text": "apologise"}]}


def _amend(base: str | None, *operations: Operation, id: str = "A1") -> Amendment:
    return Amendment(id=id, target=PLAYBOOK, base=base, operations=operations)


def test_apply_makes_a_chained_version_and_leaves_the_base_untouched() -> None:
    v1 = create(PLAYBOOK, DOC, author="ops", at=T0)
    step = {"id": "rebook", "text": "rebook on the next flight"}
    v2 = apply(v1, _amend(v1.hash, Operation(op="add", path="steps", value=step, index=1)), author="lead", at=T0)
    assert v2.parent == v1.hash
    assert v2.number == 2
    assert v2.document["steps"][1] == step
    assert v1.document == DOC
    assert verify_chain([v1, v2]) == ()


def test_two_amendments_on_the_same_base_conflict() -> None:
    v1 = create(PLAYBOOK, DOC, author="ops", at=T0)
    first = _amend(v1.hash, Operation(op="set", path="steps[0].text", value="listen fully"), id="A1")
    second = _amend(v1.hash, Operation(op="set", path="steps[0].text", value="listen twice"), id="A2")
    v2 = apply(v1, first, author="lead", at=T0)
    with pytest.raises(ConflictError, match=r"A2 .* was made on"):
        apply(v2, second, author="lead", at=T0)
    assert v2.document["steps"][0]["text"] == "listen fully"


def test_a_missing_path_is_named() -> None:
    with pytest.raises(PolicyError, match=r"steps\[5\]: no list item"):
        apply_operations(DOC, [Operation(op="set", path="steps[5].text", value="x")])
    with pytest.raises(PolicyError, match="cannot remove a key that is absent"):
        apply_operations(DOC, [Operation(op="remove", path="title")])


def test_non_plain_data_is_rejected_with_its_path() -> None:
    with pytest.raises(PolicyError, match=r"steps\[0\]\.at: expected plain data"):
        canonical_json({"steps": [{"at": T0}]})


def test_paths_parse_and_sequences_pass_through() -> None:
    assert parse_path("grants[3].limit") == ("grants", 3, "limit")
    assert parse_path("") == ()
    assert parse_path(("a", 1)) == ("a", 1)


def test_version_times_may_not_go_backwards() -> None:
    v1 = create(PLAYBOOK, DOC, author="ops", at=T0)
    with pytest.raises(TransitionError, match="before its parent"):
        apply(v1, _amend(v1.hash, Operation(op="set", path="x", value=1)), author="a", at=T0 - timedelta(1))


def test_rollback_restores_content_as_a_new_version() -> None:
    history = History([create(PLAYBOOK, DOC, author="ops", at=T0)])
    history = history.apply(_amend(history.head.hash, Operation(op="remove", path="steps[0]")), author="a", at=T0)  # type: ignore[union-attr]
    history = history.rollback(1, author="b", at=T0, reason="step was needed")
    assert [v.number for v in history.versions] == [1, 2, 3]
    assert history.versions[2].content == history.versions[0].content
    assert history.versions[2].hash != history.versions[0].hash
    assert verify_chain(history.versions) == ()


def test_render_diff_reads_as_lines() -> None:
    changes = diff({"a": 1, "l": [1, 2]}, {"a": 2, "l": [1, 2, 3], "b": True})
    assert render_diff(changes, title="v1 -> v2") == "v1 -> v2\n~ a: 1 -> 2\n+ b: true\n+ l[2]: 3"
    assert render_diff(()) == "(no changes)"


def test_a_swapped_version_breaks_the_chain() -> None:
    v1 = create(PLAYBOOK, DOC, author="ops", at=T0)
    v2 = apply(v1, _amend(v1.hash, Operation(op="set", path="x", value=1)), author="a", at=T0)
    assert any("first version" in p for p in verify_chain([v2]))
    assert any("parent" in p for p in verify_chain([v1, v2, v2]))


@settings(max_examples=40)
@given(sts.documents(), st.data())
def test_apply_then_diff_shows_exactly_the_amendment(document: dict[str, Any], data: st.DataObject) -> None:
    amendment = data.draw(sts.amendments(document=document))
    after = apply_operations(document, amendment.operations)
    changes = diff(document, after)
    # Nothing outside the amended paths changed ...
    # (an operation on a list item touches the list: later items shift)
    touched = [op.path[:-1] if op.path and isinstance(op.path[-1], int) else op.path for op in amendment.operations]
    for change in changes:
        assert any(change.path[: len(p)] == p or p[: len(change.path)] == change.path for p in touched), change
    # ... and the diff, replayed, is the amendment's effect.
    assert apply_operations(document, operations_of(changes)) == after


@settings(max_examples=60)
@given(sts.documents(), st.data())
def test_a_single_operation_diffs_exactly_at_its_path(document: dict[str, Any], data: st.DataObject) -> None:
    (operation,) = data.draw(sts.amendments(document=document, max_operations=1)).operations
    after = apply_operations(document, (operation,))
    changes = diff(document, after)
    if operation.op is OpKind.SET:
        # Every change lies at or under the path that was set (none when the value was already there).
        assert all(c.path[: len(operation.path)] == operation.path for c in changes)
        assert bool(changes) == (after != document)
    elif operation.op is OpKind.ADD:
        # One item added to that list (at the index given, or beside an equal item).
        (change,) = changes
        assert change.kind is ChangeKind.ADDED
        assert change.path[:-1] == operation.path
        assert change.new == operation.value
    else:
        (change,) = changes
        assert change.kind is ChangeKind.REMOVED
        assert change.path[:-1] == operation.path[:-1]


@given(sts.documents())
def test_one_effective_set_shows_as_one_change_at_its_path(document: dict[str, Any]) -> None:
    after = apply_operations(document, [Operation(op=OpKind.SET, path=("title",), value="new title!")])
    changes = diff(document, after)
    if document.get("title") == "new title!":
        assert changes == ()
    else:
        assert [(c.kind, c.path) for c in changes] == [
            (ChangeKind.CHANGED if "title" in document else ChangeKind.ADDED, ("title",))
        ]


@given(sts.documents(), sts.documents())
def test_diff_between_any_two_documents_replays(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply_operations(old, operations_of(diff(old, new))) == new


def _replay(document: dict[str, Any], amendments: list[Amendment]) -> History:
    history = History([create(PLAYBOOK, document, author="ops", at=T0)])
    for index, amendment in enumerate(amendments):
        rebased = attrs.evolve(amendment, base=history.head.hash)  # type: ignore[union-attr]
        history = history.apply(rebased, author="lead", at=T0 + timedelta(hours=index))
    return history


@st.composite
def _event_logs(draw: st.DrawFn) -> tuple[dict[str, Any], list[Amendment]]:
    document = draw(sts.documents())
    current = document
    log = []
    for _ in range(draw(st.integers(0, 4))):
        amendment = draw(sts.amendments(document=current, target=PLAYBOOK))
        current = apply_operations(current, amendment.operations)
        log.append(amendment)
    return document, log


@settings(max_examples=40)
@given(_event_logs())
def test_replaying_the_same_log_gives_the_same_hashes(log: tuple[dict[str, Any], list[Amendment]]) -> None:
    first = _replay(*log)
    second = _replay(*log)
    assert [v.hash for v in first.versions] == [v.hash for v in second.versions]
    assert verify_chain(first.versions) == ()


@settings(max_examples=40)
@given(_event_logs(), st.data())
def test_any_single_byte_tamper_is_detected(log: tuple[dict[str, Any], list[Amendment]], data: st.DataObject) -> None:
    history = _replay(*log)
    position = data.draw(st.integers(0, len(history.versions) - 1))
    victim = history.versions[position]
    field = data.draw(st.sampled_from(["content", "author", "message", "hash"]))
    text = getattr(victim, field)
    if not text:
        text = " "
        tampered = attrs.evolve(victim, **{field: text})  # type: ignore[arg-type]
    else:
        index = data.draw(st.integers(0, len(text) - 1))
        replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != text[index]))
        tampered = attrs.evolve(victim, **{field: text[:index] + replacement + text[index + 1 :]})
    versions = list(history.versions)
    versions[position] = tampered
    assert verify_chain(versions) != ()


@settings(max_examples=40)
@given(_event_logs(), st.data())
def test_rollback_restores_the_content_of_any_version(
    log: tuple[dict[str, Any], list[Amendment]], data: st.DataObject
) -> None:
    history = _replay(*log)
    number = data.draw(st.integers(1, len(history.versions)))
    after = history.rollback(number, author="b", at=T0 + timedelta(days=1))
    assert after.head.document == history.version(number).document  # type: ignore[union-attr]
    assert diff(after.head, history.version(number)) == ()
    assert verify_chain(after.versions) == ()


def test_rollback_to_a_later_version_is_refused() -> None:
    v1 = create(PLAYBOOK, DOC, author="ops", at=T0)
    v2 = apply(v1, _amend(v1.hash, Operation(op="set", path="x", value=1)), author="a", at=T0)
    with pytest.raises(ConflictError, match="later"):
        rollback(v1, v2, author="a", at=T0)


def test_the_learning_core_imports_no_shell_module() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import sys, servicetriage.versions, servicetriage.review, servicetriage.learning\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'cattrs' or m in "
        "('servicetriage.config', 'servicetriage.store', 'servicetriage.cli')]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
