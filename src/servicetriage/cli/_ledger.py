"""``servicetriage ledger``: list recorded decisions and replay them under a proposed change.

``ledger list`` prints the records of a store's decision ledger;
``ledger replay`` re-decides a period's recorded inputs under a proposed
amendment (``--amendment``, before it is approved) or under policy files
(``--authority``, ``--triage``, ``--playbooks``) and shows what would change:
the counts, then one line per changed decision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from servicetriage.authority import AuthorityPolicy
from servicetriage.cli._learning import _time
from servicetriage.config import load_file, load_section
from servicetriage.errors import PolicyError
from servicetriage.ledger import (
    Decider,
    DecisionKind,
    Record,
    Replay,
    authority_decider,
    playbook_decider,
    replay,
    triage_decider,
)
from servicetriage.playbooks import Playbook, PlaybookSet
from servicetriage.store import Store, default_store_path, document_as
from servicetriage.triage import TriagePolicy
from servicetriage.versions import apply as apply_amendment

if TYPE_CHECKING:
    import argparse

__all__ = ["register"]


def _times(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    since = _time(args.since, "--since") if args.since else None
    until = _time(args.until, "--until") if args.until else None
    return since, until


def _store(args: argparse.Namespace) -> Store:
    return Store(args.store or default_store_path())


def _records(store: Store, args: argparse.Namespace) -> tuple[Record, ...]:
    since, until = _times(args)
    return store.decisions(kind=args.kind, since=since, until=until, subject=getattr(args, "subject", None))


def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        records = _records(store, args)
    if args.json:
        print(json.dumps([r.to_data() for r in records], ensure_ascii=False, indent=2))
        return 0
    for r in records:
        version = f" v{r.policy_version}" if r.policy_version is not None else ""
        print(
            f"{r.seq}\t{r.at.isoformat()}\t{r.kind.value}\t{r.subject}\t{r.outcome}\t"
            f"policy {r.policy_hash[:12]}{version}\tinput {r.input_hash[:12]}"
        )
    if not records:
        print("no decisions recorded")
    return 0


def _amendment_deciders(store: Store, amendment_id: str) -> list[Decider]:
    amendment = store.amendment(amendment_id)
    head = store.head(amendment.target)
    version = apply_amendment(
        head, amendment, author="replay", at=head.at if head is not None else datetime(1970, 1, 1, tzinfo=UTC)
    )
    if amendment.target.kind == "authority":
        return [authority_decider(document_as(version, AuthorityPolicy))]
    if amendment.target.kind == "playbook":
        plans: list[Playbook] = []
        for target in store.targets():
            current = store.head(target)
            if target.kind == "playbook" and target != amendment.target and current is not None:
                plans.append(document_as(current, Playbook))
        plans.append(document_as(version, Playbook))
        return [playbook_decider(plans)]
    msg = f"--amendment {amendment_id}: replay knows playbook and authority documents, not {amendment.target.kind!r}"
    raise PolicyError(msg)


def _file_deciders(args: argparse.Namespace) -> list[Decider]:
    deciders: list[Decider] = []
    plans: tuple[Playbook, ...] = load_file(args.playbooks, PlaybookSet).playbooks if args.playbooks else ()
    if args.authority:
        policy = load_section(args.authority, "authority", AuthorityPolicy, required=True)
        assert policy is not None  # required=True
        deciders.append(authority_decider(policy))
    if args.triage:
        triage = load_section(args.triage, "triage", TriagePolicy, required=True)
        assert triage is not None  # required=True
        deciders.append(triage_decider(triage, plans))
    elif args.playbooks:
        deciders.append(playbook_decider(plans))
    return deciders


def _combined(deciders: list[Decider]) -> Decider:
    def decide(record: Record) -> Any:
        for decider in deciders:
            result = decider(record)
            if result is not None:
                return result
        return None

    return decide


def _replay(args: argparse.Namespace) -> int:
    given = [args.amendment, args.authority, args.triage or args.playbooks]
    if sum(1 for g in given if g) == 0:
        msg = "ledger replay: name what to replay under: --amendment ID, or --authority, --triage, --playbooks FILE"
        raise PolicyError(msg)
    if args.amendment and any(given[1:]):
        msg = "ledger replay: --amendment replays one proposed change; leave out the policy files"
        raise PolicyError(msg)
    with _store(args) as store:
        deciders = _amendment_deciders(store, args.amendment) if args.amendment else _file_deciders(args)
        records = _records(store, args)
    result: Replay = replay(records, _combined(deciders))
    if args.json:
        out = {
            "total": result.total,
            "changed": len(result.changes),
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "moves": [{"before": b, "after": a, "count": n} for b, a, n in result.moves],
            "changes": [
                {
                    "seq": c.seq,
                    "kind": c.kind.value,
                    "subject": c.subject,
                    "at": c.at.isoformat(),
                    "before": c.before,
                    "after": c.after,
                }
                for c in result.changes
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(result.render())
    return 0


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=[k.value for k in DecisionKind], help="only this kind of decision")
    parser.add_argument("--since", metavar="ISO", help="only decisions at or after this aware time")
    parser.add_argument("--until", metavar="ISO", help="only decisions before this aware time")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--store", metavar="PATH", help="store file (default: $SERVICETRIAGE_STORE or ./servicetriage.db)"
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``ledger`` to *sub*."""
    ledger = sub.add_parser("ledger", help="the decision ledger: list decisions, replay them under a proposed change")
    lsub = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = lsub.add_parser("list", help="list recorded decisions with their input and policy hashes")
    _filters(listing)
    listing.add_argument("--subject", help="only decisions about this ticket")
    listing.set_defaults(func=_list)
    again = lsub.add_parser("replay", help="re-decide recorded inputs under a proposed amendment or policy files")
    _filters(again)
    again.add_argument("--amendment", metavar="ID", help="a stored amendment, applied to its document's head")
    again.add_argument("--authority", metavar="FILE", help="an [authority] policy file")
    again.add_argument("--triage", metavar="FILE", help="a [triage] policy file (re-places the tickets)")
    again.add_argument("--playbooks", metavar="FILE", help="a [[playbooks]] file (re-matches the placements)")
    again.set_defaults(func=_replay)
