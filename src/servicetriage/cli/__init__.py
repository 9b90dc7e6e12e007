"""The ``servicetriage`` command: rank a queue, check a policy, decide, learn.

Each sub-command lives in its own module with a ``register(subparsers)``
function; this module only assembles them and turns library errors into a
clear message and an exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

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


class _Escaping:
    r"""A text stream that writes what its encoding cannot hold (a lone surrogate in an id, say) escaped.

    ``\ud800`` is written for a lone surrogate, as Python writes it in a repr (and as JSON reads it back),
    instead of failing with ``UnicodeEncodeError`` half-way through a queue.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:  # a text stream encodes a write whole, before any of it is written
            encoding = getattr(self._stream, "encoding", None) or "utf-8"
            return self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _escaping_output() -> Iterator[None]:
    """Standard output and error as `_Escaping` streams while a command runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(out), _Escaping(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def _valid_argument(arg: str) -> bool:
    """Whether *arg* could come from a command line: no NUL, and encodable as a file name."""
    if "\x00" in arg:
        return False
    try:
        os.fsencode(arg)
    except UnicodeEncodeError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    with _escaping_output():
        for arg in argv or ():
            if not _valid_argument(arg):  # only a caller in Python can pass one: a real command line cannot
                print(f"servicetriage: error: {arg!r}: not valid text (a NUL or a lone surrogate)", file=sys.stderr)
                return 2
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
