"""``servicetriage ledger list`` and ``ledger replay`` on a store file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from servicetriage.authority import AuthorityPolicy, authorize
from servicetriage.cli import main
from servicetriage.cli._authority import load_request
from servicetriage.config import load_section, unstructure
from servicetriage.ledger import authority_record
from servicetriage.model import Money
from servicetriage.store import Store
from servicetriage.versions import Amendment, DocumentRef, Operation

if TYPE_CHECKING:
    import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
AUTHORITY = DocumentRef(kind="authority", id="default")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _store_with_decisions(path: Path) -> str:
    """Three recorded compensation decisions and a proposed amendment that raises the agents' limit."""
    policy = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert policy is not None
    base = load_request(EXAMPLES / "request.toml")
    with Store(path) as store:
        v1 = store.create(AUTHORITY, unstructure(policy), author="ops", at=T0 - timedelta(days=1))
        for n, amount in enumerate(["200 CNY", "500 CNY", "800 CNY"]):
            request = attrs.evolve(
                base, ticket=attrs.evolve(base.ticket, id=f"T-{n}"), amount=Money.parse(amount), usage=()
            )
            at = T0 + timedelta(hours=n)
            record = authority_record(request, authorize(request, policy, at), policy, now=at, policy_version=1)
            store.record_decision(record)
        index = next(i for i, g in enumerate(v1.document["grants"]) if g["id"] == "agent-compensation")
        amendment = Amendment(
            id="A-raise",
            target=AUTHORITY,
            base=v1.hash,
            operations=[
                Operation(op="set", path=["grants", index, "limits", "max_amount"], value="600 CNY"),
                Operation(op="set", path=["grants", index, "limits", "max_total_per_customer"], value="2000 CNY"),
            ],
        )
        store.propose(amendment, author="zhang", at=T0 + timedelta(days=1))
    return amendment.id


def test_list_shows_each_decision_with_its_hashes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each line: seq, time, kind, ticket, outcome, policy hash and version, input hash."""
    path = tmp_path / "s.db"
    _store_with_decisions(path)
    code, out, _ = _run(capsys, "ledger", "list", "--store", str(path))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].split("\t")[:5] == ["1", "2026-05-01T09:00:00+00:00", "authority", "T-0", "allowed (agent)"]
    assert " v1\t" in lines[0]
    code, out, _ = _run(
        capsys, "ledger", "list", "--since", "2026-05-01T10:00:00+00:00", "--json", "--store", str(path)
    )
    assert [r["subject"] for r in json.loads(out)] == ["T-1", "T-2"]


def test_replay_a_proposed_amendment_before_it_is_approved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Raising the limit to 600 CNY would let agents decide the 500 CNY case, not the 800 CNY one."""
    path = tmp_path / "s.db"
    amendment = _store_with_decisions(path)
    code, out, _ = _run(capsys, "ledger", "replay", "--amendment", amendment, "--json", "--store", str(path))
    assert code == 0
    result = json.loads(out)
    assert (result["total"], result["changed"], result["unchanged"]) == (3, 1, 2)
    assert result["changes"][0]["subject"] == "T-1"
    assert result["moves"] == [{"before": "needs_approval (supervisor)", "after": "allowed (agent)", "count": 1}]
    code, out, _ = _run(capsys, "ledger", "replay", "--amendment", amendment, "--store", str(path))
    assert out.splitlines()[0] == "3 decision(s) replayed: 1 would change, 2 would not"
    code, out, _ = _run(
        capsys, "ledger", "replay", "--authority", str(EXAMPLES / "authority.toml"), "--store", str(path)
    )
    assert out.splitlines()[0] == "3 decision(s) replayed: 0 would change, 3 would not"


def test_replay_without_a_change_or_with_two_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Replay needs exactly one thing to replay under, and a known amendment."""
    path = tmp_path / "s.db"
    _store_with_decisions(path)
    code, _, err = _run(capsys, "ledger", "replay", "--store", str(path))
    assert code == 2
    assert "name what to replay under" in err
    authority = str(EXAMPLES / "authority.toml")
    code, _, err = _run(
        capsys, "ledger", "replay", "--amendment", "A-raise", "--authority", authority, "--store", str(path)
    )
    assert code == 2
    assert "leave out the policy files" in err
    code, _, err = _run(capsys, "ledger", "replay", "--amendment", "A-404", "--store", str(path))
    assert code == 2
    assert "no amendment 'A-404'" in err
    code, _, err = _run(capsys, "ledger", "list", "--since", "yesterday", "--store", str(path))
    assert code == 2
    assert "--since: expected an ISO 8601 time" in err
