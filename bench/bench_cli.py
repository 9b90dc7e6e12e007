# ruff: noqa: E501 - the ticket templates read best one to a line
"""Benchmark the command line: rank N tickets with ``servicetriage triage``, from JSON Lines and from CSV.

Generates N synthetic tickets (default 1,000,000; a deterministic mix of the
method's cases in Chinese and English; half of them carry the ITSM ``impact``
and ``urgency`` levels of a helpdesk export) into a temporary file, once as
JSON Lines (nested records) and once as CSV (flat columns, ``impact`` and
``urgency`` among them), runs the CLI on each as a subprocess, and prints the
wall time and the child's peak resident memory
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``). Then it times the stages
of the pipeline in this process on a sample, to show where the time goes.
Targets (issues 2 and 8): under 20 s and under 1.5 GB for 1,000,000 JSON
Lines tickets; CSV within 1.3x of JSON Lines per row.

    python bench/bench_cli.py                 # 1,000,000 tickets, both formats
    python bench/bench_cli.py --n 100000      # a quicker run
    python bench/bench_cli.py --input csv     # one format only
    python bench/bench_cli.py --format table --explain
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
TARGET_SECONDS = 20.0
TARGET_BYTES = 1.5 * 1024**3
TARGET_CSV_RATIO = 1.3
#: The share of tickets that carry ITSM impact and urgency levels (1 to 3), as a helpdesk export does.
LEVELS_SHARE = 0.5
#: The flat CSV columns the generated tickets use.
CSV_HEADER = (
    "id", "opened_at", "due", "customer_id", "customer_tier", "customer_reach", "channel", "category", "subject",
    "text", "language", "declared_urgency", "impact", "urgency", "affected_customers", "money_at_stake", "flags",
    "repeat_contacts",
)  # fmt: skip

# (weight, fields): the kinds of need the example set has, flattened to templates.
TEMPLATES: tuple[tuple[int, dict[str, object]], ...] = (
    (3, {"channel": "phone", "category": "ride", "subject": "行程SOS", "text": "乘客在行程中按下SOS，称司机偏离路线", "language": "zh", "declared_urgency": "critical", "flags": ["safety"]}),
    (1, {"channel": "chat", "category": "ride", "subject": "SOS pressed by mistake", "text": "Sorry, I pressed SOS by mistake, I am fine", "language": "en", "flags": ["safety"]}),
    (2, {"channel": "phone", "category": "ride", "subject": "警方来电", "text": "派出所民警来电，核实一名失联乘客的行程信息", "language": "zh", "declared_urgency": "high", "flags": ["police"]}),
    (4, {"channel": "phone", "category": "flight", "subject": "Stranded after cancellation", "text": "Flight cancelled, stranded at the airport overnight with two small children", "language": "en", "declared_urgency": "critical", "affected_customers": 4, "money_at_stake": "1500 CNY"}),
    (5, {"channel": "phone", "category": "broadband", "subject": "第5次来电，问题仍未解决", "text": "宽带断了一周，再不解决我就投诉到工信部", "language": "zh", "declared_urgency": "high", "repeat_contacts": 5}),
    (4, {"customer": {"tier": "vip_business", "reach": 5000}, "channel": "phone", "category": "account", "subject": "All enterprise seats locked out", "text": "300 seats cannot log in since this morning", "language": "en", "declared_urgency": "high", "affected_customers": 300, "money_at_stake": "50000 CNY"}),
    (3, {"channel": "regulator", "category": "refund", "subject": "12315转来投诉", "text": "消费者投诉到12315：退款三十天仍未到账", "language": "zh", "flags": ["regulator"], "money_at_stake": "1200 CNY"}),
    (3, {"customer": {"reach": 40000}, "channel": "social_media", "category": "service", "subject": "Viral post about us", "text": "Tweet with 40k followers: you lost my wheelchair", "language": "en", "flags": ["public_exposure"]}),
    (3, {"channel": "email", "category": "refund", "subject": "紧急退款到新账户", "text": "急！请把退款退到另一个账户，今天必须到账", "language": "zh", "declared_urgency": "critical", "money_at_stake": "8000 CNY"}),
    (8, {"channel": "chat", "category": "billing", "subject": "Invoice copy needed by 5 pm", "text": "My expense claim closes at 5 pm today, please resend the invoice", "language": "en", "declared_urgency": "high"}),
    (20, {"channel": "chat", "category": "general", "subject": "发票怎么开", "text": "请问电子发票在哪里下载？", "language": "zh", "declared_urgency": "low"}),
    (15, {"channel": "email", "category": "repair", "subject": "Dripping tap", "text": "Dripping tap in the office kitchen, no rush", "language": "en", "declared_urgency": "low"}),
    (4, {"customer": {"tier": "vip_business"}, "channel": "email", "category": "product", "subject": "建议增加儿童座椅选项", "text": "建议App里可以预约带儿童座椅的车辆", "language": "zh", "declared_urgency": "low", "affected_customers": 2000}),
    (3, {"channel": "email", "category": "platform", "subject": "Payment gateway errors", "text": "Checkout fails for some merchants", "language": "en", "impact": 2, "urgency": 1}),
)  # fmt: skip


def _flat(record: dict[str, object]) -> list[object]:
    """The CSV row of a generated nested record: customer fields flattened, flags joined by ';'."""
    customer = record["customer"]
    assert isinstance(customer, dict)
    flat = {
        **record,
        "customer_id": customer["id"],
        "customer_tier": customer.get("tier", ""),
        "customer_reach": customer.get("reach", 250),
        "flags": ";".join(record.get("flags", ())),  # type: ignore[arg-type]
    }
    return [flat.get(column, "") for column in CSV_HEADER]


def generate(path: Path, n: int, seed: int = 7, *, csv_path: Path | None = None) -> None:
    """Write *n* tickets as JSON Lines (nested shape), deterministically; the same tickets as CSV to *csv_path*."""
    rng = random.Random(seed)
    weights = [w for w, _ in TEMPLATES]
    bodies = [t for _, t in TEMPLATES]
    base = NOW - timedelta(days=3)
    flat_out = csv_path.open("w", encoding="utf-8", newline="") if csv_path is not None else None
    writer = csv.writer(flat_out, lineterminator="\n") if flat_out is not None else None
    if writer is not None:
        writer.writerow(CSV_HEADER)
    with path.open("w", encoding="utf-8") as out:
        chunk: list[str] = []
        rows: list[list[object]] = []
        for number, body in enumerate(rng.choices(bodies, weights, k=n)):
            opened = base + timedelta(seconds=rng.randrange(3 * 86400))
            record = dict(body)
            record["id"] = f"T{number:07d}"
            record["opened_at"] = opened.isoformat()
            if rng.random() < 0.8:
                record["due"] = (opened + timedelta(minutes=rng.randrange(15, 7 * 1440))).isoformat()
            record["customer"] = {"id": f"C{rng.randrange(200_000):06d}", **body.get("customer", {})}  # type: ignore[dict-item]
            if "impact" not in record and rng.random() < LEVELS_SHARE:
                record["impact"], record["urgency"] = rng.randint(1, 3), rng.randint(1, 3)
            chunk.append(json.dumps(record, ensure_ascii=False))
            if writer is not None:
                rows.append(_flat(record))
            if len(chunk) >= 10_000:
                out.write("\n".join(chunk) + "\n")
                chunk.clear()
                if writer is not None:
                    writer.writerows(rows)
                    rows.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")
        if writer is not None:
            writer.writerows(rows)
    if flat_out is not None:
        flat_out.close()


def _tree_rss(pid: int) -> int:
    """Sum the resident memory of *pid* and its descendants (Linux /proc), in bytes; 0 if gone."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        todo.extend(int(c) for c in children)
    return total


def run_cli(path: Path, args: argparse.Namespace) -> dict[str, float]:
    """Run the CLI on *path*; return wall and CPU seconds, peak RSS (largest process, and tree sum), exit code."""
    command = [
        sys.executable,
        "-m",
        "servicetriage",
        "triage",
        str(path),
        "--now",
        NOW.isoformat(),
        "--format",
        args.format,
    ]
    if args.policy:
        command += ["--policy", args.policy]
    if args.explain:
        command.append("--explain")
    if args.jobs is not None:
        command += ["--jobs", str(args.jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    tree_peak = 0
    while child.poll() is None:
        tree_peak = max(tree_peak, _tree_rss(child.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    stderr = child.stderr.read().decode() if child.stderr else ""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode:
        sys.stderr.write(stderr[-2000:])
    return {
        "wall": wall,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "peak": after.ru_maxrss * 1024,  # KiB on Linux: the largest single process
        "tree_peak": tree_peak,
        "code": child.returncode,
    }


def stages(path: Path, sample: int, policy_path: str | None, csv_path: Path | None = None) -> None:
    """Time each stage of the pipeline in this process on the first *sample* tickets (of each format)."""
    from servicetriage import config, ingest, triage  # noqa: PLC0415
    from servicetriage.cli import _triage, build_parser  # noqa: PLC0415

    policy = (
        config.load_section(policy_path, "triage", triage.TriagePolicy, required=True)
        if policy_path
        else triage.DEFAULT_POLICY
    )
    assert policy is not None
    with path.open(encoding="utf-8") as src:
        lines = [next(src) for _ in range(sample)]
    text = "".join(lines)
    csv_text = ""
    if csv_path is not None:
        with csv_path.open(encoding="utf-8", newline="") as src:
            csv_text = "".join(next(src) for _ in range(sample + 1))  # the header, then the same tickets

    def timed(label: str, func: object) -> tuple[object, float]:
        start = time.process_time()  # CPU time: less disturbed by other work on the machine
        result = func()  # type: ignore[operator]
        seconds = time.process_time() - start
        print(f"  {label:<34} {seconds:7.2f} s   {seconds / sample * 1e6:7.2f} us/ticket")
        return result, seconds

    print(f"stages, in process, CPU time, on {sample:,} tickets:")
    timed("json.loads only", lambda: [json.loads(line) for line in lines])
    tickets, jsonl_seconds = timed(
        "ingest JSON Lines (parse + build)",
        lambda: [t for _, t in ingest.iter_tickets(io.StringIO(text), format="jsonl")],
    )
    assert isinstance(tickets, list)
    if csv_text:
        from_csv, csv_seconds = timed(
            "ingest CSV (parse + build)",
            lambda: [t for _, t in ingest.iter_tickets(io.StringIO(csv_text), format="csv")],
        )
        assert from_csv == tickets, "the CSV and JSON Lines files hold the same tickets"
        print(f"  {'CSV / JSON Lines, ingest':<34} {csv_seconds / jsonl_seconds:7.2f}x   (target {TARGET_CSV_RATIO}x)")
    triages, _ = timed("classify_many (full reasons)", lambda: triage.classify_many(tickets, policy, NOW))
    assert isinstance(triages, list)
    keys, _ = timed("rank_key", lambda: [triage.rank_key(t, r) for t, r in zip(tickets, triages, strict=True)])
    assert isinstance(keys, list)
    worker = _triage._Worker(policy, NOW, "csv", explain=False)  # noqa: SLF001
    timed("render a CSV line", lambda: [worker.render(t, r) for t, r in zip(tickets, triages, strict=True)])
    timed("sort the rows", lambda: sorted(zip(keys, range(len(keys)), strict=True)))

    def whole(sample_path: Path, input_format: str) -> None:
        saved = sys.stdout
        sys.stdout = io.StringIO()
        try:
            # The command's own parser makes the arguments, so a new option never breaks this stage.
            words = ["triage", str(sample_path), "--now", NOW.isoformat(), "--format", "csv"]
            words += ["--input-format", input_format, "--jobs", "1"]
            if policy_path is not None:
                words += ["--policy", str(policy_path)]
            _triage.run(build_parser().parse_args(words))
        finally:
            sys.stdout = saved

    with tempfile.TemporaryDirectory() as folder:
        jsonl_sample = Path(folder) / "sample.jsonl"
        jsonl_sample.write_text(text, encoding="utf-8")
        timed("whole command, JSON Lines in", lambda: whole(jsonl_sample, "jsonl"))
        if csv_text:
            csv_sample = Path(folder) / "sample.csv"
            csv_sample.write_text(csv_text, encoding="utf-8")
            timed("whole command, CSV in", lambda: whole(csv_sample, "csv"))


def report(label: str, figures: dict[str, float], n: int) -> None:
    """Print one CLI run's figures."""
    wall, cpu = figures["wall"], figures["cpu"]
    print(
        f"CLI, {label} in: {wall:.2f} s wall ({wall / n * 1e6:.1f} us/ticket), {n / wall:,.0f} tickets/s, "
        f"{cpu:.1f} s CPU ({cpu / n * 1e6:.1f} us/ticket), exit {figures['code']:.0f}"
    )
    print(
        f"  peak RSS: {figures['peak'] / 1024**2:,.0f} MiB largest process (getrusage), "
        f"{figures['tree_peak'] / 1024**2:,.0f} MiB all processes (sampled)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of tickets (default 1,000,000)")
    parser.add_argument("--format", choices=("csv", "json", "table"), default="csv")
    parser.add_argument(
        "--input", choices=("both", "jsonl", "csv"), default="both", help="the ticket file format(s) to run on"
    )
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--policy",
        default=None,
        help="policy file, or 'builtin' for the default policy (default: examples/triage.toml if present)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="pass --jobs to the CLI (default: the CLI's own choice)")
    parser.add_argument(
        "--sample", type=int, default=100_000, help="tickets for the in-process stage timings (0: skip)"
    )
    args = parser.parse_args()
    if args.policy is None and (ROOT / "examples" / "triage.toml").exists():
        args.policy = str(ROOT / "examples" / "triage.toml")
    elif args.policy == "builtin":
        args.policy = None

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tickets.jsonl"
        csv_path = Path(folder) / "tickets.csv" if args.input != "jsonl" else None
        start = time.perf_counter()
        generate(path, args.n, csv_path=csv_path)
        sizes = f"{path.stat().st_size / 1e6:.0f} MB JSON Lines" + (
            f", {csv_path.stat().st_size / 1e6:.0f} MB CSV" if csv_path is not None else ""
        )
        print(f"generated {args.n:,} tickets ({sizes}) in {time.perf_counter() - start:.1f} s")
        print(f"policy: {args.policy or 'built-in default'}; format: {args.format}; explain: {args.explain}")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        runs: dict[str, dict[str, float]] = {}
        if args.input != "csv":
            runs["JSON Lines"] = run_cli(path, args)
            report("JSON Lines", runs["JSON Lines"], args.n)
        if csv_path is not None:
            runs["CSV"] = run_cli(csv_path, args)
            report("CSV", runs["CSV"], args.n)
        if len(runs) == 2:
            ratio = runs["CSV"]["wall"] / runs["JSON Lines"]["wall"]
            print(f"CSV / JSON Lines, wall per ticket: {ratio:.2f}x (target {TARGET_CSV_RATIO}x)")
        load = os.getloadavg()[0]
        print(f"load average at the end: {load:.2f} on {os.cpu_count()} CPUs (other work slows the figures)")
        if args.n == 1_000_000 and "JSON Lines" in runs:
            figures = runs["JSON Lines"]
            wall, peak = figures["wall"], max(figures["peak"], figures["tree_peak"])
            print(
                f"targets (JSON Lines): time {wall / TARGET_SECONDS:.2f}x of {TARGET_SECONDS:.0f} s, "
                f"memory {peak / TARGET_BYTES:.2f}x of 1.5 GiB"
            )
        if args.sample:
            stages(path, min(args.sample, args.n), args.policy, csv_path)


if __name__ == "__main__":
    main()
