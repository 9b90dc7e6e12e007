"""Decide what to handle first, who may approve what, when to escalate, and learn.

Each incident improves the playbook.

The names here are the everyday API. Functions whose names only make sense
with their module (``escalation.start``, ``escalation.advance``,
``review.advance``, ``versions.apply``) are used through the module:

    from servicetriage import escalation
    state = escalation.start(ticket, triage, policy, now, owner="agent-7")

Loading and dumping files lives in `servicetriage.config`, the SQLite
history in `servicetriage.store`, the Hypothesis strategies in
`servicetriage.strategies`; none of them is imported here, so the core
stays free of I/O.
"""

from servicetriage.assignment import (
    Agent,
    Assignment,
    AssignmentPolicy,
    NeedRule,
    Needs,
    Skills,
    TicketAssignment,
    assign,
    needs_of,
)
from servicetriage.authority import (
    Actor,
    AuthorityPolicy,
    Decision,
    Grant,
    Guardrail,
    Outcome,
    Request,
    authorize,
    check_authority_policy,
    compile_policy,
)
from servicetriage.calendar import ALWAYS_OPEN, BusinessCalendar
from servicetriage.errors import (
    ConflictError,
    PolicyError,
    ServiceTriageError,
    StoreError,
    TicketError,
    TransitionError,
)
from servicetriage.escalation import (
    Case,
    EscalationPolicy,
    EscalationState,
    WorkOrder,
    check_escalation_policy,
    open_work_order,
)
from servicetriage.learning import LearningConfig, Proposal, penalize, propose, stale
from servicetriage.matrix import PriorityMatrix
from servicetriage.model import (
    ActionKind,
    Channel,
    Customer,
    CustomerTier,
    DeclaredUrgency,
    Finding,
    Flag,
    Level,
    Mark,
    Money,
    Obligation,
    ObligationKind,
    Pause,
    Quadrant,
    Reason,
    Severity,
    Ticket,
    TicketStatus,
    Triage,
)
from servicetriage.playbooks import Playbook, PlaybookSet, check_playbooks, start_playbook
from servicetriage.playbooks import match as match_playbooks
from servicetriage.review import IncidentReport, Review, validate_report
from servicetriage.triage import (
    TriagePolicy,
    check_triage_policy,
    classify,
    classify_many,
    rank,
    rank_key,
)
from servicetriage.versions import Amendment, History, Version, verify_chain

__all__ = [
    "ALWAYS_OPEN",
    "ActionKind",
    "Actor",
    "Agent",
    "Amendment",
    "Assignment",
    "AssignmentPolicy",
    "AuthorityPolicy",
    "BusinessCalendar",
    "Case",
    "Channel",
    "ConflictError",
    "Customer",
    "CustomerTier",
    "Decision",
    "DeclaredUrgency",
    "EscalationPolicy",
    "EscalationState",
    "Finding",
    "Flag",
    "Grant",
    "Guardrail",
    "History",
    "IncidentReport",
    "LearningConfig",
    "Level",
    "Mark",
    "Money",
    "NeedRule",
    "Needs",
    "Obligation",
    "ObligationKind",
    "Outcome",
    "Pause",
    "Playbook",
    "PlaybookSet",
    "PolicyError",
    "PriorityMatrix",
    "Proposal",
    "Quadrant",
    "Reason",
    "Request",
    "Review",
    "ServiceTriageError",
    "Severity",
    "Skills",
    "StoreError",
    "Ticket",
    "TicketAssignment",
    "TicketError",
    "TicketStatus",
    "TransitionError",
    "Triage",
    "TriagePolicy",
    "Version",
    "WorkOrder",
    "assign",
    "authorize",
    "check_authority_policy",
    "check_escalation_policy",
    "check_playbooks",
    "check_triage_policy",
    "classify",
    "classify_many",
    "compile_policy",
    "match_playbooks",
    "needs_of",
    "open_work_order",
    "penalize",
    "propose",
    "rank",
    "rank_key",
    "stale",
    "start_playbook",
    "validate_report",
    "verify_chain",
]
