"""Renamed public names: the new name is the object, the old one still gives it for a release, with a warning."""

from __future__ import annotations

import importlib
import re
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

import servicetriage
from servicetriage import escalation, ledger, review, triage, versions
from servicetriage.store import Store

if TYPE_CHECKING:
    from pathlib import Path

# (module, old name, new name): every rename of the "one word, one meaning" change.
RENAMES = [
    ("servicetriage.triage", "Target", "ResolutionTarget"),
    ("servicetriage.escalation", "Target", "Recipient"),
    ("servicetriage.escalation", "TargetKind", "RecipientKind"),
    ("servicetriage", "TargetKind", "RecipientKind"),
    ("servicetriage.escalation", "advance", "advance_escalation"),
    ("servicetriage.versions", "Target", "DocumentRef"),
    ("servicetriage.review", "Outcome", "IncidentOutcome"),
    ("servicetriage.review", "advance", "advance_review"),
    ("servicetriage.ledger", "Change", "DecisionChange"),
]


@pytest.mark.parametrize(("module_name", "old", "new"), RENAMES)
def test_an_old_name_warns_naming_the_new_one_and_gives_the_same_object(module_name: str, old: str, new: str) -> None:
    """Reading the old name warns with `DeprecationWarning` that names the new one, and returns that very object."""
    module = importlib.import_module(module_name)
    with pytest.warns(DeprecationWarning, match=rf"{re.escape(module_name)}\.{old} is deprecated.*\.{new}\b"):
        found = getattr(module, old)
    assert found is getattr(module, new)


@pytest.mark.parametrize(("module_name", "old", "new"), RENAMES)
def test_a_new_name_is_public_and_reading_it_does_not_warn(module_name: str, old: str, new: str) -> None:
    """The new name is in the module's `__all__` (the old one is not), and reading it warns about nothing."""
    module = importlib.import_module(module_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(module, new)
    assert new in module.__all__
    assert old not in module.__all__


def test_from_import_of_an_old_name_still_works_with_a_warning() -> None:
    """``from servicetriage.escalation import Target`` keeps working for a release."""
    with pytest.warns(DeprecationWarning, match="Recipient"):
        from servicetriage.escalation import Target  # noqa: PLC0415

    assert Target is escalation.Recipient


def test_every_new_name_is_exported_at_the_root() -> None:
    """Each renamed concept can be imported from `servicetriage`, since its name no longer clashes."""
    for new in ("ResolutionTarget", "Recipient", "RecipientKind", "DocumentRef", "IncidentOutcome"):
        assert new in servicetriage.__all__
    assert servicetriage.advance_escalation is escalation.advance_escalation
    assert servicetriage.advance_review is review.advance_review
    assert servicetriage.ResolutionTarget is triage.ResolutionTarget
    assert servicetriage.DocumentRef is versions.DocumentRef
    assert servicetriage.IncidentOutcome is review.IncidentOutcome


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    """The deprecation hook answers only the old names: a typo raises `AttributeError` naming module and name."""
    with pytest.raises(AttributeError, match=r"module 'servicetriage.escalation' has no attribute 'Targte'"):
        _ = escalation.Targte
    assert not hasattr(ledger, "Changes")


def test_store_advance_warns_and_advances_the_review(tmp_path: Path) -> None:
    """`Store.advance` is the old name of `Store.advance_review`: it warns, then does the same."""
    at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    report = review.IncidentReport(id="R1", ticket_id="T1", owner="li", opened_at=at)
    with Store(tmp_path / "history.db") as store:
        store.add_report(report, at=at)
        with pytest.warns(DeprecationWarning, match=r"Store\.advance_review"):
            moved = store.advance("report", "R1", "submit", actor="li", at=at, reason="done")
        assert moved == store.review("report", "R1")
        assert moved.state.value == "submitted"
