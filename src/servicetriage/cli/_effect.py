"""``servicetriage playbook effect``: did an amendment help? Figures before and after each playbook version."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from servicetriage.effect import Comparison, VersionEffect, effect, show
from servicetriage.errors import PolicyError
from servicetriage.review import ReportState
from servicetriage.store import Store, default_store_path
from servicetriage.versions import DocumentRef

if TYPE_CHECKING:
    import argparse


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.5 <= value < 1:
        msg = f"--confidence: expected a level from 0.5 up to (not including) 1, such as 0.95, got {text!r}"
        raise PolicyError(msg)
    return value


def _amendment_of(store: Store, playbook_id: str, number: int) -> tuple[str | None, str]:
    """The amendment (id and summary) that made document version *number* of the playbook, if the store has it."""
    for version in store.history(DocumentRef(kind="playbook", id=playbook_id)).versions:
        document = version.document
        recorded = document.get("version", 1) if isinstance(document, dict) else None
        if recorded == number and version.amendment is not None:
            return version.amendment, store.amendment(version.amendment).summary
    return None, ""


def _side(side: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"n": side.n, "value": None if side.value is None else str(side.value)}
    if side.events is not None:
        out["events"] = side.events
    return out


def _comparison(item: Comparison) -> dict[str, Any]:
    return {
        "measure": item.measure,
        "kind": item.kind,
        "before": _side(item.before),
        "after": _side(item.after),
        "difference": None if item.difference is None else str(item.difference),
        "low": None if item.low is None else str(item.low),
        "high": None if item.high is None else str(item.high),
        "method": item.method,
        "verdict": item.verdict,
    }


def _row(item: Comparison) -> list[str]:
    kind = item.kind
    interval = "-"
    if item.low is not None:
        interval = f"[{show(kind, item.low, signed=True, unit=False)}, {show(kind, item.high, signed=True)}]"
    return [
        item.measure,
        f"{show(kind, item.before.value)} (n={item.before.n})",
        f"{show(kind, item.after.value)} (n={item.after.n})",
        show(kind, item.difference, signed=True),
        interval,
        item.verdict,
    ]


def _table(found: VersionEffect, amendment: tuple[str | None, str]) -> str:
    head = (
        f"{found.playbook_id} v{found.previous} -> v{found.version}: "
        f"{found.uses_before} report(s) before, {found.uses_after} after"
    )
    lines = [head]
    if amendment[0] is not None:
        lines.append(f"  amendment {amendment[0]}: {amendment[1]}")
    rows = [["measure", "before", "after", "change", f"{found.confidence:.0%} interval", "verdict"]]
    rows.extend(_row(c) for c in found.comparisons)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.extend("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print each playbook version's figures against the version before it."""
    confidence = _confidence(args.confidence)
    state = None if args.state == "all" else args.state
    with Store(args.store or default_store_path()) as store:
        found = effect(store.reports(state), playbook=args.id, confidence=confidence)
        amendments = {(e.playbook_id, e.version): _amendment_of(store, e.playbook_id, e.version) for e in found}
    if args.json:
        out = [
            {
                "playbook": e.playbook_id,
                "before_version": e.previous,
                "version": e.version,
                "amendment": amendments[(e.playbook_id, e.version)][0],
                "reports_before": e.uses_before,
                "reports_after": e.uses_after,
                "confidence": e.confidence,
                "measures": [_comparison(c) for c in e.comparisons],
            }
            for e in found
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not found:
        which = f"playbook {args.id}" if args.id else "any playbook"
        print(f"no two versions of {which} with reports to compare")
        return 0
    print("\n\n".join(_table(e, amendments[(e.playbook_id, e.version)]) for e in found))
    return 0


def register(psub: argparse._SubParsersAction[Any]) -> None:
    """Add ``effect`` to the ``playbook`` sub-commands."""
    parser = psub.add_parser(
        "effect",
        help="complaints, escalations, SLA breaches, satisfaction and reuse before and after each playbook version",
    )
    parser.add_argument("id", nargs="?", help="only this playbook (default: every playbook)")
    parser.add_argument(
        "--state",
        default=ReportState.ACCEPTED.value,
        choices=[*(s.value for s in ReportState), "all"],
        metavar="STATE",
        help="count reports in this review state, or all (default: accepted)",
    )
    parser.add_argument("--confidence", default="0.95", help="the intervals' confidence level (0.95)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--store", metavar="PATH", help="store file (default: $SERVICETRIAGE_STORE or ./servicetriage.db)"
    )
    parser.set_defaults(func=run)
