"""The decision ledger: records with input hash and policy hash, kept in the store, replayed under another policy."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.authority import AuthorityPolicy, Request, authorize
from servicetriage.cli._authority import load_request
from servicetriage.config import load_section, structure, unstructure
from servicetriage.errors import PolicyError, StoreError
from servicetriage.ledger import (
    DecisionKind,
    Record,
    authority_decider,
    authority_record,
    content_hash,
    playbook_decider,
    policy_hash,
    replay,
    triage_decider,
    triage_record,
)
from servicetriage.model import Customer, Money, Ticket
from servicetriage.playbooks import Playbook, PlaybookStep, Trigger
from servicetriage.store import Store
from servicetriage.triage import TriagePolicy, classify
from servicetriage.versions import DocumentRef, Operation, apply_operations, create

EXAMPLES = Path(__file__).parent.parent / "examples"
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _authority() -> AuthorityPolicy:
    policy = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert policy is not None
    return policy


def _request(n: int, amount: str) -> Request:
    request = load_request(EXAMPLES / "request.toml")
    return attrs.evolve(request, ticket=attrs.evolve(request.ticket, id=f"T-{n}"), amount=Money.parse(amount), usage=())


def _ticket(n: int, text: str) -> Ticket:
    return Ticket(id=f"T{n}", subject=text, text=text, customer=Customer(id=f"C{n}"), opened_at=T0, category="flight")


def test_a_record_carries_the_hashes_of_its_input_and_policy() -> None:
    """The input hash is computed from the input and checked; the policy hash is its document's content hash."""
    policy = TriagePolicy()
    ticket = _ticket(1, "my flight was cancelled")
    record = triage_record(ticket, classify(ticket, policy, T0), policy, now=T0, policy_version=3)
    assert record.input_hash == content_hash({"ticket": unstructure(ticket)})
    assert record.policy_hash == content_hash(unstructure(policy))
    assert record.policy_version == 3
    assert Record.from_data(record.to_data()) == record
    with pytest.raises(PolicyError, match=r"record.input_hash: [0-9a-f]{12} is not the hash of the input"):
        attrs.evolve(record, input={"ticket": {"id": "other"}})
    with pytest.raises(PolicyError, match=r"record\.policy_hash: expected a SHA-256"):
        attrs.evolve(record, policy_hash="abc")
    with pytest.raises(PolicyError, match=r"record\.kind: expected one of"):
        attrs.evolve(record, kind="audit")
    with pytest.raises(PolicyError, match=r"record\.at: expected an aware"):
        attrs.evolve(record, at=datetime(2026, 5, 1))


def test_a_policy_hash_equals_the_hash_of_its_stored_version() -> None:
    """A result stamped with policy_hash traces to the store version holding that document."""
    policy = _authority()
    version = create(DocumentRef(kind="authority", id="default"), unstructure(policy), author="ops", at=T0)
    assert policy_hash(policy) == content_hash(version.document)


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=5))
def test_content_hash_ignores_key_order(document: dict[str, int]) -> None:
    """Equal documents in any key order hash alike."""
    assert content_hash(document) == content_hash(dict(reversed(list(document.items()))))


def test_the_store_keeps_records_append_only_and_in_the_chain(tmp_path: Path) -> None:
    """Records are numbered, filtered by kind, time, subject and policy, and cannot be edited."""
    policy = _authority()
    path = tmp_path / "s.db"
    with Store(path) as store:
        for n, amount in enumerate(["200 CNY", "800 CNY", "5000 CNY"]):
            request = _request(n, amount)
            at = T0 + timedelta(hours=n)
            decision = authorize(request, policy, at)
            stored = store.record_decision(authority_record(request, decision, policy, now=at, policy_version=1))
            assert stored.seq == n + 1
        ticket = _ticket(9, "where is my refund")
        triage = classify(ticket, TriagePolicy(), T0)
        store.record_decision(triage_record(ticket, triage, TriagePolicy(), now=T0))
        assert [r.subject for r in store.decisions(kind="authority")] == ["T-0", "T-1", "T-2"]
        assert [r.subject for r in store.decisions(since=T0 + timedelta(hours=1))] == ["T-1", "T-2"]
        assert [r.subject for r in store.decisions(until=T0 + timedelta(hours=1))] == ["T-0", "T9"]
        assert [r.seq for r in store.decisions(subject="T9")] == [4]
        assert len(store.decisions(policy_hash=policy_hash(policy))) == 3
        with pytest.raises(StoreError, match="kind: expected one of 'triage', 'authority', 'escalation'"):
            store.decisions(kind="audit")
        with pytest.raises(StoreError, match="since: expected an aware"):
            store.decisions(since=datetime(2026, 5, 1))
        assert store.verify() == ()
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE decisions SET policy_hash = 'x'")
    db.execute("DROP TRIGGER decisions_no_update")
    db.execute("UPDATE decisions SET data = replace(data, 'needs_approval', 'allowed')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert any(p.startswith("decisions 2: differs") for p in store.verify())


def test_replay_under_a_wider_grant_shows_what_would_change() -> None:
    """Raising the agents' compensation limit turns the 800 CNY request from needs_approval to allowed."""
    policy = _authority()
    records = []
    for n, amount in enumerate(["200 CNY", "800 CNY"]):
        request = _request(n, amount)
        records.append(authority_record(request, authorize(request, policy, T0), policy, now=T0))
    assert [r.outcome for r in records] == ["allowed (agent)", "needs_approval (supervisor)"]
    same = replay(records, authority_decider(policy))
    assert (same.total, same.unchanged, same.changes) == (2, 2, ())
    document = unstructure(policy)
    index = next(i for i, g in enumerate(document["grants"]) if g["id"] == "agent-compensation")
    limits: list[str | int] = ["grants", index, "limits"]
    wider = apply_operations(
        document,
        [
            Operation(op="set", path=[*limits, "max_amount"], value="1000 CNY"),
            Operation(op="set", path=[*limits, "max_total_per_customer"], value="2000 CNY"),
        ],
    )
    proposed = structure(wider, AuthorityPolicy)
    result = replay(records, authority_decider(proposed))
    assert (result.total, result.unchanged) == (2, 1)
    (change,) = result.changes
    assert (change.subject, change.before, change.after) == ("T-1", "needs_approval (supervisor)", "allowed (agent)")
    assert result.moves == (("needs_approval (supervisor)", "allowed (agent)", 1),)
    assert "2 decision(s) replayed: 1 would change, 1 would not" in result.render()


def test_replay_of_placements_under_a_proposed_playbook() -> None:
    """A new playbook that triggers on 'cancelled' would start for the cancelled flights only."""
    policy = TriagePolicy()
    tickets = [_ticket(1, "my flight was cancelled"), _ticket(2, "question about baggage allowance")]
    records = [triage_record(t, classify(t, policy, T0), policy, now=T0) for t in tickets]
    assert all(r.kind is DecisionKind.TRIAGE for r in records)
    plan = Playbook(
        id="cancelled",
        title="Cancelled flight",
        triggers=[Trigger(keywords=["cancelled"])],
        steps=[PlaybookStep(action="rebook")],
    )
    result = replay(records, playbook_decider([plan]))
    (change,) = result.changes
    assert change.subject == "T1"
    assert change.after == change.before + " +cancelled"
    assert replay(records, triage_decider(policy)).changes == ()
    assert replay(records, authority_decider(_authority())).skipped == 2


def test_a_record_that_cannot_be_read_back_is_named() -> None:
    """Replaying a record whose input is not a ticket names the record and the field."""
    record = Record(
        kind="triage", subject="T1", at=T0, input={"ticket": {"id": 1}}, result={}, policy_hash="0" * 64, seq=7
    )
    with pytest.raises(StoreError, match=r"ledger record 7 \(T1\)\.input\.ticket: cannot be read back"):
        replay([record], triage_decider(TriagePolicy()))
