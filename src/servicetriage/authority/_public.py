"""The public functions: compile_policy and authorize."""

from __future__ import annotations

from datetime import datetime

from servicetriage.authority._compile import CompiledPolicy
from servicetriage.authority._policy import AuthorityPolicy
from servicetriage.authority._request import Decision, Request


def compile_policy(policy: AuthorityPolicy) -> CompiledPolicy:
    """Return the compiled form of *policy* (built once, when the policy was built)."""
    return policy.compiled


def authorize(request: Request, policy: AuthorityPolicy | CompiledPolicy, now: datetime) -> Decision:
    """Decide whether *request* may go ahead under *policy* at *now*.

    The outcome, in order of precedence:

    1. ``FORBIDDEN`` when a guardrail matches (or the approver is the
       requester, under separation of duties);
    2. ``NEEDS_INFO`` when a guardrail cannot be judged without a missing
       fact (it fails closed), or a department instruction names no
       department;
    3. ``ALLOWED`` when a grant at the actor's tier or below (or the
       approver's) is satisfied;
    4. ``NEEDS_INFO`` when a grant at a lower tier than any satisfied one
       cannot be judged without a missing fact (the amount, the triage);
    5. ``NEEDS_APPROVAL`` naming the lowest tier with a satisfied grant, or
       the top tier when no grant covers the request: never ``ALLOWED``.

    Every outcome other than ``ALLOWED`` obliges the actor to call the
    customer back; ``NEEDS_APPROVAL`` also obliges them to ask the approving
    tier. Raises `TicketError` when the actor's
    tier is unknown or *now* is naive.
    """
    if type(policy) is AuthorityPolicy:
        # The hot path: straight to the evaluator, one call fewer than CompiledPolicy.decide.
        return policy._compiled._engine.decide(request, now)  # noqa: SLF001
    compiled = policy.compiled if isinstance(policy, AuthorityPolicy) else policy
    return compiled.decide(request, now)


# --------------------------------------------------------------------------
