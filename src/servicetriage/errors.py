"""The exceptions that ``servicetriage`` raises.

Every exception derives from `ServiceTriageError`. Those a caller can act
on also derive from the builtin that fits, so ``except ValueError`` keeps
working. Outcomes such as "not allowed" are values (a ``Decision``), never
exceptions: an exception always means the *input* was wrong.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "PolicyError",
    "ServiceTriageError",
    "StoreError",
    "TicketError",
    "TransitionError",
]


class ServiceTriageError(Exception):
    """The base class of every error this library raises."""


class PolicyError(ServiceTriageError, ValueError):
    """A policy, playbook or calendar is invalid.

    The message names the path of the bad field and its value, for example
    ``urgency.thresholds[2].within: expected a duration > 0, got '-1h'``.
    When a file has several problems, `problems` lists all of them.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class TicketError(ServiceTriageError, ValueError):
    """A ticket (or another input record) is invalid, or a clock argument is naive.

    The message names the field (or the argument, ``now`` or ``at``) and the
    value. Every public function that takes ``now`` or ``at`` raises this
    error for a naive one.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class TransitionError(ServiceTriageError, ValueError):
    """A state machine was asked for a transition it does not allow.

    The message names the current state and the event (or, for clocks, the
    two times involved).
    """


class ConflictError(ServiceTriageError, ValueError):
    """Two changes were made on the same base version; neither is applied."""


class StoreError(ServiceTriageError, OSError):
    """The embedded store cannot be opened, migrated or written."""
