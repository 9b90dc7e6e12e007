"""Measure the signal detector on the labelled corpus: precision and recall per signal and language.

    python bench/eval_signals.py                      # both parts, the summary tables
    python bench/eval_signals.py --part dev --misses  # the development part, with every ticket it gets wrong
    python bench/eval_signals.py --markdown           # the tables as Markdown, for the performance page

The corpus (``tests/corpus/dev`` and ``tests/corpus/holdout``) holds tickets
written the way customers write, in every supported language, each labelled
with the signal concepts it expresses and the quadrant the method wants. The
development part is the one terms are tuned on; the held-back part is only
ever *measured*: this script refuses to print its tickets (``--misses`` works
on the development part alone), so that nobody tunes on it by accident.

The text alone is judged: every ticket is classified as an e-mail with no
deadline, VIP tier or ITSM fields, under the default policy. Scores are given
per signal (the concepts' families: ``safety`` counts a hit on any
``safety.*`` concept) and, with ``--concepts``, per concept.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servicetriage.model import Customer, Ticket
from servicetriage.signals.lexicon import LANGUAGES, concepts
from servicetriage.triage import DEFAULT_POLICY, classify

ROOT = Path(__file__).resolve().parent.parent / "tests" / "corpus"
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)

#: Targets on the held-back part: (recall, precision) per signal; the worst language within SPREAD of the best.
TARGETS = {"safety": (0.97, 0.90)}
OTHER_TARGET = (0.90, 0.85)
SPREAD = 0.05


def load(part: str, files: str = "*.jsonl") -> list[dict[str, Any]]:
    """Return every ticket of one part of the corpus (of the files matching *files* in it)."""
    rows: list[dict[str, Any]] = []
    for path in sorted((ROOT / part).glob(files)):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{path.name}:{number}"
                rows.append(row)
    return rows


def family(concept: str) -> str:
    """The signal a concept feeds (``safety.trapped`` -> ``safety``)."""
    return concepts()[concept].signal


def judge(row: dict[str, Any]) -> tuple[set[str], str, list[str]]:
    """Classify one corpus ticket: the concepts found, the quadrant, and the reasons."""
    ticket = Ticket(
        id=row["id"],
        opened_at=NOW,
        customer=Customer(id="C-" + row["id"]),
        category=row.get("category") or "general",
        subject=row.get("subject") or "",
        text=row.get("text") or "",
    )
    triage = classify(ticket, DEFAULT_POLICY, NOW)
    return set(triage.concepts), triage.quadrant.name, [str(r) for r in triage.reasons]


def score(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    """Return (recall, precision); ``None`` where nothing was there to find or nothing was found."""
    recall = tp / (tp + fn) if tp + fn else None
    precision = tp / (tp + fp) if tp + fp else None
    return recall, precision


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def evaluate(rows: list[dict[str, Any]], fine: bool) -> dict[str, Any]:
    """Counts per (label, language): tp, fp, fn; the quadrant confusion; translation-group agreement."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    confusion: Counter[tuple[str, str]] = Counter()
    groups: dict[str, set[tuple[str, frozenset[str]]]] = defaultdict(set)
    misses: list[str] = []
    for row in rows:
        found, quadrant, reasons = judge(row)
        expected = set(row["concepts"])
        language = row["language"]
        key = (lambda c: c) if fine else family
        want, got = {key(c) for c in expected}, {key(c) for c in found}
        for label in want | got:
            cell = counts[label, language]
            if label in want and label in got:
                cell["tp"] += 1
            elif label in got:
                cell["fp"] += 1
            else:
                cell["fn"] += 1
        confusion[row["quadrant"], quadrant] += 1
        if row.get("group"):
            groups[row["group"]].add((quadrant, frozenset(family(c) for c in found)))
        if want != got or row["quadrant"] != quadrant:
            missing, extra = sorted(want - got), sorted(got - want)
            misses.append(
                f"{row['_where']} {row['id']}: expected {sorted(want)} {row['quadrant']}, got {sorted(got)} {quadrant}"
                f"{' missing ' + str(missing) if missing else ''}{' extra ' + str(extra) if extra else ''}\n"
                f"    {(row.get('subject') or '')[:80]!r} {row.get('text', '')[:240]!r}\n"
                + "".join(f"      {r}\n" for r in reasons if "concepts." in r)
            )
    split = sum(1 for outcomes in groups.values() if len(outcomes) > 1)
    return {"counts": counts, "confusion": confusion, "groups": len(groups), "split_groups": split, "misses": misses}


def table(result: dict[str, Any], markdown: bool) -> tuple[list[str], list[str]]:
    """Return the recall/precision table lines and the list of targets missed."""
    counts = result["counts"]
    labels = sorted({label for label, _ in counts})
    lines = []
    header = ["signal", *(f"{lang} R/P (n)" for lang in LANGUAGES), "all R/P (n)"]
    if markdown:
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    else:
        lines.append(f"{'signal':<24}" + "".join(f"{h:>18}" for h in header[1:]))
    missed: list[str] = []
    for label in labels:
        cells = []
        recalls, precisions = [], []
        total: Counter[str] = Counter()
        for language in LANGUAGES:
            c = counts.get((label, language), Counter())
            total.update(c)
            recall, precision = score(c["tp"], c["fp"], c["fn"])
            cells.append(f"{fmt(recall)}/{fmt(precision)} ({c['tp'] + c['fn']})")
            if recall is not None:
                recalls.append(recall)
            if precision is not None:
                precisions.append(precision)
        recall, precision = score(total["tp"], total["fp"], total["fn"])
        cells.append(f"{fmt(recall)}/{fmt(precision)} ({total['tp'] + total['fn']})")
        if markdown:
            lines.append("| " + " | ".join([label, *cells]) + " |")
        else:
            lines.append(f"{label:<24}" + "".join(f"{c:>18}" for c in cells))
        want_recall, want_precision = TARGETS.get(label.split(".")[0], OTHER_TARGET)
        if recalls and min(recalls) < want_recall:
            missed.append(f"{label}: recall {min(recalls):.2f} < {want_recall} in some language")
        if precisions and min(precisions) < want_precision:
            missed.append(f"{label}: precision {min(precisions):.2f} < {want_precision} in some language")
        if len(recalls) > 1 and max(recalls) - min(recalls) > SPREAD:
            missed.append(f"{label}: recall spread {max(recalls) - min(recalls):.2f} > {SPREAD} across languages")
    return lines, missed


def confusion_lines(result: dict[str, Any], markdown: bool) -> list[str]:
    quadrants = ["Q1", "Q2", "Q3", "Q4"]
    confusion = result["confusion"]
    lines = []
    if markdown:
        lines += ["| expected \\ placed | " + " | ".join(quadrants) + " |", "|---|---|---|---|---|"]
        lines += [f"| {e} | " + " | ".join(str(confusion[e, p]) for p in quadrants) + " |" for e in quadrants]
    else:
        lines.append("expected \\ placed " + "".join(f"{q:>6}" for q in quadrants))
        lines += [f"{e:<18}" + "".join(f"{confusion[e, p]:>6}" for p in quadrants) for e in quadrants]
    right = sum(confusion[q, q] for q in quadrants)
    total = sum(confusion.values())
    lines.append(f"quadrant agreement: {right}/{total} = {right / total:.3f}" if total else "no tickets")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--part", choices=["dev", "holdout", "both"], default="both")
    parser.add_argument("--misses", action="store_true", help="print every ticket placed wrong (dev part only)")
    parser.add_argument("--concepts", action="store_true", help="score each concept, not each signal")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--files",
        default="*.jsonl",
        help="score only the files matching this pattern (a new batch before tuning on it: '*-e.jsonl')",
    )
    args = parser.parse_args(argv)
    if args.misses and args.part != "dev":
        parser.error("--misses shows tickets: only the development part may be read (use --part dev)")
    parts = ["dev", "holdout"] if args.part == "both" else [args.part]
    for part in parts:
        rows = load(part, args.files)
        if not rows:
            print(f"== {part}: no tickets in {ROOT / part / args.files}")
            continue
        result = evaluate(rows, fine=args.concepts)
        by_language = Counter(row["language"] for row in rows)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(by_language.items()))
        print(f"\n== {part}: {len(rows)} tickets ({counts})")
        lines, missed = table(result, args.markdown)
        print("\n".join(lines))
        print()
        print("\n".join(confusion_lines(result, args.markdown)))
        print(
            f"translation groups placed alike in every language: {result['groups'] - result['split_groups']}"
            f"/{result['groups']}"
        )
        print("targets: " + ("all met" if not missed else "missed:\n  " + "\n  ".join(missed)))
        if args.misses:
            print(f"\n{len(result['misses'])} tickets placed wrong:")
            print("".join(result["misses"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
