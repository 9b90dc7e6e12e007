"""What every adapter shares: priority tables, times, HTML bodies, field access and errors.

Every function here is pure. A value an adapter cannot place (an unknown
priority, a time without a zone, a missing id) raises `TicketError` naming
the system, the field path and the value: an adapter fails closed, it never
guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from html.parser import HTMLParser
from typing import Any, TypeVar

import attrs

from servicetriage.errors import TicketError
from servicetriage.model import AttributeValue, Customer, DeclaredUrgency, Triage

V = TypeVar("V")

__all__ = [
    "UNKNOWN_REQUESTER",
    "PriorityTable",
    "customer",
    "declared_for",
    "epoch_millis",
    "fail",
    "html_to_text",
    "join_text",
    "lookup",
    "mapping",
    "optional_str",
    "parse_time",
    "pick",
    "reasons_text",
    "required_id",
    "string_list",
    "triage_tags",
]

#: The customer id of a ticket whose payload names no requester; the
#: ticket's ``requester_missing`` attribute is then ``True``.
UNKNOWN_REQUESTER = "unknown-requester"

#: Our priority (1 most pressing, on the default five-level matrix) to the
#: urgency a customer would have declared for it.
_DECLARED = {1: DeclaredUrgency.CRITICAL, 2: DeclaredUrgency.HIGH, 3: DeclaredUrgency.NORMAL}


def fail(system: str, field: str, message: str) -> TicketError:
    """Return the error for *field* of a *system* payload: ``zendesk: ticket.priority: ...``."""
    return TicketError(f"{system}: {field}: {message}")


def declared_for(priority: int) -> DeclaredUrgency:
    """The declared urgency that stands for our *priority* (1 critical, 2 high, 3 normal, 4 and below low)."""
    return _DECLARED.get(priority, DeclaredUrgency.LOW)


@attrs.frozen
class PriorityTable:
    """One system's priority scale, mapped explicitly both ways to ours (1 is the most pressing).

    ``inbound`` maps each value the system can send to our priority;
    ``outbound`` maps each of our priorities (1 to 5, the default matrix) to
    the value written back. ``fold`` normalises a value before lookup
    (``str.casefold`` for systems whose webhooks change the case). A value
    outside the table raises `TicketError`: an unknown priority is never
    guessed.
    """

    system: str
    field: str
    inbound: Mapping[Hashable, int]
    outbound: Mapping[int, Hashable]
    fold: Callable[[Any], Hashable] | None = None

    def ours(self, value: object, field: str | None = None) -> int:
        """Our priority for the system's *value*; `TicketError` naming the field if unknown."""
        key = value
        if self.fold is not None and isinstance(value, str):
            key = self.fold(value)
        try:
            return self.inbound[key]
        except (KeyError, TypeError):
            choices = ", ".join(repr(v) for v in self.inbound)
            raise fail(self.system, field or self.field, f"expected one of {choices}, got {value!r}") from None

    def theirs(self, priority: int) -> Any:
        """The system's value for our *priority*; `TicketError` if the table has none."""
        try:
            return self.outbound[priority]
        except KeyError:
            top = max(self.outbound)
            msg = f"expected a priority from 1 to {top} to write to {self.field}, got {priority!r}"
            raise fail(self.system, "triage.priority", msg) from None


def lookup(system: str, table: Mapping[Any, V], value: object, field: str) -> V:
    """The entry of *table* for *value* (strings compared case-blind); raise naming *field* and the choices."""
    key = value.casefold() if isinstance(value, str) else value
    try:
        return table[key]
    except (KeyError, TypeError):
        choices = ", ".join(repr(k) for k in table)
        raise fail(system, field, f"expected one of {choices}, got {_short(value)}") from None


def mapping(system: str, value: object, field: str) -> Mapping[str, Any]:
    """Return *value* if it is a JSON object, else raise naming *field*."""
    if not isinstance(value, Mapping):
        raise fail(system, field, f"expected an object, got {_short(value)}")
    return value


def pick(payload: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of *keys* present (and not ``None``) in *payload*, else ``None``."""
    for key in keys:
        value = payload.get(key)
        if value is not None:
            return value
    return None


def required_id(system: str, value: object, field: str) -> str:
    """An id as text: a whole number or a non-blank string; raise naming *field* otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise fail(system, field, f"expected an id (a whole number or a non-empty string), got {_short(value)}")


def optional_str(system: str, value: object, field: str) -> str:
    """A text field: ``""`` for ``None``, the string itself, or raise naming *field*."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise fail(system, field, f"expected a string, got {_short(value)}")


def customer(requester: str | None) -> tuple[Customer, dict[str, AttributeValue]]:
    """The ticket's customer and, when the payload names no requester, the attribute that says so."""
    if requester is None or not requester.strip():
        return Customer(id=UNKNOWN_REQUESTER), {"requester_missing": True}
    return Customer(id=requester.strip()), {}


def parse_time(system: str, value: object, field: str, zone: tzinfo | None = None) -> datetime:
    """Parse an ISO 8601 time (``Z``, ``+01:00`` and ``+0100`` offsets; a space for the ``T``), or take a datetime.

    A time without an offset takes *zone* (the system's documented zone,
    such as UTC for ServiceNow's Table API, or the site's zone the caller
    passes); without *zone* it is refused, naming *field*.
    """
    if isinstance(value, datetime):  # a document handed over in-process (a Frappe or Odoo hook)
        parsed = value
    elif not isinstance(value, str) or not value.strip():
        raise fail(system, field, f"expected an ISO 8601 time, got {_short(value)}")
    else:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise fail(system, field, f"expected an ISO 8601 time, got {value!r}") from None
    if parsed.tzinfo is None:
        if zone is None:
            msg = f"expected a time with a UTC offset, got {value!r}; give the system's time zone (zone=, or --zone)"
            raise fail(system, field, msg)
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def epoch_millis(system: str, value: object, field: str) -> datetime:
    """A time given as milliseconds since 1970 (UTC)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(system, field, f"expected milliseconds since 1970, got {_short(value)}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def triage_tags(triage: Triage, prefix: str = "triage") -> list[str]:
    """The tags that record a triage: quadrant, priority and marks (``triage_q1``, ``triage_p1``...)."""
    tags = [f"{prefix}_{triage.quadrant.name.lower()}", f"{prefix}_p{triage.priority}"]
    tags.extend(f"{prefix}_{mark.value}" for mark in sorted(triage.marks, key=lambda m: m.value))
    return tags


def reasons_text(triage: Triage) -> str:
    """The triage's explanation, one reason a line (for a note or a long-text field)."""
    return triage.explain()


def string_list(system: str, value: object, field: str) -> tuple[str, ...]:
    """A list of strings (tags, labels); ``()`` for ``None``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in re.split(r"[,\s]+", value) if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise fail(system, field, f"expected a list of strings, got {_short(value)}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------
# HTML bodies

_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}
)
_DROP = frozenset({"script", "style", "head", "title", "template", "noscript"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag in _DROP:
            self.dropping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    r"""The plain text of an HTML body: tags removed, scripts and styles dropped, entities decoded.

    Block elements become line breaks; runs of blanks collapse. The result
    holds no markup (a ``<`` in it was an escaped one in the source), so it
    is safe to show and to scan.

    >>> html_to_text("<p>Card <b>stolen</b> &amp; blocked</p><script>x()</script><p>Help</p>")
    'Card stolen & blocked\nHelp'
    """
    if "<" not in text and "&" not in text:
        return text.strip()
    parser = _Text()
    parser.feed(text)
    parser.close()
    joined = "".join(parser.parts)  # character references are already decoded, once
    lines = (" ".join(line.split()) for line in joined.split("\n"))
    return "\n".join(line for line in lines if line)


def join_text(parts: Iterable[str]) -> str:
    """Join non-empty text parts with a blank line."""
    return "\n\n".join(p for p in parts if p)
