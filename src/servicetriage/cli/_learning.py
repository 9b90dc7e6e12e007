"""Sub-commands of the learning loop: ``report``, ``review``, ``learn`` and ``playbook``.

They all work on a store file: ``--store PATH``, else ``$SERVICETRIAGE_STORE``,
else ``./servicetriage.db``. Times default to the current time; pass ``--at``
(or ``--now``) with an aware ISO time to record another.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.authority import AuthorityPolicy
from servicetriage.chain import anchor_from_data, anchor_to_data
from servicetriage.cli._effect import register as register_effect
from servicetriage.config import check_time, parse_duration, read_document
from servicetriage.errors import PolicyError, StoreError
from servicetriage.learning import Drill, LearningConfig, drill_schedule, propose
from servicetriage.review import Authority, ReportState, Subject
from servicetriage.store import (
    Store,
    authority_check,
    default_store_path,
    document_as,
    load_learning_config,
    load_reports,
    typed_check,
    version_to_data,
)
from servicetriage.versions import DocumentRef, apply_operations, create, diff, render_diff

if TYPE_CHECKING:
    import argparse

#: The environment variable holding the HMAC secret for keyed anchors.
KEY_ENV = "SERVICETRIAGE_CHAIN_KEY"

_REPORT_EVENTS = ("submit", "start", "accept", "reject", "request-changes")
_AMENDMENT_EVENTS = ("approve", "decline")
_AUTHORITY_HELP = "refuse reports whose deviations this authority policy file does not allow"


def _time(text: str | None, option: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{option}: expected an ISO 8601 time such as '2026-05-01T09:30:00+08:00', got {text!r}"
        raise PolicyError(msg) from None
    if value.tzinfo is None:
        msg = f"{option}: expected an aware time (with a time zone offset), got {text!r}"
        raise PolicyError(msg)
    try:
        return check_time(value, option)
    except ValueError as exc:
        raise PolicyError(str(exc)) from None


def _store(args: argparse.Namespace) -> Store:
    return Store(args.store or default_store_path())


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="PATH", help="store file (default: $SERVICETRIAGE_STORE or ./servicetriage.db)"
    )


def _target(args: argparse.Namespace) -> DocumentRef:
    return DocumentRef(kind=args.kind, id=args.id)


# ---- report


def _authority(args: argparse.Namespace) -> Authority | None:
    return authority_check(args.authority) if args.authority else None


def _report_add(args: argparse.Namespace) -> int:
    reports = load_reports(args.file)
    authority = _authority(args)
    with _store(args) as store:
        for report in reports:
            store.add_report(report, at=_time(args.at, "--at") if args.at else None, authority=authority)
            print(f"added report {report.id} (draft)")
    return 0


def _report_update(args: argparse.Namespace) -> int:
    reports = load_reports(args.file)
    authority = _authority(args)
    with _store(args) as store:
        for report in reports:
            store.update_report(report, authority=authority)
            state = store.review(Subject.REPORT, report.id).state.value
            print(f"updated report {report.id} ({state})")
    return 0


def _report_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        for report in store.reports(args.state):
            review = store.review(Subject.REPORT, report.id)
            kinds = ", ".join(d.kind for d in report.deviations) or "no deviation"
            print(f"{report.id}\t{review.state.value}\t{report.category}\t{kinds}")
    return 0


def _report_show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        report = store.report(args.id)
        review = store.review(Subject.REPORT, args.id)
    print(f"{report.id} ticket {report.ticket_id}, owner {report.owner}, {review.state.value}")
    for step in review.trail:
        print(f"  {step}")
    return 0


# ---- review


def _review(args: argparse.Namespace) -> int:
    at = _time(args.at, "--at")
    with _store(args) as store:
        if args.event in _AMENDMENT_EVENTS:
            event = "reject" if args.event == "decline" else args.event
            review = store.advance_review(
                Subject.AMENDMENT, args.id, event, actor=args.actor, at=at, reason=args.reason, tier=args.tier
            )
        else:
            review = store.advance_review(
                Subject.REPORT, args.id, args.event, actor=args.actor, at=at, reason=args.reason
            )
    print(f"{review.subject.value} {review.id}: {review.state.value}")
    return 0


# ---- learn


def _learn(args: argparse.Namespace) -> int:
    now = _time(args.now, "--now")
    config = load_learning_config(args.config) if args.config else LearningConfig()
    changes: dict[str, Any] = {}
    if args.window is not None:
        try:
            changes["window"] = parse_duration(args.window)
        except ValueError as exc:
            msg = f"--window: {exc}"
            raise PolicyError(msg) from None
        if changes["window"] <= timedelta(0):
            msg = f"--window: expected a duration > 0, got {args.window!r}"
            raise PolicyError(msg)
    if args.min_count is not None:
        if args.min_count < 1:
            msg = f"--min-count: expected a whole number >= 1, got {args.min_count}"
            raise PolicyError(msg)
        changes["min_count"] = args.min_count
    if args.authority is not None:
        changes["authority_id"] = args.authority
    config = attrs.evolve(config, **changes)
    with _store(args) as store:
        in_force = store.head(DocumentRef(kind="authority", id=config.authority_id))
        policy = document_as(in_force, AuthorityPolicy) if in_force is not None else None
        proposals = propose(store.reports(ReportState.ACCEPTED), config, now, authority=policy)
        saved = []
        for proposal in proposals:
            if args.save:
                head = store.head(proposal.target)
                try:
                    amendment = proposal.amendment(head)
                except PolicyError as exc:
                    print(f"skipped {proposal.id}: {exc}")
                    continue
                if (
                    head is not None
                    and apply_operations(head.document, proposal.operations(head.document)) == head.document
                ):
                    print(f"skipped {proposal.id}: {proposal.target} v{head.number} already holds it")
                    continue
                if any(a.id == amendment.id for a in store.amendments(proposal.target)):
                    continue
                store.propose(amendment, author=args.actor, at=now, reason=proposal.summary)
                saved.append(amendment.id)
    if args.json:
        out = [
            {
                "id": p.id,
                "kind": p.kind.value,
                "target": str(p.target),
                "signature": p.signature.key,
                "trigger": p.trigger,
                "summary": p.summary,
                "incidents": list(p.evidence.incidents),
                "evidence": {
                    "count": p.evidence.count,
                    "outcomes": dict(p.evidence.outcomes),
                    "success_rate": str(p.evidence.success_rate),
                    "satisfaction_before": _text(p.evidence.satisfaction_before),
                    "satisfaction_after": _text(p.evidence.satisfaction_after),
                    "max_amount": _text(p.evidence.max_amount),
                    "exemplary": list(p.evidence.exemplary),
                },
                "item": _plain(p.item),
                "notes": list(p.notes),
            }
            for p in proposals
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if not proposals:
            print("no typical deviations yet")
        for p in proposals:
            print(f"{p.id} {p.kind.value} {p.target}: {p.summary}")
            print(f"  incidents: {', '.join(p.evidence.incidents)}")
            for note in p.notes:
                print(f"  {note}")
        for amendment_id in saved:
            print(f"proposed amendment {amendment_id}")
    return 0


# ---- playbook (any versioned document)


def _section(data: Any, args: argparse.Namespace) -> Any:
    """The document for *args.id* in a file: an ``[authority]`` section, or one of ``[[playbooks]]`` by id."""
    if not isinstance(data, dict):
        return data
    if args.kind == "authority" and isinstance(data.get("authority"), dict):
        return data["authority"]
    if args.kind == "playbook" and isinstance(data.get("playbooks"), list):
        found = [p for p in data["playbooks"] if isinstance(p, dict) and p.get("id") == args.id]
        if not found:
            ids = ", ".join(repr(p.get("id")) for p in data["playbooks"] if isinstance(p, dict))
            msg = f"{args.file}: playbooks: no playbook with id {args.id!r}; the file has {ids or 'none'}"
            raise PolicyError(msg)
        return found[0]
    return data


def _init(args: argparse.Namespace) -> int:
    data = _section(read_document(args.file), args)
    version = create(_target(args), data, author=args.actor, at=_time(args.at, "--at"), message=args.reason)
    check = typed_check(args.kind)
    if check is not None:
        try:
            check(version)
        except PolicyError as exc:
            problems = tuple(f"{args.file}: {p}" for p in exc.problems)
            raise PolicyError("; ".join(problems), problems) from None
    with _store(args) as store:
        store.append(version)
    print(version)
    return 0


def _history(args: argparse.Namespace) -> int:
    with _store(args) as store:
        history = store.history(_target(args))
    if not history.versions:
        msg = f"no versions of {_target(args)}"
        raise PolicyError(msg)
    for version in history.versions:
        print(f"{version}" + (f": {version.message}" if version.message else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        history = store.history(_target(args))
    version = history.version(args.version) if args.version else history.head
    if version is None:
        msg = f"no versions of {_target(args)}"
        raise PolicyError(msg)
    print(json.dumps(version.document if not args.meta else version_to_data(version), ensure_ascii=False, indent=2))
    return 0


def _diff(args: argparse.Namespace) -> int:
    with _store(args) as store:
        history = store.history(_target(args))
    old, new = history.version(args.old), history.version(args.new)
    changes = diff(old, new)
    if args.json:
        out = [
            {"kind": c.kind.value, "path": list(c.path), "old": _plain(c.old), "new": _plain(c.new)} for c in changes
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(render_diff(changes, title=f"{history.versions[0].target} v{old.number} -> v{new.number}"))
    return 0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    from servicetriage.versions import thaw  # noqa: PLC0415

    return thaw(value)


def _apply(args: argparse.Namespace) -> int:
    with _store(args) as store:
        kind = store.amendment(args.amendment).target.kind
        version = store.apply(
            args.amendment,
            actor=args.actor,
            at=_time(args.at, "--at"),
            reason=args.reason,
            check=typed_check(kind),
        )
    print(version)
    return 0


def _rollback(args: argparse.Namespace) -> int:
    with _store(args) as store:
        version = store.rollback(
            _target(args), args.to, actor=args.actor, at=_time(args.at, "--at"), reason=args.reason
        )
    print(version)
    return 0


def _amendments(args: argparse.Namespace) -> int:
    with _store(args) as store:
        for amendment in store.amendments():
            state = store.review(Subject.AMENDMENT, amendment.id).state.value
            print(f"{amendment.id}\t{state}\t{amendment.target}\t{amendment.summary}")
    return 0


def _key(args: argparse.Namespace) -> bytes | None:
    """The HMAC secret: ``--key-file``, else ``$SERVICETRIAGE_CHAIN_KEY``, else none."""
    if args.key_file:
        try:
            key = Path(args.key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            msg = f"--key-file: cannot read {args.key_file}: {exc.strerror}"
            raise StoreError(msg) from None
        return key
    text = os.environ.get(KEY_ENV)
    return text.encode() if text else None


def _anchor(args: argparse.Namespace) -> int:
    key = _key(args)
    with _store(args) as store:
        anchor = store.anchor(at=_time(args.at, "--at"), key=key)
    text = json.dumps(anchor_to_data(anchor), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"anchored {anchor} to {args.out}" + (" and in the store" if key else ""))
    else:
        print(text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    anchors = []
    for path in args.anchor or ():
        try:
            anchors.append(anchor_from_data(json.loads(Path(path).read_text(encoding="utf-8")), f"{path}"))
        except (OSError, ValueError) as exc:
            msg = f"--anchor: cannot read {path}: {exc}"
            raise StoreError(msg) from None
    with _store(args) as store:
        problems = store.verify(anchors=tuple(anchors), key=_key(args))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(
        "all version chains verify; the audit chain covers every row"
        + (" and every anchor holds" if anchors or args.key_file or os.environ.get(KEY_ENV) else "")
    )
    return 0


def _drill(args: argparse.Namespace) -> int:
    drill = Drill(playbook_id=args.id, at=_time(args.at, "--at"), by=args.actor, note=args.note)
    with _store(args) as store:
        store.record_drill(drill)
        count = sum(1 for d in store.drills() if d.playbook_id == args.id)
    print(f"recorded drill {count} of {args.id} at {drill.at.isoformat()} by {drill.by}")
    return 0


def _drills(args: argparse.Namespace) -> int:
    from servicetriage.config import load_file  # noqa: PLC0415
    from servicetriage.playbooks import Playbook, PlaybookSet  # noqa: PLC0415
    from servicetriage.store import document_as  # noqa: PLC0415

    now = _time(args.now, "--now")
    with _store(args) as store:
        if args.playbooks:
            plans: tuple[Any, ...] = load_file(args.playbooks, PlaybookSet).playbooks
        else:
            heads = [store.head(t) for t in store.targets() if t.kind == "playbook"]
            plans = tuple(document_as(v, Playbook) for v in heads if v is not None)
        schedule = drill_schedule(plans, now, drills=store.drills(), reports=store.reports(ReportState.ACCEPTED))
    if args.json:
        out = [
            {
                "playbook": d.playbook_id,
                "due": d.due.isoformat(),
                "overdue": d.overdue,
                "drills": d.drills,
                "interval_days": d.interval.days,
                "last_drill": _text(d.last_drill.isoformat() if d.last_drill else None),
                "last_use": _text(d.last_use.isoformat() if d.last_use else None),
            }
            for d in schedule
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for due in schedule:
            print(due)
        if not schedule:
            print("no playbooks")
    return 1 if args.fail_overdue and any(d.overdue for d in schedule) else 0


def _doc_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="the playbook (or policy) id")
    parser.add_argument("--kind", default="playbook", help="document kind: playbook (default) or authority")
    _add_store(parser)


def _who(parser: argparse.ArgumentParser, *, reason: bool = True) -> None:
    parser.add_argument("--actor", required=True, help="who does it")
    if reason:
        parser.add_argument("--reason", required=True, help="why")
    parser.add_argument("--at", metavar="ISO", help="when (aware ISO time; default: now)")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``report``, ``review``, ``learn`` and ``playbook`` to *sub*."""
    report = sub.add_parser("report", help="file and list post-incident reports")
    rsub = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = rsub.add_parser("add", help="add the report(s) in a TOML, JSON or YAML file (as drafts)")
    add.add_argument("file")
    add.add_argument("--at", metavar="ISO", help="when it was filed (default: when it was resolved)")
    add.add_argument("--authority", metavar="FILE", help=_AUTHORITY_HELP)
    _add_store(add)
    add.set_defaults(func=_report_add)
    update = rsub.add_parser(
        "update", help="replace stored report(s) with the file's content (only while draft or changes requested)"
    )
    update.add_argument("file")
    update.add_argument("--authority", metavar="FILE", help=_AUTHORITY_HELP)
    _add_store(update)
    update.set_defaults(func=_report_update)
    listing = rsub.add_parser("list", help="list reports with their review state")
    listing.add_argument("--state", choices=[s.value for s in ReportState])
    _add_store(listing)
    listing.set_defaults(func=_report_list)
    show = rsub.add_parser("show", help="show a report's review trail")
    show.add_argument("id")
    _add_store(show)
    show.set_defaults(func=_report_show)

    review = sub.add_parser("review", help="move a report (or an amendment) through its review")
    vsub = review.add_subparsers(dest="event", required=True, metavar="EVENT")
    for event in (*_REPORT_EVENTS, *_AMENDMENT_EVENTS):
        what = "amendment" if event in _AMENDMENT_EVENTS else "report"
        step = vsub.add_parser(event, help=f"{event.replace('-', ' ')} ({what})")
        step.add_argument("id", metavar=f"{what.upper()}_ID")
        _who(step)
        if event == "approve":
            step.add_argument(
                "--tier",
                help="the approver's authority tier; needed when the amendment changes a tier's authority, "
                "and it must be above every tier the amendment changes",
            )
        else:
            step.set_defaults(tier=None)
        _add_store(step)
        step.set_defaults(func=_review)

    learn = sub.add_parser("learn", help="propose amendments from the accepted reports")
    learn.add_argument(
        "--config", metavar="FILE", help="read the settings from the [learning] table of a TOML, JSON or YAML file"
    )
    learn.add_argument("--min-count", type=int, help="recurrences that make a deviation typical (3)")
    learn.add_argument("--window", help="how far back to look (30d)")
    learn.add_argument("--now", metavar="ISO", help="the time to judge from (default: now)")
    learn.add_argument("--authority", help="id of the authority policy document (default)")
    learn.add_argument("--save", action="store_true", help="store the proposals as proposed amendments")
    learn.add_argument("--actor", default="learning", help="who proposes them, with --save (learning)")
    learn.add_argument("--json", action="store_true", help="print JSON")
    _add_store(learn)
    learn.set_defaults(func=_learn)

    playbook = sub.add_parser("playbook", help="versioned playbooks and policies: history, diff, apply, rollback")
    psub = playbook.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = psub.add_parser(
        "init",
        help="store version 1 of a document from a TOML, JSON or YAML file (checked as a Playbook or AuthorityPolicy)",
    )
    _doc_args(init)
    init.add_argument("file")
    _who(init, reason=False)
    init.add_argument("--reason", default="", help="why")
    init.set_defaults(func=_init)
    history = psub.add_parser("history", help="list a document's versions")
    _doc_args(history)
    history.set_defaults(func=_history)
    show_doc = psub.add_parser("show", help="print a version as JSON")
    _doc_args(show_doc)
    show_doc.add_argument("--version", type=int, help="version number (default: the current one)")
    show_doc.add_argument("--meta", action="store_true", help="print the version with its hash and metadata")
    show_doc.set_defaults(func=_show)
    diff_doc = psub.add_parser("diff", help="compare two versions")
    _doc_args(diff_doc)
    diff_doc.add_argument("old", type=int)
    diff_doc.add_argument("new", type=int)
    diff_doc.add_argument("--json", action="store_true", help="print the changes as JSON")
    diff_doc.set_defaults(func=_diff)
    apply = psub.add_parser("apply", help="apply an approved amendment, making a new version")
    apply.add_argument("amendment", metavar="AMENDMENT_ID")
    _who(apply, reason=False)
    apply.add_argument("--reason", default="applied", help="why")
    _add_store(apply)
    apply.set_defaults(func=_apply)
    rollback = psub.add_parser("rollback", help="make a new version equal to an old one")
    _doc_args(rollback)
    rollback.add_argument("--to", type=int, required=True, help="the version number to restore")
    _who(rollback)
    rollback.set_defaults(func=_rollback)
    amendments = psub.add_parser("amendments", help="list amendments with their review state")
    _add_store(amendments)
    amendments.set_defaults(func=_amendments)
    verify = psub.add_parser(
        "verify", help="verify the audit chain, every review trail and every version chain (exit 1 on tampering)"
    )
    verify.add_argument(
        "--anchor", action="append", metavar="FILE", help="an anchor exported by `playbook anchor` (repeatable)"
    )
    verify.add_argument("--key-file", metavar="FILE", help=f"HMAC secret for keyed anchors (default: ${KEY_ENV})")
    _add_store(verify)
    verify.set_defaults(func=_verify)
    drill = psub.add_parser("drill", help="record a drill of a playbook")
    drill.add_argument("id", help="the playbook id")
    drill.add_argument("--actor", required=True, help="who ran the drill")
    drill.add_argument("--at", metavar="ISO", help="when (aware ISO time; default: now)")
    drill.add_argument("--note", default="", help="what was drilled, what was learned")
    _add_store(drill)
    drill.set_defaults(func=_drill)
    drills = psub.add_parser("drills", help="when each playbook's next drill is due; overdue ones first")
    drills.add_argument("--now", metavar="ISO", help="judge at this aware time (default: now)")
    drills.add_argument(
        "--playbooks", metavar="FILE", help="a [[playbooks]] file (default: the playbooks versioned in the store)"
    )
    drills.add_argument("--fail-overdue", action="store_true", help="exit 1 when a drill is overdue")
    drills.add_argument("--json", action="store_true", help="print JSON")
    _add_store(drills)
    drills.set_defaults(func=_drills)
    register_effect(psub)
    anchor = psub.add_parser(
        "anchor", help="export the audit chain's head (and, with a key, keep a keyed anchor in the store)"
    )
    anchor.add_argument("--out", metavar="FILE", help="write the anchor to FILE (default: print it)")
    anchor.add_argument("--key-file", metavar="FILE", help=f"HMAC secret, at least 16 bytes (default: ${KEY_ENV})")
    anchor.add_argument("--at", metavar="ISO", help="when (aware ISO time; default: now)")
    _add_store(anchor)
    anchor.set_defaults(func=_anchor)
