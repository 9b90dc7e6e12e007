"""Stamped results: every Triage, Decision and escalation Action names the policy (hash, store version) that made it."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given, settings

from servicetriage import strategies as sts
from servicetriage.authority import AuthorityPolicy, authorize
from servicetriage.cli import main
from servicetriage.cli._authority import load_request
from servicetriage.config import load_section, unstructure
from servicetriage.digest import content_hash, plain
from servicetriage.errors import PolicyError
from servicetriage.escalation import EscalationPolicy, advance_escalation, start
from servicetriage.ledger import content_hash as document_hash
from servicetriage.ledger import policy_hash
from servicetriage.model import Customer, Ticket
from servicetriage.playbooks import WORKED_PLAYBOOKS
from servicetriage.store import Store
from servicetriage.triage import TriagePolicy, classify
from servicetriage.versions import Amendment, DocumentRef, Operation, apply, canonical_json

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

EXAMPLES = Path(__file__).parent.parent / "examples"
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _same_as_converter(value: Any) -> None:
    assert canonical_json(plain(value)) == canonical_json(unstructure(value))
    assert content_hash(value) == document_hash(unstructure(value))


@pytest.mark.parametrize(
    "strategy",
    [sts.triage_policies(), sts.authority_policies(), sts.escalation_policies(), sts.playbooks(), sts.calendars()],
    ids=["triage", "authority", "escalation", "playbook", "calendar"],
)
def test_the_core_hash_equals_the_hash_of_the_converted_document(strategy: SearchStrategy[Any]) -> None:
    """digest.plain is the converter's unstructure, so a stamp traces to the stored document."""

    @settings(max_examples=30)  # a policy compiles its lexicons when built: each example costs milliseconds
    @given(strategy)
    def check(value: Any) -> None:
        _same_as_converter(value)

    check()


def test_the_example_policies_and_worked_playbooks_hash_as_their_documents() -> None:
    """The shipped examples and the worked playbooks hash alike in the core and through the converter."""
    triage = load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    authority = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    escalation = load_section(EXAMPLES / "escalation.toml", "escalation", EscalationPolicy, required=True)
    for value in (triage, authority, escalation, TriagePolicy(), *WORKED_PLAYBOOKS):
        _same_as_converter(value)


def test_plain_refuses_a_value_that_is_not_library_data() -> None:
    """An object the converter would not know is named, not hashed by its repr."""
    with pytest.raises(TypeError, match=r"plain: object is not a library value"):
        plain(object())


def test_a_triage_carries_the_hash_its_policy_computed_once() -> None:
    """classify stamps the policy's content hash; the hash is the policy's, kept from when it was built."""
    policy = TriagePolicy(name="stamped")
    ticket = Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), text="SOS")
    triage = classify(ticket, policy, T0)
    assert triage.policy_hash == policy.content_hash == policy_hash(policy) == content_hash(policy)
    assert triage.policy_version is None
    assert classify(ticket, TriagePolicy(), T0).policy_hash != triage.policy_hash
    assert pickle.loads(pickle.dumps(policy)).content_hash == policy.content_hash


def test_an_authority_decision_and_an_escalation_action_carry_their_policy_hash() -> None:
    """authorize stamps the authority policy's hash; every action carries the escalation policy's."""
    authority = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert authority is not None
    request = load_request(EXAMPLES / "request.toml")
    decision = authorize(request, authority, T0)
    assert decision.policy_hash == authority.content_hash == authority.compiled.content_hash
    assert authorize(request, authority.compiled, T0).policy_hash == decision.policy_hash
    escalation = load_section(EXAMPLES / "escalation.toml", "escalation", EscalationPolicy, required=True)
    assert escalation is not None
    ticket = Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), text="SOS, the driver will not stop")
    state = start(ticket, classify(ticket, TriagePolicy(), T0), escalation, T0, owner="li")
    _state, actions = advance_escalation(state, T0 + timedelta(hours=4))
    assert actions
    assert {a.policy_hash for a in actions} == {escalation.content_hash}


def test_an_invalid_policy_version_on_a_record_is_refused() -> None:
    """The store fills only a version number >= 1."""
    from servicetriage.ledger import Record  # noqa: PLC0415

    with pytest.raises(PolicyError, match=r"record\.policy_version"):
        Record(kind="triage", subject="T1", at=T0, input={}, result={}, policy_hash="0" * 64, policy_version=0)


# --------------------------------------------------------------------------
# The commands write to the ledger, and the store fills the version


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_triage_store_records_every_placement_with_the_stored_policy_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage --store` appends one placement per ticket; a policy stored as version 2 stamps them v2."""
    path = tmp_path / "s.db"
    policy = load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    assert policy is not None
    target = DocumentRef(kind="triage", id="default")
    with Store(path) as store:
        draft = store.create(target, unstructure(attrs.evolve(policy, name="draft")), author="ops", at=T0)
        amendment = Amendment(
            id="A1", target=target, base=draft.hash, operations=[Operation(op="set", path="name", value=policy.name)]
        )
        store.append(apply(draft, amendment, author="ops", at=T0))
        assert store.version_of(policy.content_hash) == 2  # the version whose document is this policy
        assert store.version_of("0" * 64) is None
    code, _out, err = _run(
        capsys,
        "triage",
        str(EXAMPLES / "tickets.jsonl"),
        "--policy",
        str(EXAMPLES / "triage.toml"),
        "--now",
        "2026-03-02T09:00:00+08:00",
        "--format",
        "json",
        "--store",
        str(path),
    )
    assert code == 0
    assert "recorded 200 placements" in err
    with Store(path) as store:
        records = store.decisions(kind="triage")
        assert store.verify() == ()
    assert len(records) == 200
    assert {r.policy_hash for r in records} == {policy.content_hash}
    assert {r.policy_version for r in records} == {2}
    assert "policy_hash" not in records[0].result  # the stamp travels on the record, once


def test_triage_store_needs_a_file_not_standard_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--store` with '-' is refused before anything is read."""
    code, _out, err = _run(capsys, "triage", "-", "--store", str(tmp_path / "s.db"))
    assert code == 2
    assert "--store: the ledger re-reads TICKETS" in err


def test_authorize_store_records_the_decision_and_prints_the_stamp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`authorize --store` appends the decision; its JSON carries the policy hash and the stored version."""
    path = tmp_path / "s.db"
    authority = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert authority is not None
    with Store(path) as store:
        store.create(DocumentRef(kind="authority", id="default"), unstructure(authority), author="ops", at=T0)
    code, out, _err = _run(
        capsys,
        "authorize",
        "--policy",
        str(EXAMPLES / "authority.toml"),
        "--request",
        str(EXAMPLES / "request.toml"),
        "--now",
        "2026-05-01T09:00:00+00:00",
        "--format",
        "json",
        "--store",
        str(path),
    )
    printed = json.loads(out)
    assert printed["policy_hash"] == authority.content_hash
    assert printed["policy_version"] == 1
    with Store(path) as store:
        (record,) = store.decisions(kind="authority")
    assert (record.policy_hash, record.policy_version) == (authority.content_hash, 1)
    assert record.result["outcome"] == printed["outcome"]
    assert code in (0, 3, 4)


def test_escalate_store_records_every_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`escalate --simulate --store` appends one ledger record per action, stamped with the escalation policy."""
    path = tmp_path / "s.db"
    escalation = load_section(EXAMPLES / "escalation.toml", "escalation", EscalationPolicy, required=True)
    assert escalation is not None
    code, out, _err = _run(
        capsys,
        "escalate",
        "--simulate",
        "--policy",
        str(EXAMPLES / "escalation.toml"),
        "--ticket",
        str(EXAMPLES / "ticket-sos.json"),
        "--for",
        "4h",
        "--format",
        "json",
        "--store",
        str(path),
    )
    assert code == 0
    shown = [row for row in json.loads(out)["timeline"] if row["type"] != "playbook_step"]
    with Store(path) as store:
        records = store.decisions(kind="escalation")
        assert store.verify() == ()
    assert len(records) == len(shown) > 0
    assert {r.policy_hash for r in records} == {escalation.content_hash}
    assert [r.result["type"] for r in records] == [row["type"] for row in shown]
