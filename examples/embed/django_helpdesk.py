# ruff: noqa: INP001
"""django-helpdesk: triage a ticket when it is created or changed, from a signal receiver.

Put this module in one of your Django apps (``crm/triage.py``) and import it
from that app's ``AppConfig.ready()`` so that the receiver is connected.

django-helpdesk counts its priority from 1 (Critical) to 5 (Very Low), as
our default matrix does, so the mapping is one to one. The receiver writes
the priority with ``QuerySet.update``, which sends no signal (no
recursion), and files the reasons as a private follow-up.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from helpdesk.models import FollowUp, Ticket

from servicetriage import Customer, classify
from servicetriage import Ticket as Need
from servicetriage.adapters import UNKNOWN_REQUESTER, html_to_text
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

#: django-helpdesk's Ticket.STATUS_CHOICES to ours: 1 Open, 2 Reopened, 3 Resolved, 4 Closed, 5 Duplicate.
STATUSES = {1: "open", 2: "open", 3: "resolved", 4: "closed", 5: "closed"}
#: Its priority (1 Critical .. 5 Very Low) to the urgency the submitter declared.
DECLARED = {1: "critical", 2: "high", 3: "normal", 4: "low", 5: "low"}


@functools.cache
def policy() -> TriagePolicy:
    """The policy, compiled once per process (load yours from a file here)."""
    return DEFAULT_POLICY


def to_need(ticket: Any) -> Need:
    """Our ticket for a django-helpdesk ``Ticket`` (``created`` is aware with ``USE_TZ = True``)."""
    return Need(
        id=str(ticket.pk),
        opened_at=ticket.created,
        due=ticket.due_date,
        customer=Customer(id=ticket.submitter_email or UNKNOWN_REQUESTER),
        category=ticket.queue.slug,
        subject=ticket.title,
        text=html_to_text(ticket.description or ""),
        declared_urgency=DECLARED[ticket.priority],
        status=STATUSES[ticket.status],
    )


@receiver(post_save, sender=Ticket, dispatch_uid="servicetriage-triage")
def triage_ticket(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:  # noqa: ARG001
    """Place the saved ticket; write its priority back and file the reasons."""
    if kwargs.get("raw"):  # loading fixtures: leave the data as it is
        return
    result = classify(to_need(instance), policy(), datetime.now(UTC))
    priority = min(result.priority, 5)
    if priority != instance.priority:
        Ticket.objects.filter(pk=instance.pk).update(priority=priority)
        instance.priority = priority
    FollowUp.objects.create(ticket=instance, title="Triage", comment=result.explain(), public=False)
