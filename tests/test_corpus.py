"""The labelled corpus: well formed, large enough, and placed alike in every language.

How well the detector does on the corpus is *measured* by
``bench/eval_signals.py`` (precision and recall per signal and language, on
both parts), not asserted here. What is asserted is what must always hold:
the labels follow the method's rule, the corpus is as large as promised, and
the same need written in two languages lands in one place (on the
development part; the held-back part is only ever measured).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.model import Customer, Ticket
from servicetriage.signals.lexicon import LANGUAGES, concepts
from servicetriage.triage import DEFAULT_POLICY, classify

ROOT = Path(__file__).resolve().parent / "corpus"
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
#: Signals that place a need in Q1 under the default policy; anger alone makes it urgent (Q3).
Q1_SIGNALS = {"safety", "police", "regulator", "public_exposure", "discrimination"}


def rows(part: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted((ROOT / part).glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{part}/{path.name}:{number}"
                found.append(row)
    return found


DEV, HOLDOUT = rows("dev"), rows("holdout")


def expected_quadrant(labels: list[str]) -> str:
    signals = {concepts()[c].signal for c in labels}
    if signals & Q1_SIGNALS:
        return "Q1"
    return "Q3" if "anger" in signals else "Q4"


@pytest.mark.parametrize("part", ["dev", "holdout"])
def test_every_row_is_labelled_by_the_method(part: str) -> None:
    problems = []
    for row in rows(part):
        where = row["_where"]
        if row.get("language") not in LANGUAGES:
            problems.append(f"{where}: language {row.get('language')!r}")
        unknown = [c for c in row.get("concepts", []) if c not in concepts()]
        if unknown:
            problems.append(f"{where}: unknown concepts {unknown}")
        elif row.get("quadrant") != expected_quadrant(row["concepts"]):
            problems.append(f"{where}: quadrant {row.get('quadrant')} for {row['concepts']}")
        if not (row.get("text") or row.get("subject")):
            problems.append(f"{where}: no text")
    assert problems == []


def test_ids_are_unique_and_no_text_is_in_both_parts() -> None:
    ids = Counter(row["id"] for row in DEV + HOLDOUT)
    assert [i for i, n in ids.items() if n > 1] == []
    dev_texts = {(row.get("subject", ""), row.get("text", "")) for row in DEV}
    assert [r["id"] for r in HOLDOUT if (r.get("subject", ""), r.get("text", "")) in dev_texts] == []


def test_the_corpus_is_as_large_as_promised() -> None:
    every = DEV + HOLDOUT
    per_language = Counter(row["language"] for row in every)
    assert len(every) >= 700
    assert {language: per_language[language] for language in LANGUAGES if per_language[language] < 100} == {}
    # Both parts cover every language, and every concept is in the corpus.
    for part in (DEV, HOLDOUT):
        assert set(LANGUAGES) <= {row["language"] for row in part}
    assert set(concepts()) <= {c for row in every for c in row["concepts"]}


def ticket_of(row: dict[str, Any]) -> Ticket:
    return Ticket(
        id=row["id"],
        opened_at=NOW,
        customer=Customer(id="C1"),
        category=row.get("category") or "general",
        subject=row.get("subject") or "",
        text=row.get("text") or "",
    )


def groups(part: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in part:
        if row.get("group"):
            found.setdefault(row["group"], []).append(row)
    return found


DEV_GROUPS = groups(DEV)


def test_translation_groups_share_their_labels() -> None:
    for name, members in DEV_GROUPS.items():
        assert len({(tuple(sorted(r["concepts"])), r["quadrant"]) for r in members}) == 1, name
        assert {r["language"] for r in members} == set(LANGUAGES), name


@pytest.mark.parametrize("name", sorted(DEV_GROUPS))
def test_a_translation_group_lands_in_one_place_in_every_language(name: str) -> None:
    placed = {
        row["language"]: (r.quadrant.name, r.priority, tuple(sorted(r.signals)))
        for row in DEV_GROUPS[name]
        for r in [classify(ticket_of(row), DEFAULT_POLICY, NOW)]
    }
    assert len(set(placed.values())) == 1, placed


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    sts.tickets(),
    st.sampled_from(sorted(DEV_GROUPS)),
    st.sampled_from(LANGUAGES),
    st.sampled_from(LANGUAGES),
    st.sampled_from(LANGUAGES),
)
def test_the_language_a_customer_writes_in_never_changes_the_placement(
    ticket: Ticket, name: str, first: str, second: str, stated: str
) -> None:
    """Equal treatment: the same need in another language (text, and the ``language`` field) lands alike."""
    by_language = {row["language"]: row for row in DEV_GROUPS[name]}

    def place(language: str, field: str) -> tuple[object, ...]:
        row = by_language[language]
        written = attrs.evolve(ticket, subject=row.get("subject") or "", text=row.get("text") or "", language=field)
        result = classify(written, DEFAULT_POLICY, NOW)
        return (result.quadrant, result.priority, result.signals, result.urgency, result.importance)

    assert place(first, first) == place(second, stated)
