"""Every door fuzzed: malformed files through every loader, malformed command lines through every command.

The property: an input is accepted, or rejected with one of the library's errors (`ServiceTriageError`) that
names the file; on the command line, a rejection is lines of ``servicetriage: ...`` on standard error and one of
the command's documented exit codes, never a traceback. Each input starts from a valid example file and is
damaged: bytes inserted, cut or repeated; NULs, byte-order marks, CRLF, invalid UTF-8, lone surrogates; values
replaced by huge numbers, NaN, infinities, calendar extremes, durations of a billion days, deep nesting, YAML
alias chains, duplicate keys, wrong shapes.

The default run is bounded (a few hundred inputs per door). ``--run-slow`` drives at least 1,000,000 inputs in
total: each example of the slow tests feeds a batch of damaged files drawn from one random stream. The count
and the time are printed at the end of the module (``-s`` shows them).
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage.assignment import AssignmentPolicy
from servicetriage.cli import main
from servicetriage.cli._assign import load_agents
from servicetriage.cli._authority import load_policy, load_request
from servicetriage.errors import ServiceTriageError, StoreError
from servicetriage.escalation import EscalationPolicy
from servicetriage.ingest import read_tickets
from servicetriage.model import Ticket
from servicetriage.playbooks import PlaybookSet
from servicetriage.store import Store, amendment_from_data, load_learning_config, load_reports
from servicetriage.triage import TriagePolicy

EXAMPLES = Path(__file__).parent.parent / "examples"

# --------------------------------------------------------------------------
# Damaged inputs

#: Tokens that broke a loader or the command line once, or are likely to: each replaces a value or is inserted.
TOKENS: tuple[bytes, ...] = (
    b"\x00",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\r",
    b"\xff\xfe",
    b"\xe9",
    b"\xed\xa0\x80",  # a surrogate, encoded (not UTF-8)
    b'"\\ud800"',  # a lone surrogate, as JSON writes it
    b'"x\\udfffy"',
    b"9" * 401,
    b"-" + b"9" * 401,
    b"1e999",
    b"-1e999",
    b"9E+999999",
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"Infinity",
    b".inf",
    b"1e-999",
    b"0",
    b"-1",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'""',
    b"[" * 70 + b"]" * 70,
    b"{" * 40,
    b'"9999-12-31T23:59:59+00:00"',
    b'"0001-01-01T00:00:00+00:00"',
    b'"2026-03-02T09:00:00"',
    b'"2026-02-30T09:00:00+08:00"',
    b"9999-12-31T23:59:59+00:00",
    b'"999999999d"',
    b'"-999999999d"',
    b'"P99999999D"',
    b'"99999999999999h"',
    b'"9E+999999 CNY"',
    b'"1 XXX"',
    b'"' + b"x" * 5000 + b'"',
    b"&a [1, *a]",
    b"*nowhere",
    b"!!python/object:os.system",
    b"on: true",
    b"? [1, 2]\n: x",
    b"\ndup = 1\ndup = 2\n",
    b'{"k": 1, "k": 2}',
    b"a: 1\na: 2\n",
    b"\t",
    b"'",
    b'"',
    b"\\",
    b"=",
    b":",
    b",",
    b"#",
    b"\n[[x]]\n",
    b"\n[x]\n",
)

_ALIAS_BOMB = b"\n".join(
    [b"a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]".encode() for i in range(7)]
)


def damage(seed: bytes, rng: random.Random) -> bytes:
    """One damaged copy of *seed*: one to three edits drawn from *rng*."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        op = rng.randrange(9)
        if op == 0:  # insert a token
            data[at:at] = rng.choice(TOKENS)
        elif op == 1:  # replace the rest of a line (a value) with a token
            end = data.find(b"\n", at)
            data[at : end if end >= 0 else len(data)] = rng.choice(TOKENS)
        elif op == 2:  # cut a span
            data[at : at + rng.randint(1, 40)] = b""
        elif op == 3:  # repeat a span (duplicate keys, tables, rows)
            span = bytes(data[at : at + rng.randint(1, 200)])
            data[at:at] = span
        elif op == 4:  # random bytes
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 5:  # truncate
            del data[at:]
        elif op == 6:  # flip a byte
            if data:
                data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 7:  # a whole different shape
            data = bytearray(
                rng.choice([b"", b"[]", b"42", b'"x"', b"- a\n- b\n", b"null", b"[1, 2]", _ALIAS_BOMB, b"\x00" * 8])
            )
        else:  # swap a number for a huge or special one
            digits = [i for i, byte in enumerate(data) if 48 <= byte <= 57]
            if digits:
                i = rng.choice(digits)
                data[i : i + 1] = rng.choice([b"9" * 401, b"1e999", b"NaN", b"-0", b"99999999999999"])
    return bytes(data)


#: Counted inputs and the time spent, printed at the end of the module.
COUNT = {"inputs": 0, "seconds": 0.0}


@pytest.fixture(scope="module", autouse=True)
def _report_count() -> Iterator[None]:
    started = time.perf_counter()
    yield
    COUNT["seconds"] = time.perf_counter() - started
    sys.stderr.write(f"\nfuzz: {COUNT['inputs']:,} inputs in {COUNT['seconds']:.1f} s\n")


# --------------------------------------------------------------------------
# Loaders


def _playbooks(path: Path) -> object:
    return config.load_file(path, PlaybookSet)


def _amendment(path: Path) -> object:
    data = config.read_document(path)
    try:
        return amendment_from_data(data)
    except ServiceTriageError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _section(name: str, cls: type[Any]) -> Callable[[Path], object]:
    return lambda path: config.load_section(path, name, cls, required=True)


_AMENDMENT = json.dumps(
    {
        "id": "A-1",
        "target": {"kind": "authority", "id": "default"},
        "base": 1,
        "operations": [{"op": "set", "path": ["deadlines", "call_back_within"], "value": "2h"}],
        "provenance": {"incidents": ["R-1"], "proposed_by": "learning", "reason": "calls back sooner"},
        "summary": "call back within 2h",
    },
    indent=2,
).encode()

#: Each door: a seed file (its suffix decides the format) and the loader that reads it.
LOADERS: dict[str, tuple[str, bytes | None, Callable[[Path], object]]] = {
    "triage": ("triage.toml", None, _section("triage", TriagePolicy)),
    "authority": ("authority.toml", None, load_policy),
    "escalation": ("escalation.toml", None, _section("escalation", EscalationPolicy)),
    "assignment": ("agents.toml", None, _section("assignment", AssignmentPolicy)),
    "agents": ("agents.toml", None, load_agents),
    "request": ("request.toml", None, load_request),
    "ticket": ("ticket-sos.json", None, lambda path: config.load_file(path, Ticket)),
    "tickets-jsonl": ("tickets.jsonl", None, read_tickets),
    "tickets-csv": ("tickets.csv", None, read_tickets),
    "report-toml": ("reports/airline-rebooking.toml", None, load_reports),
    "report-yaml": ("reports/billing-double-charge.yaml", None, load_reports),
    "report-json": ("reports/flight-delay-meal.json", None, load_reports),
    "learning": ("authority.toml", b'[learning]\nmin_count = 3\nwindow = "30d"\n', load_learning_config),
    "playbooks": ("playbooks.toml", None, _playbooks),
    "amendment": ("amendment.json", _AMENDMENT, _amendment),
}


def _seed(name: str) -> tuple[str, bytes]:
    file, text, _ = LOADERS[name]
    seed = text if text is not None else (EXAMPLES / file).read_bytes()
    if name.startswith("tickets"):
        seed = b"\n".join(seed.splitlines()[:12]) + b"\n"  # a dozen rows: damage lands in the rows too
    return Path(file).name, seed


def _load(name: str, folder: Path, data: bytes) -> None:
    """Feed *data* to the loader *name*; an error must be the library's and name the file."""
    file, _ = _seed(name)
    path = folder / file
    path.write_bytes(data)
    COUNT["inputs"] += 1
    _load_path(name, path, data)


def _load_path(name: str, path: Path, data: bytes) -> None:
    try:
        LOADERS[name][2](path)
    except ServiceTriageError as exc:
        text = str(exc)
        assert path.name in text or text.startswith("line "), f"{name}: {text[:300]!r} does not name {path.name}"
    except Exception as exc:  # pragma: no cover - the property's failure
        msg = f"{name}: {type(exc).__name__}: {exc!s:.300} on input {data[:2000]!r}"
        raise AssertionError(msg) from exc


def _check_batch(name: str, folder: Path, rng: random.Random, size: int) -> None:
    _, seed = _seed(name)
    for _ in range(size):
        _load(name, folder, damage(seed, rng))


@pytest.mark.parametrize("name", sorted(LOADERS))
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True))
def test_every_loader_rejects_damaged_files_with_its_own_errors(name: str, tmp_path: Path, rng: random.Random) -> None:
    _check_batch(name, tmp_path, rng, 2)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LOADERS))
@settings(max_examples=700, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True))
def test_every_loader_rejects_damaged_files_with_its_own_errors_slow(
    name: str, tmp_path: Path, rng: random.Random
) -> None:
    _check_batch(name, tmp_path, rng, 100)


_LEAVES = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        10**401,
        1e308,
        float("nan"),
        float("inf"),
        "",
        "x\ud800",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "999999999d",
        "9E+999999 CNY",
        "\x00",
    ]
) | st.text(max_size=8)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _shaped(seed: Any, rng: random.Random, values: list[Any]) -> Any:
    """The seed document with some values replaced by generated ones (wrong types, huge, special)."""
    if isinstance(seed, dict):
        return {
            k: (values.pop() if values and rng.random() < 0.3 else _shaped(v, rng, values)) for k, v in seed.items()
        }
    if isinstance(seed, list):
        return [values.pop() if values and rng.random() < 0.3 else _shaped(v, rng, values) for v in seed]
    return seed


@pytest.mark.parametrize("name", ["amendment", "report-json", "ticket", "request", "agents", "triage", "playbooks"])
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True), values=st.lists(_VALUES, min_size=1, max_size=6))
def test_every_loader_rejects_wrong_shapes_with_its_own_errors(
    name: str, tmp_path: Path, rng: random.Random, values: list[Any]
) -> None:
    file, seed = _seed(name)
    document = config.read_document(_write(tmp_path / file, seed))
    shaped = _shaped(document, rng, list(values))
    text = json.dumps(shaped, ensure_ascii=True, allow_nan=True)
    target = "amendment.json" if name == "amendment" else Path(file).stem + ".json"
    COUNT["inputs"] += 1
    path = _write(tmp_path / target, text.encode())
    _load_path(name, path, text.encode())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------
# The command line

NOW = "2026-03-02T12:00:00+08:00"
OPTION_VALUES = (
    "2026-03-02T12:00:00+08:00",
    "9999-12-31T23:00:00+00:00",
    "0001-01-01T00:00:00+00:00",
    "2026-03-02T12:00:00",
    "2026-02-30T12:00:00+08:00",
    "x\ud800",
    "",
    "\x00",
    "-1",
    "0",
    "99999",
    "9" * 401,
    "99999999999999d",
    "99999999999h",
    "999999999d",
    "-8h",
    "8h",
    "NaN",
    "inf",
    "1e999",
)

#: Exit codes each command documents.
CODES = {"triage": {0, 1, 2}, "check": {0, 1, 2}, "authorize": {0, 1, 2, 3, 4}, "drills": {0, 1, 2}}


def _commands(folder: Path) -> dict[str, tuple[list[str], str]]:
    """Each command: its argument list (``{file}`` is where the damaged file goes) and the seed's example file."""
    store = str(folder / "s.db")
    e = EXAMPLES
    return {
        "triage": (["triage", "--policy", "{file}", str(e / "tickets.jsonl"), "--now", NOW], "triage.toml"),
        "triage-tickets": (["triage", "{file}", "--now", NOW, "--format", "json"], "tickets.jsonl"),
        "triage-csv": (["triage", "{file}", "--now", NOW, "--format", "csv"], "tickets.csv"),
        "assign": (["assign", str(e / "tickets.jsonl"), "--agents", "{file}", "--now", NOW], "agents.toml"),
        "assign-queue": (["assign", "{file}", "--agents", str(e / "agents.toml"), "--now", NOW], "tickets.jsonl"),
        "check": (["check", "{file}", "--now", NOW, "--store", store], "authority.toml"),
        "check-triage": (["check", "{file}", "--strict"], "triage.toml"),
        "authorize": (
            ["authorize", "--policy", "{file}", "--request", str(e / "request.toml"), "--now", NOW],
            "authority.toml",
        ),
        "authorize-request": (
            ["authorize", "--policy", str(e / "authority.toml"), "--request", "{file}", "--now", NOW],
            "request.toml",
        ),
        "escalate": (
            ["escalate", "--simulate", "--policy", "{file}", "--ticket", str(e / "ticket-sos.json")],
            "escalation.toml",
        ),
        "escalate-ticket": (
            ["escalate", "--simulate", "--policy", str(e / "escalation.toml"), "--ticket", "{file}"],
            "ticket-sos.json",
        ),
        "escalate-playbooks": (
            [
                "escalate",
                "--simulate",
                "--policy",
                str(e / "escalation.toml"),
                "--ticket",
                str(e / "ticket-sos.json"),
                "--playbooks",
                "{file}",
            ],
            "playbooks.toml",
        ),
        "report-add": (["report", "add", "{file}", "--store", store], "reports/airline-rebooking.toml"),
        "report-add-yaml": (["report", "add", "{file}", "--store", store], "reports/billing-double-charge.yaml"),
        "report-add-authority": (
            ["report", "add", str(e / "reports" / "airline-rebooking.toml"), "--authority", "{file}", "--store", store],
            "authority.toml",
        ),
        "learn": (["learn", "--config", "{file}", "--now", NOW, "--store", store], "authority.toml"),
        "playbook-init": (
            ["playbook", "init", "ride-safety-sos", "{file}", "--actor", "a", "--store", store],
            "playbooks.toml",
        ),
        "playbook-init-authority": (
            ["playbook", "init", "default", "{file}", "--kind", "authority", "--actor", "a", "--store", store],
            "authority.toml",
        ),
        "playbook-verify": (["playbook", "verify", "--anchor", "{file}", "--store", store], "anchor.json"),
        "playbook-drills": (
            ["playbook", "drills", "--playbooks", "{file}", "--now", NOW, "--store", store],
            "playbooks.toml",
        ),
        "ledger-replay": (["ledger", "replay", "--authority", "{file}", "--store", store], "authority.toml"),
        "ledger-replay-triage": (["ledger", "replay", "--triage", "{file}", "--store", store], "triage.toml"),
    }


_ANCHOR = b'{"at": "2026-03-02T12:00:00+08:00", "heads": {}, "count": 0, "digest": "00"}'


def _seed_bytes(example: str) -> bytes:
    if example == "anchor.json":
        return _ANCHOR
    data = (EXAMPLES / example).read_bytes()
    return b"\n".join(data.splitlines()[:12]) + b"\n" if example.startswith("tickets") else data


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    """Run the command in-process; a traceback fails the property, and so does a rejection that is not one line
    per problem on standard error."""
    COUNT["inputs"] += 1
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: a bad option
        code = exc.code if isinstance(exc.code, int) else 2
        assert code in (0, 2), argv
    except Exception as exc:  # pragma: no cover - the property's failure
        msg = f"{type(exc).__name__}: {exc!s:.300} from {argv!r}"
        raise AssertionError(msg) from exc
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, argv
        assert all(line.startswith(("servicetriage", "usage:", "  ")) for line in lines), lines
    return code


def _cli_case(name: str, base: Path, rng: random.Random, capsys: pytest.CaptureFixture[str]) -> None:
    folder = Path(tempfile.mkdtemp(dir=base))  # a store of its own: examples do not see each other's
    argv, example = _commands(folder)[name]
    suffix = Path(example).suffix
    path = folder / f"input{suffix}"
    path.write_bytes(damage(_seed_bytes(example), rng))
    args = [str(path) if a == "{file}" else a for a in argv]
    if rng.random() < 0.3:  # and a damaged option value
        options = [
            i
            for i, a in enumerate(args)
            if a.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--")
        ]
        if options:
            args[rng.choice(options) + 1] = rng.choice(OPTION_VALUES)
    code = run_cli(args, capsys)
    assert code in CODES.get(args[0], {0, 1, 2}), (code, args)


@pytest.mark.parametrize("name", sorted(_commands(Path())))
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True))
def test_every_command_rejects_damaged_files_in_one_line(
    name: str, tmp_path: Path, rng: random.Random, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a damaged --store value names a file here, not in the repository
    _cli_case(name, tmp_path, rng, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_commands(Path())))
@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True))
def test_every_command_rejects_damaged_files_in_one_line_slow(
    name: str, tmp_path: Path, rng: random.Random, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a damaged --store value names a file here, not in the repository
    _cli_case(name, tmp_path, rng, capsys)


#: Commands that read only options (and a store): each option's value is replaced.
_OPTION_COMMANDS = [
    [
        "escalate",
        "--simulate",
        "--policy",
        str(EXAMPLES / "escalation.toml"),
        "--ticket",
        str(EXAMPLES / "ticket-sos.json"),
        "--for",
        "8h",
        "--now",
        NOW,
    ],
    [
        "escalate",
        "--simulate",
        "--policy",
        str(EXAMPLES / "escalation.toml"),
        "--ticket",
        str(EXAMPLES / "ticket-sos.json"),
        "--until",
        NOW,
        "--ack-at",
        NOW,
        "--resolve-at",
        NOW,
    ],
    ["learn", "--window", "30d", "--now", NOW, "--min-count", "3"],
    ["triage", str(EXAMPLES / "tickets.jsonl"), "--now", NOW, "--jobs", "1", "--limit", "3"],
    ["ledger", "list", "--since", NOW, "--until", NOW],
    ["playbook", "drills", "--now", NOW],
    ["playbook", "drill", "P-1", "--actor", "a", "--at", NOW],
    ["playbook", "anchor", "--at", NOW],
    ["playbook", "diff", "x", "1", "2"],
    ["playbook", "rollback", "x", "--to", "1", "--actor", "a", "--reason", "r"],
    ["review", "submit", "R-1", "--actor", "a", "--at", NOW, "--reason", "r"],
    ["report", "show", "R-1"],
    [
        "authorize",
        "--policy",
        str(EXAMPLES / "authority.toml"),
        "--request",
        str(EXAMPLES / "request.toml"),
        "--now",
        NOW,
    ],
]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(index=st.integers(0, len(_OPTION_COMMANDS) - 1), rng=st.randoms(use_true_random=True))
def test_every_command_rejects_bad_option_values_in_one_line(
    index: int, rng: random.Random, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a damaged --store or --out value names a file here, not in the repository
    args = [*_OPTION_COMMANDS[index]]
    if args[0] in ("ledger", "playbook", "review", "report", "learn"):
        args += ["--store", str(Path(tempfile.mkdtemp(dir=tmp_path)) / "s.db")]
    for i, arg in enumerate(args):
        if i > 0 and not arg.startswith("--") and rng.random() < 0.4:
            args[i] = rng.choice(OPTION_VALUES)
    run_cli(args, capsys)


# --------------------------------------------------------------------------
# Damaged stores


def _damage_store(path: Path, rng: random.Random) -> None:
    db = sqlite3.connect(path)
    try:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()]
        for _ in range(rng.randint(1, 3)):
            table = rng.choice(tables)
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})").fetchall()]
            column = rng.choice(columns)
            value = rng.choice(
                ["bogus", "{broken", "[]", "null", '{"id": 5}', "9999-12-31T23:59:59+00:00", "", None, 10**18, "\ud800"]
            )
            if isinstance(value, str):
                value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            try:
                db.execute(f"UPDATE {table} SET {column}=?", (value,))
            except sqlite3.Error:
                continue  # a NOT NULL or key constraint: damage another column
        db.commit()
    finally:
        db.close()


_STORE_READERS = [
    ["report", "list"],
    ["report", "show", "R-2017-0412"],
    ["playbook", "history", "ride-safety-sos"],
    ["playbook", "show", "ride-safety-sos"],
    ["playbook", "show", "default", "--kind", "authority"],
    ["playbook", "amendments"],
    ["playbook", "verify"],
    ["playbook", "drills", "--now", NOW],
    ["ledger", "list"],
    ["learn", "--now", NOW],
    ["review", "start", "R-2017-0412", "--actor", "b", "--at", NOW, "--reason", "r"],
]


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a report, a playbook version, a drill and a decision: its bytes, copied for each example."""
    folder = tmp_path_factory.mktemp("store")
    store = str(folder / "s.db")
    for argv in (
        ["report", "add", str(EXAMPLES / "reports" / "airline-rebooking.toml")],
        ["playbook", "init", "ride-safety-sos", str(EXAMPLES / "playbooks.toml"), "--actor", "a", "--at", NOW],
        ["playbook", "init", "default", str(EXAMPLES / "authority.toml"), "--kind", "authority", "--actor", "a"],
        ["playbook", "drill", "ride-safety-sos", "--actor", "a", "--at", NOW],
        ["review", "submit", "R-2017-0412", "--actor", "a", "--at", NOW, "--reason", "done"],
    ):
        assert main([*argv, "--store", store]) == 0, argv
    db = sqlite3.connect(store)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder / "s.db"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rng=st.randoms(use_true_random=True), reader=st.sampled_from(_STORE_READERS))
def test_a_damaged_store_is_a_store_error_in_one_line(
    filled_store: Path, rng: random.Random, reader: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"s{rng.randrange(10**9)}.db"
    path.write_bytes(filled_store.read_bytes())
    _damage_store(path, rng)
    run_cli([*reader, "--store", str(path)], capsys)


# --------------------------------------------------------------------------
# Regression examples: each broke a door once


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("triage", b'[triage]\nname = "caf\xe9"\n', "not UTF-8 text"),
        ("report-json", b"[]", "expected a table of report fields, got list"),
        ("report-toml", b'reports = "x"\n', "reports: expected a list of reports, got str"),
        ("report-yaml", b"id: R-1\n4: x\n", "extra fields found (4)"),
        ("report-yaml", b"id: R-1\nb\nc: 2\n", "could not find expected ':' (at line 3, column 1)"),
        (
            "amendment",
            json.dumps({**json.loads(_AMENDMENT), "provenance": {"incidents": [[]]}}).encode(),
            "amendment: unhashable type",
        ),
    ],
)
def test_regressions_of_the_loaders(name: str, data: bytes, message: str, tmp_path: Path) -> None:
    _load(name, tmp_path, data)
    with pytest.raises(ServiceTriageError) as info:
        LOADERS[name][2](tmp_path / _seed(name)[0])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("store", ["a\x00b", "9" * 5000, "x\ud800"])
def test_a_store_path_that_cannot_be_opened_is_a_store_error(store: str) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(store)


@pytest.mark.parametrize("arg", ["\x00", "x\ud800"])
def test_an_argument_no_command_line_can_hold_is_one_line(arg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["ledger", "list", "--store", arg], capsys) == 2


def test_one_process_run_of_a_damaged_file_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    """The smoke test in a real process: no traceback reaches the terminal."""
    path = tmp_path / "p.toml"
    path.write_bytes(b'[triage]\nname = "caf\xe9"\n\x00')
    result = subprocess.run(
        [sys.executable, "-m", "servicetriage", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(path) in result.stderr
