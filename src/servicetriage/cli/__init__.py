"""The ``servicetriage`` command: rank a queue, check a policy, decide, learn.

Each sub-command lives in its own module with a ``register(subparsers)``
function; this module only assembles them and turns library errors into a
clear message and an exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from servicetriage.errors import ServiceTriageError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    from servicetriage.cli import (  # noqa: PLC0415
        _assign,
        _authority,
        _check,
        _escalation,
        _followup,
        _learning,
        _ledger,
        _triage,
    )

    parser = argparse.ArgumentParser(
        prog="servicetriage",
        description="Decide what to handle first, who may approve what, when to escalate, and how to learn.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (_triage, _assign, _check, _authority, _escalation, _followup, _learning, _ledger):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ServiceTriageError as exc:
        problems = getattr(exc, "problems", (str(exc),))
        for problem in problems:
            print(f"servicetriage: error: {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - `| head` closed the pipe
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
