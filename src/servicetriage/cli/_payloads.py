"""``servicetriage triage --from SYSTEM``: read a file of helpdesk payloads through an adapter.

A payload file is JSON Lines (one payload a line) or one JSON array of
payloads. Each payload goes through the system's ``to_ticket``; a payload
the adapter refuses is reported with its number (the line in JSON Lines,
the position from 1 in an array) and the adapter's message, as a bad row of
a ticket file is.
"""

from __future__ import annotations

import codecs
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicetriage.adapters import SYSTEMS, reader
from servicetriage.errors import TicketError
from servicetriage.model import Ticket

__all__ = ["SYSTEMS", "PayloadBuilder", "is_array", "parse_zone", "read_array"]


def parse_zone(text: str) -> str:
    """Check ``--zone``: an IANA time zone name such as ``Asia/Kolkata``."""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"--zone: expected an IANA time zone name such as Asia/Kolkata, got {text!r}"
        raise TicketError(msg) from None
    return text


class PayloadBuilder:
    """Turn one raw payload (a JSON line, or an element of a JSON array) into a ticket or an error."""

    def __init__(self, system: str, zone: str | None) -> None:
        options: dict[str, Any] = {}
        if zone is not None:
            from servicetriage.adapters import adapter  # noqa: PLC0415

            if "zone" not in inspect.signature(adapter(system).to_ticket).parameters:
                msg = f"--zone: the {system} adapter reads times with their offsets; it takes no zone"
                raise TicketError(msg)
            options["zone"] = ZoneInfo(zone)
        self.read: Callable[[object], Ticket] = reader(system, **options)

    def __call__(self, raw: object) -> Ticket | TicketError:
        if isinstance(raw, TicketError):
            return raw
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                return TicketError(f"not valid JSON: {exc}")
        try:
            return self.read(raw)
        except TicketError as exc:
            return exc


def is_array(source: str) -> bool:
    """Whether the payload file *source* is one JSON array (its first non-blank character is ``[``)."""
    if source == "-":
        return False
    try:
        with Path(source).open("rb") as stream:
            head = stream.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    except OSError:
        return False  # the reader reports the error
    return head.startswith(b"[")


def read_array(source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(position from 1, payload)`` of a JSON array file."""
    try:
        text = Path(source).read_text(encoding="utf-8-sig") if source != "-" else sys.stdin.read()
    except OSError as exc:
        msg = f"{source}: cannot read: {exc.strerror or exc}"
        raise TicketError(msg) from None
    try:
        items = json.loads(text)
    except ValueError as exc:
        msg = f"{source}: not valid JSON: {exc}"
        raise TicketError(msg) from None
    if not isinstance(items, list):
        msg = f"{source}: expected a JSON array of payloads or JSON Lines, got a {type(items).__name__}"
        raise TicketError(msg)
    yield from enumerate(items, start=1)
