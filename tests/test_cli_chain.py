"""``playbook anchor`` and ``playbook verify --anchor/--key-file`` on a store file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from servicetriage.cli import main

if TYPE_CHECKING:
    import pytest

OLD_STORE = Path(__file__).parent / "data" / "store-schema-3.db"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_anchor_then_verify_catches_a_rewrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An exported anchor and a keyed one both hold until the approval's actor is rewritten."""
    path = tmp_path / "s.db"
    shutil.copy(OLD_STORE, path)
    store = ["--store", str(path)]
    key = tmp_path / "key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    anchor = tmp_path / "anchor.json"
    code, out, _ = _run(capsys, "playbook", "anchor", "--out", str(anchor), "--key-file", str(key), *store)
    assert code == 0
    assert "and in the store" in out
    code, out, _ = _run(capsys, "playbook", "verify", "--anchor", str(anchor), "--key-file", str(key), *store)
    assert (code, out.strip()) == (
        0,
        "all version chains verify; the audit chain covers every row and every anchor holds",
    )
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER transitions_no_update")
    db.execute("UPDATE transitions SET actor='mallory' WHERE event='approve'")
    db.commit()
    db.close()
    code, out, _ = _run(capsys, "playbook", "verify", *store)
    assert code == 1
    assert "transitions amendment/A1/1: differs" in out


def test_a_wrong_key_or_a_bad_anchor_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong HMAC key and an unreadable anchor are errors naming them, not findings."""
    path = tmp_path / "s.db"
    shutil.copy(OLD_STORE, path)
    store = ["--store", str(path)]
    key, other = tmp_path / "key", tmp_path / "other"
    key.write_text("0123456789abcdef0123456789abcdef")
    other.write_text("fedcba9876543210fedcba9876543210")
    assert _run(capsys, "playbook", "anchor", "--key-file", str(key), *store)[0] == 0
    code, _, err = _run(capsys, "playbook", "verify", "--key-file", str(other), *store)
    assert code == 2
    assert "wrong HMAC key" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"seq": 1}')
    code, _, err = _run(capsys, "playbook", "verify", "--anchor", str(bad), *store)
    assert code == 2
    assert f"{bad}.hash: expected 64 hex digits, got None" in err
    code, _, err = _run(capsys, "playbook", "verify", "--key-file", str(tmp_path / "missing"), *store)
    assert code == 2
    assert "--key-file: cannot read" in err
