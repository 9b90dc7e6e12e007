"""The learning-loop commands: report, review, learn and playbook, on a store file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from servicetriage.cli import main

if TYPE_CHECKING:
    import pytest

EXAMPLES = Path(__file__).parent.parent / "examples" / "reports"
AIRLINE = EXAMPLES / "airline-rebooking.toml"
ID = "R-2017-0412"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_loop_from_report_to_a_new_playbook_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    assert _run(capsys, "report", "add", str(AIRLINE), *store)[0] == 0
    for n, event in enumerate(["submit", "start", "accept"]):
        code, out, _ = _run(
            capsys,
            "review",
            event,
            ID,
            "--actor",
            "sup.zhao",
            "--reason",
            "ok",
            "--at",
            f"2017-04-13T1{n}:00:00+08:00",
            *store,
        )
        assert code == 0
    assert "accepted" in out
    code, out, _ = _run(capsys, "learn", "--now", "2017-04-14T00:00:00+08:00", "--save", "--actor", "agent.li", *store)
    assert code == 0
    amendment = next(line.split()[-1] for line in out.splitlines() if line.startswith("proposed amendment"))
    code, _, err = _run(capsys, "review", "approve", amendment, "--actor", "agent.li", "--reason", "mine", *store)
    assert code == 2
    assert "nobody approves their own amendment" in err
    approve = ["review", "approve", amendment, "--actor", "sup.zhao", "--tier", "supervisor", "--reason", "typical"]
    assert _run(capsys, *approve, *store)[0] == 0
    code, out, _ = _run(capsys, "playbook", "apply", amendment, "--actor", "sup.zhao", *store)
    assert code == 0
    assert "v1" in out
    code, out, _ = _run(capsys, "playbook", "history", "flight_disruption", *store)
    assert out.count("playbook:flight_disruption v") == 1
    code, out, _ = _run(capsys, "playbook", "show", "flight_disruption", *store)
    assert json.loads(out)["steps"][0]["action"] == "rebooking"
    assert _run(capsys, "playbook", "verify", *store)[0] == 0


def test_diff_and_rollback_between_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    doc = tmp_path / "p.json"
    doc.write_text(json.dumps({"id": "p", "title": "Plan", "steps": [{"action": "listen"}]}))
    who = ["--actor", "ops", "--at", "2026-01-01T00:00:00+00:00"]
    assert _run(capsys, "playbook", "init", "p", str(doc), *who, *store)[0] == 0
    assert _run(capsys, "playbook", "rollback", "p", "--to", "1", *who, "--reason", "no-op", *store)[0] == 0
    code, out, _ = _run(capsys, "playbook", "diff", "p", "1", "2", *store)
    assert code == 0
    assert "(no changes)" in out
    code, out, _ = _run(capsys, "playbook", "diff", "p", "1", "2", "--json", *store)
    assert json.loads(out) == []


def test_errors_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    code, _, err = _run(capsys, "review", "accept", "R-x", "--actor", "a", "--reason", "b", *store)
    assert code == 2
    assert "no report 'R-x'" in err
    code, _, err = _run(capsys, "learn", "--window", "soon", *store)
    assert code == 2
    assert "--window" in err
    code, _, err = _run(capsys, "report", "list", "--store", str(tmp_path))
    assert code == 2
    assert "is a directory" in err


def test_the_store_path_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICETRIAGE_STORE", str(tmp_path / "env.db"))
    assert _run(capsys, "report", "add", str(EXAMPLES / "flight-delay-meal.json"))[0] == 0
    assert (tmp_path / "env.db").exists()
    _code, out, _ = _run(capsys, "report", "list")
    assert "R-2017-0503\tdraft" in out


def test_report_update_replaces_a_draft_and_refuses_an_accepted_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    assert _run(capsys, "report", "add", str(AIRLINE), *store)[0] == 0
    changed = tmp_path / "airline.toml"
    changed.write_text(AIRLINE.read_text(encoding="utf-8").replace("satisfaction_after = 4", "satisfaction_after = 5"))
    code, out, _ = _run(capsys, "report", "update", str(changed), *store)
    assert (code, out) == (0, f"updated report {ID} (draft)\n")
    from servicetriage.store import Store  # noqa: PLC0415

    with Store(tmp_path / "s.db") as opened:
        assert opened.report(ID).satisfaction_after == 5
    for n, event in enumerate(["submit", "start", "accept"]):
        at = f"2017-04-13T1{n}:00:00+08:00"
        assert _run(capsys, "review", event, ID, "--actor", "sup.zhao", "--reason", "ok", "--at", at, *store)[0] == 0
    code, _, err = _run(capsys, "report", "update", str(AIRLINE), *store)
    assert code == 2
    assert f"report {ID}: cannot change it in state accepted" in err
    code, _, err = _run(capsys, "report", "update", str(EXAMPLES / "flight-delay-meal.json"), *store)
    assert code == 2
    assert "no report 'R-2017-0503'" in err


def test_playbook_init_reads_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    doc = tmp_path / "p.yaml"
    doc.write_text("id: p\ntitle: Plan\nsteps:\n  - action: listen\n")
    who = ["--actor", "ops", "--at", "2026-01-01T00:00:00+00:00"]
    assert _run(capsys, "playbook", "init", "p", str(doc), *who, *store)[0] == 0
    code, out, _ = _run(capsys, "playbook", "show", "p", *store)
    assert code == 0
    assert json.loads(out) == {"id": "p", "title": "Plan", "steps": [{"action": "listen"}]}
    bad = tmp_path / "p.txt"
    bad.write_text("id: p")
    code, _, err = _run(capsys, "playbook", "init", "q", str(bad), *who, *store)
    assert code == 2
    assert "p.txt: cannot tell the format from the suffix '.txt'" in err


def test_report_add_refuses_a_report_the_authority_file_does_not_allow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    policy = tmp_path / "authority.toml"
    grant = '[[authority.grants]]\nid = "agent-rebooking"\ntier = "agent"\naction = "rebooking"\n'
    policy.write_text(grant + 'limits = { max_amount = "500 CNY" }\n')
    code, _, err = _run(capsys, "report", "add", str(AIRLINE), "--authority", str(policy), *store)
    assert code == 2
    assert f"report {ID}.deviations[0]: agent.li at tier 'agent' lacked the authority for 'rebooking' of 620 CNY" in err
    policy.write_text(grant + 'limits = { max_amount = "800 CNY" }\n')
    assert _run(capsys, "report", "add", str(AIRLINE), "--authority", str(policy), *store)[0] == 0


def test_playbook_init_checks_the_document_and_reads_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    who = ["--actor", "ops", "--at", "2026-01-01T00:00:00+00:00"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "p", "title": "Plan", "steps": [{"role": "owner"}]}))
    code, _, err = _run(capsys, "playbook", "init", "p", str(bad), *who, *store)
    assert code == 2
    assert "bad.json: playbook:p v1: steps[0].action" in err
    assert (
        _run(capsys, "playbook", "init", "default", "examples/authority.toml", "--kind", "authority", *who, *store)[0]
        == 0
    )
    code, out, _ = _run(capsys, "playbook", "show", "default", "--kind", "authority", *store)
    assert json.loads(out)["grants"][0]["id"] == "agent-rebook-stranded"
    plans = tmp_path / "plans.toml"
    plans.write_text('[[playbooks]]\nid = "a"\ntitle = "A"\nsteps = [{action = "listen"}]\n')
    code, _, err = _run(capsys, "playbook", "init", "b", str(plans), *who, *store)
    assert code == 2
    assert "plans.toml: playbooks: no playbook with id 'b'; the file has 'a'" in err
    assert _run(capsys, "playbook", "init", "a", str(plans), *who, *store)[0] == 0


def test_playbook_apply_refuses_an_amendment_that_breaks_the_playbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    from servicetriage.store import Store  # noqa: PLC0415
    from servicetriage.versions import Amendment, DocumentRef, Operation  # noqa: PLC0415

    path = tmp_path / "s.db"
    doc = tmp_path / "p.json"
    doc.write_text(json.dumps({"id": "p", "title": "Plan", "steps": [{"action": "listen"}]}))
    who = ["--actor", "ops", "--at", "2026-01-01T00:00:00+00:00"]
    assert _run(capsys, "playbook", "init", "p", str(doc), *who, "--store", str(path))[0] == 0
    at = datetime(2026, 1, 2, tzinfo=UTC)
    with Store(path) as store:
        head = store.head(DocumentRef(kind="playbook", id="p"))
        assert head is not None
        amendment = Amendment(
            id="A-1", target=head.target, base=head.hash, operations=[Operation(op="remove", path="steps[0]")]
        )
        store.propose(amendment, author="li", at=at)
        store.advance_review("amendment", "A-1", "approve", actor="wang", at=at, reason="ok")
    code, _, err = _run(capsys, "playbook", "apply", "A-1", "--actor", "wang", "--store", str(path))
    assert code == 2
    assert "playbook:p v2: steps: expected at least one step" in err
    with Store(path) as store:
        assert store.history(DocumentRef(kind="playbook", id="p")).head.number == 1  # type: ignore[union-attr]
        assert store.review("amendment", "A-1").state.value == "approved"


def test_learning_again_after_apply_proposes_only_what_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    assert _run(capsys, "report", "add", str(AIRLINE), *store)[0] == 0
    for n, event in enumerate(["submit", "start", "accept"]):
        at = f"2017-04-13T1{n}:00:00+08:00"
        assert _run(capsys, "review", event, ID, "--actor", "sup.zhao", "--reason", "ok", "--at", at, *store)[0] == 0
    learn = ["learn", "--now", "2017-04-14T00:00:00+08:00", "--save", *store]
    _code, out, _ = _run(capsys, *learn)
    (amendment,) = [line.split()[-1] for line in out.splitlines() if line.startswith("proposed amendment")]
    _code, out, _ = _run(capsys, *learn)
    assert "proposed amendment" not in out  # the same proposal on the same version is kept once
    approve = ["review", "approve", amendment, "--actor", "sup.zhao", "--tier", "supervisor", "--reason", "ok"]
    assert _run(capsys, *approve, *store)[0] == 0
    assert _run(capsys, "playbook", "apply", amendment, "--actor", "sup.zhao", *store)[0] == 0
    _code, out, _ = _run(capsys, *learn)
    assert "already holds it" in out
    assert "proposed amendment" not in out


def test_learn_reads_its_settings_from_a_file_and_options_override_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", str(tmp_path / "s.db")]
    assert _run(capsys, "report", "add", str(EXAMPLES / "flight-delay-meal.json"), *store)[0] == 0
    for n, event in enumerate(["submit", "start", "accept"]):
        at = f"2017-05-04T1{n}:00:00+08:00"
        assert (
            _run(capsys, "review", event, "R-2017-0503", "--actor", "sup.zhao", "--reason", "ok", "--at", at, *store)[0]
            == 0
        )
    settings = tmp_path / "loop.yaml"
    settings.write_text("learning:\n  min_count: 1\n  window: 14d\n  delegate: false\n")
    learn = ["learn", "--now", "2017-05-10T00:00:00+08:00", "--json", *store]
    code, out, _ = _run(capsys, *learn, "--config", str(settings))
    assert code == 0
    (proposal,) = json.loads(out)
    assert (proposal["kind"], proposal["incidents"]) == ("playbook_step", ["R-2017-0503"])
    assert proposal["evidence"]["satisfaction_after"] == "4.00"
    assert json.loads(_run(capsys, *learn, "--config", str(settings), "--min-count", "2")[1]) == []
    assert json.loads(_run(capsys, *learn, "--config", str(settings), "--window", "1d")[1]) == []
    settings.write_text("learning:\n  window: soon\n  step: mine\n")
    code, _, err = _run(capsys, *learn, "--config", str(settings))
    assert code == 2
    assert "loop.yaml: learning.window: expected a duration such as '1h30m'" in err
    assert "loop.yaml: learning.step: set in code (a function), not in a file" in err
