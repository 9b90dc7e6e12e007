"""Delegated authority: who may decide what, within which limits, and what follows.

The company grants authority in advance, by tier and by kind of action. A
frontline agent who "hears the gunfire" may then design a deviation from the
written procedure (a refund, a rebooking on another airline, a goodwill gift)
within their grant, at once, without asking anyone; above it, the decision
names the lowest tier that may approve and what the agent must do meanwhile.

- A [`Grant`][servicetriage.authority.Grant] gives a tier an action kind under
  [`Conditions`][servicetriage.authority.Conditions] with
  [`Limits`][servicetriage.authority.Limits]. A higher tier may do whatever a
  lower one may.
- A [`Guardrail`][servicetriage.authority.Guardrail] forbids; it overrides
  every grant. Nothing is allowed unless a grant allows it (default deny), and
  an action that no tier may approve goes to the top tier, never to "allowed".
- [`authorize`][servicetriage.authority.authorize] returns a
  [`Decision`][servicetriage.authority.Decision]: the outcome, the lowest tier
  that may approve, the headroom, the reasons and the obligations with
  absolute deadlines.

A policy is compiled once when it is built (an index by action kind and
category, grants sorted by tier), so a decision costs the same with ten
grants or ten thousand. Everything here is immutable and picklable.

The package reads in the order of the method: the policy as data
(`_policy`), the request and the decision (`_request`), the compilation of a
policy into indexed slices with every reason prepared (`_compile`), the
decision on one slice (`_evaluate`), the public functions (`_public`) and the
static checks (`_check`). The slot-setting constructors of the hot path are
kept together in `_fast`.
"""

from __future__ import annotations

from servicetriage.authority._check import check_authority_policy
from servicetriage.authority._common import TICKET_FACTS
from servicetriage.authority._compile import CompiledPolicy
from servicetriage.authority._policy import (
    AuthorityPolicy,
    Conditions,
    Deadlines,
    Delegation,
    Grant,
    Guardrail,
    Limits,
    ObligationRule,
    Tiers,
)
from servicetriage.authority._public import authorize, compile_policy
from servicetriage.authority._request import Actor, Decision, Outcome, Request, Usage

__all__ = [
    "TICKET_FACTS",
    "Actor",
    "AuthorityPolicy",
    "CompiledPolicy",
    "Conditions",
    "Deadlines",
    "Decision",
    "Delegation",
    "Grant",
    "Guardrail",
    "Limits",
    "ObligationRule",
    "Outcome",
    "Request",
    "Tiers",
    "Usage",
    "authorize",
    "check_authority_policy",
    "compile_policy",
]
