"""What a detector returns, and what any detector must offer.

A *detector* reads a ticket and says which signal concepts it found, with
evidence and a confidence. The lexicon detector (`servicetriage.signals.lexicon`)
is the default; a CRM adds its own (a model, a vendor service) by passing
any object that satisfies `Detector` in ``TriagePolicy(detectors=...)``.
Triage consumes `Detection` values and never knows which detector found
them. A detector that raises fails closed: the ticket is marked for human
review with a reason, and it is never silently left in Q4.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from servicetriage.errors import PolicyError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from servicetriage.model import Ticket

__all__ = ["FIELDS", "Detection", "Detector"]

#: The ticket fields a detection can point at.
FIELDS: tuple[str, ...] = ("subject", "text", "category")


def _check_field(_instance: Detection, _attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in FIELDS:
        msg = f"detection.field: expected one of {', '.join(FIELDS)}, got {value!r}"
        raise PolicyError(msg)


def _check_confidence(_instance: Detection, _attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
        msg = f"detection.confidence: expected a number from 0 to 1, got {value!r}"
        raise PolicyError(msg)


def _check_text(_instance: Detection, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"detection.{attribute.name}: expected a non-empty string, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Detection:
    """One signal concept found in a ticket, with its evidence.

    ``concept`` is a concept id (``safety.medical``, ``regulator.aviation``...;
    see `servicetriage.signals.lexicon.concepts`), ``language`` the
    language of the term that matched (``"any"`` when a detector does not
    say), ``term`` the term or label that matched, ``field`` the ticket field
    and ``start``/``end`` the span in that field's normalised text (see
    `servicetriage.signals.normalize`), ``confidence`` from 0 to 1 and
    ``detector`` the name of the detector that found it.
    """

    concept: str = attrs.field(validator=_check_text)
    term: str = attrs.field(validator=_check_text)
    field: str = attrs.field(default="text", validator=_check_field)
    language: str = attrs.field(default="any", validator=_check_text)
    start: int = 0
    end: int = 0
    confidence: float = attrs.field(default=1.0, validator=_check_confidence)
    detector: str = attrs.field(default="lexicon", validator=_check_text)


@runtime_checkable
class Detector(Protocol):
    """Anything that finds signal concepts in a ticket.

    ``name`` appears in every reason the detector's findings give. ``detect``
    returns the concepts found (an empty iterable when none); it must not
    change the ticket. It may raise (a timeout, a service that is down): the
    triage then fails closed, marking the ticket for human review.
    """

    @property
    def name(self) -> str:
        """A short name for reasons and audits (``"lexicon"``, ``"acme-model-v3"``)."""
        ...  # pragma: no cover

    def detect(self, ticket: Ticket) -> Iterable[Detection]:
        """Return the signal concepts found in *ticket*."""
        ...  # pragma: no cover
