"""Who takes each ticket: `assign`, a pure function of the queue, the agents, the policy and ``now``.

The walk, in queue order (most pressing first):

1. a ticket that is no longer open needs no agent;
2. its needs come from its own fields (language, category, channel) and the
   policy's need table (tier, level, expert areas);
3. among the agents at work who meet every need and have a free slot, it
   goes to the best fit: the lowest sufficient tier, then the lowest
   sufficient level (experts stay free for the hard cases), then the most
   free slots, then the agent id;
4. a ticket of a non-VIP tier may not use the share of capacity reserved
   for the VIP tiers; such tickets wait for a second pass, which lends them
   the reserve only if no VIP ticket is left waiting for an agent.

Each need is matched through an index built once per distinct set of needs
(a heap of the able agents, refreshed lazily as slots fill), so the work
grows with the tickets plus the distinct needs times the agents, not with
tickets times agents.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from servicetriage.assignment._model import (
    Agent,
    Assignment,
    AssignmentPolicy,
    MatchKind,
    Needs,
    TicketAssignment,
)
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import FrozenMap, Quadrant, Reason, Ticket, Triage, require_aware
from servicetriage.triage import rank_key

__all__ = ["assign", "needs_of"]

_OPEN = frozenset({"new", "open", "pending"})


class _Rules:
    """The need table of a policy, evaluated once per distinct triage outcome."""

    def __init__(self, policy: AssignmentPolicy) -> None:
        self.policy = policy
        self.ranks = {name: index for index, name in enumerate(policy.tiers)}
        self.match_language = MatchKind.LANGUAGE in policy.match
        self.match_category = MatchKind.CATEGORY in policy.match
        self.match_channel = MatchKind.CHANNEL in policy.match
        self._cache: dict[tuple[Any, ...], tuple[str, int, frozenset[str], tuple[Reason, ...]]] = {}
        self._needs: dict[tuple[Any, ...], Needs] = {}

    def table(self, triage: Triage) -> tuple[str, int, frozenset[str], tuple[Reason, ...]]:
        key = (triage.quadrant, triage.priority, triage.marks, triage.signals, triage.concepts)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._evaluate(triage)
        return found

    def _evaluate(self, triage: Triage) -> tuple[str, int, frozenset[str], tuple[Reason, ...]]:
        policy = self.policy
        fired = triage.signals | triage.concepts | {concept.partition(".")[0] for concept in triage.concepts}
        tier, level, experts, reasons = policy.tiers[0], 1, set(), []
        for index, rule in enumerate(policy.rules):
            if rule.quadrants and triage.quadrant not in rule.quadrants:
                continue
            if rule.max_priority is not None and triage.priority > rule.max_priority:
                continue
            if rule.marks and not rule.marks & triage.marks:
                continue
            if rule.signals and not rule.signals & fired:
                continue
            wants = []
            if rule.tier is not None:
                wants.append(f"tier {rule.tier}")
                if self.ranks[rule.tier] > self.ranks[tier]:
                    tier = rule.tier
            if rule.level > 1:
                wants.append(f"level {rule.level}")
                level = max(level, rule.level)
            if rule.expert is not None:
                wants.append(f"expert {rule.expert}")
                experts.add(rule.expert)
            if wants:
                reasons.append(
                    Reason(
                        "assign.need",
                        f"needs {', '.join(wants)}: {_describe(rule, triage)}",
                        f"rules[{index}]",
                        {"quadrant": triage.quadrant.name, "priority": str(triage.priority)},
                    )
                )
        return tier, level, frozenset(experts), tuple(reasons)

    def needs(self, ticket: Ticket, triage: Triage) -> tuple[Needs, tuple[Reason, ...]]:
        policy = self.policy
        tier, level, experts, reasons = self.table(triage)
        language = ticket.language.lower() if self.match_language else None
        if language in policy.any_language:
            language = None
        category = ticket.category if self.match_category and ticket.category not in policy.any_category else None
        channel = ticket.channel if self.match_channel else None
        vip = ticket.customer.tier in policy.vip_tiers
        key = (language, category, channel, tier, level, experts, vip)
        needs = self._needs.get(key)
        if needs is None:
            needs = self._needs[key] = Needs(
                language=language,
                category=category,
                channel=channel,
                tier=tier,
                level=level,
                experts=experts,
                vip=vip,
            )
        return needs, reasons


def _describe(rule: Any, triage: Triage) -> str:
    said = []
    if rule.quadrants:
        said.append(f"placed in {triage.quadrant.name}")
    if rule.max_priority is not None:
        said.append(f"priority {triage.priority} (at most {rule.max_priority})")
    if rule.marks:
        said.append("marked " + ", ".join(sorted(m.value for m in rule.marks & triage.marks)))
    if rule.signals:
        said.append("signal " + ", ".join(sorted(rule.signals)))
    return "; ".join(said) or "every ticket"


def needs_of(ticket: Ticket, triage: Triage, policy: AssignmentPolicy) -> Needs:
    """What *ticket*, placed by *triage*, needs from its agent under *policy*.

    The ticket's language is read only to find an agent who speaks it; it
    never changes the order or the priority. No protected customer
    attribute (nationality, gender, age) and no free attribute is read.
    """
    return _Rules(policy).needs(ticket, triage)[0]


# --------------------------------------------------------------------------
# Agents


def _speaks(agent: Agent, language: str) -> int:
    levels = agent.skills.language
    return levels.get(language) or levels.get(language.partition("-")[0]) or 0


def _missing(needs: Needs, agents: Sequence[Agent], ranks: dict[str, int]) -> str:
    """Say which need no agent at work meets, for an unassignable ticket."""
    if not agents:
        return "no agent is at work now"
    need_rank = ranks[needs.tier]
    alone = []
    if needs.language is not None and not any(_speaks(a, needs.language) for a in agents):
        alone.append(f"speaks {needs.language}")
    if needs.category is not None and not any(a.skills.category.get(needs.category, 0) >= needs.level for a in agents):
        alone.append(f"handles {needs.category} at level {needs.level} or above")
    if needs.channel is not None and not any(needs.channel.value in a.skills.channel for a in agents):
        alone.append(f"works the {needs.channel.value} channel")
    alone.extend(
        f"is an expert in {area}" for area in sorted(needs.experts) if not any(area in a.skills.expert for a in agents)
    )
    if not any(ranks[a.tier] >= need_rank for a in agents):
        alone.append(f"has tier {needs.tier} or above")
    if alone:
        return "no agent at work " + "; none ".join(alone)
    return f"no agent at work meets every need at once ({needs})"


class _Desk:
    """The agents at work, their free slots, and one lazy heap of able agents per set of needs."""

    def __init__(self, agents: Sequence[Agent], ranks: dict[str, int]) -> None:
        self.agents = agents
        self.ranks = ranks
        self.free = [agent.free for agent in agents]
        self.pools: dict[Needs, tuple[list[tuple[int, int, int, str, int]], int]] = {}
        self._match: dict[tuple[Needs, int], tuple[Reason, ...]] = {}
        self._tier_ranks = [ranks[agent.tier] for agent in agents]
        self._categories = [dict(agent.skills.category) for agent in agents]
        self._seniority = [agent.skills.seniority for agent in agents]
        self._parts: dict[tuple[Any, ...], Reason] = {}
        # Inverted indexes: which agents have each skill, so a set of needs scans only the candidates.
        self._by: dict[tuple[str, str], set[int]] = {}
        for index, agent in enumerate(agents):
            skills = agent.skills
            for kind, names in (
                ("language", skills.language),
                ("category", skills.category),
                ("channel", skills.channel),
                ("expert", skills.expert),
            ):
                for name in names:
                    self._by.setdefault((kind, name), set()).add(index)

    def _candidates(self, needs: Needs) -> Iterable[int]:
        """The agents who have every named skill (levels and tiers are checked after)."""
        wanted: list[set[int]] = []
        empty: set[int] = set()
        if needs.language is not None:
            primary = needs.language.partition("-")[0]
            speakers = self._by.get(("language", needs.language), empty) | self._by.get(("language", primary), empty)
            wanted.append(speakers)
        if needs.category is not None:
            wanted.append(self._by.get(("category", needs.category), empty))
        if needs.channel is not None:
            wanted.append(self._by.get(("channel", needs.channel.value), empty))
        wanted.extend(self._by.get(("expert", area), empty) for area in needs.experts)
        if not wanted:
            return range(len(self.agents))
        wanted.sort(key=len)
        return sorted(wanted[0].intersection(*wanted[1:]))

    def pool(self, needs: Needs) -> tuple[list[tuple[int, int, int, str, int]], int]:
        """The heap of able agents with a free slot, and how many agents could take the ticket at all."""
        found = self.pools.get(needs)
        if found is None:
            need_rank, level, category = self.ranks[needs.tier], needs.level, needs.category
            tier_ranks, free, agents = self._tier_ranks, self.free, self.agents
            heap, able = [], 0
            # The candidates have every named skill (language, category, channel, expert areas): only the tier
            # and the level are left to check.
            for index in self._candidates(needs):
                tier_rank = tier_ranks[index]
                if tier_rank < need_rank:
                    continue
                if category is not None:
                    fit = self._categories[index][category]
                    if fit < level:
                        continue
                else:
                    fit = self._seniority[index]
                    if level > 1 and fit < level:
                        continue
                able += 1
                if free[index] > 0:
                    heap.append((tier_rank, fit, -free[index], agents[index].id, index))
            heapq.heapify(heap)
            found = self.pools[needs] = (heap, able)
        return found

    def best(self, needs: Needs) -> int | None:
        """The index of the best-fitting able agent with a free slot, or ``None``."""
        heap = self.pool(needs)[0]
        free = self.free
        while heap:
            tier_rank, fit, stale, agent_id, index = heap[0]
            now_free = free[index]
            if now_free == 0:
                heapq.heappop(heap)
            elif -stale != now_free:
                heapq.heapreplace(heap, (tier_rank, fit, -now_free, agent_id, index))
            else:
                return index
        return None

    def take(self, index: int) -> None:
        self.free[index] -= 1

    def _part(self, key: tuple[Any, ...], make: Callable[[], Reason]) -> Reason:
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = make()
        return found

    def match_reasons(self, needs: Needs, index: int) -> tuple[Reason, ...]:
        """Why agent *index* fits *needs*: one reason per need met (each built once per agent and value)."""
        key = (needs, index)
        found = self._match.get(key)
        if found is not None:
            return found
        agent = self.agents[index]
        skills = agent.skills
        part = self._part
        reasons = [
            part(
                ("tier", index, needs.tier),
                lambda: Reason(
                    "assign.tier",
                    f"{agent.id} holds tier {agent.tier}; the ticket needs {needs.tier} or above",
                    evidence={"agent": agent.id, "tier": agent.tier, "needed": needs.tier},
                ),
            )
        ]
        language = needs.language
        if language is not None:
            level = _speaks(agent, language)
            reasons.append(
                part(
                    ("language", index, language),
                    lambda: Reason(
                        "assign.language",
                        f"speaks {language} (level {level}); matched only to talk with the customer",
                        evidence={"language": language, "level": str(level)},
                    ),
                )
            )
        category = needs.category
        if category is not None:
            has = skills.category[category]
            reasons.append(
                part(
                    ("category", index, category, needs.level),
                    lambda: Reason(
                        "assign.category",
                        f"handles {category} at level {has} (needs {needs.level})",
                        evidence={"category": category, "level": str(has), "needed": str(needs.level)},
                    ),
                )
            )
        elif needs.level > 1:
            reasons.append(
                part(
                    ("level", index, needs.level),
                    lambda: Reason(
                        "assign.level",
                        f"experience level {skills.seniority} (needs {needs.level})",
                        evidence={"level": str(skills.seniority), "needed": str(needs.level)},
                    ),
                )
            )
        channel = needs.channel
        if channel is not None:
            reasons.append(
                part(
                    ("channel", channel),
                    lambda: Reason(
                        "assign.channel", f"works the {channel.value} channel", evidence={"channel": channel.value}
                    ),
                )
            )
        reasons.extend(
            part(("expert", index, area), _expert_reason(area, skills.expert[area])) for area in sorted(needs.experts)
        )
        reasons.append(_FIT)
        found = self._match[key] = tuple(reasons)
        return found


def _expert_reason(area: str, level: int) -> Callable[[], Reason]:
    return lambda: Reason(
        "assign.expert", f"expert in {area} (level {level})", evidence={"expert": area, "level": str(level)}
    )


_FIT = Reason(
    "assign.fit",
    "best fit among the able agents with a free slot: lowest sufficient tier and level, then most free slots, then id",
)


# --------------------------------------------------------------------------
# assign


def _order_reason(cache: dict[tuple[Quadrant, int], Reason], triage: Triage) -> Reason:
    key = (triage.quadrant, triage.priority)
    found = cache.get(key)
    if found is None:
        found = cache[key] = Reason(
            "assign.order",
            f"{triage.quadrant.name} priority {triage.priority}: taken in queue order, most pressing first",
            evidence={"quadrant": triage.quadrant.name, "priority": str(triage.priority)},
        )
    return found


def _check_agents(agents: Iterable[Agent], policy: AssignmentPolicy) -> list[Agent]:
    result: list[Agent] = []
    seen: set[str] = set()
    for agent in agents:
        if agent.id in seen:
            msg = f"agents[{agent.id}].id: expected a unique agent id, got {agent.id!r} again"
            raise PolicyError(msg)
        if agent.tier not in policy.tiers:
            msg = f"agents[{agent.id}].tier: expected one of {', '.join(policy.tiers)}, got {agent.tier!r}"
            raise PolicyError(msg)
        seen.add(agent.id)
        result.append(agent)
    result.sort(key=lambda agent: agent.id)
    return result


def _sorted_queue(queue: Iterable[tuple[Ticket, Triage]]) -> list[tuple[Ticket, Triage]]:
    pairs: list[Any] = list(queue)
    seen: set[str] = set()
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], Triage)):
            msg = f"queue[{index}]: expected a (Ticket, Triage) pair as rank returns, got {pair!r}"
            raise TicketError(msg)
        ticket = pair[0]
        if ticket.id in seen:
            msg = f"queue[{index}].id: expected a unique ticket id, got {ticket.id!r} again"
            raise TicketError(msg)
        seen.add(ticket.id)
    keys = [rank_key(ticket, triage) for ticket, triage in pairs]
    return [pairs[i] for i in sorted(range(len(pairs)), key=keys.__getitem__)]


def assign(
    queue: Iterable[tuple[Ticket, Triage]],
    agents: Iterable[Agent],
    policy: AssignmentPolicy,
    now: datetime,
) -> Assignment:
    """Propose who takes each ticket of *queue* (the output of `rank`).

    Pure: the result depends only on the arguments, not on the order of the
    agents or of the queue (it is put in `rank` order again). Every ticket
    of the queue appears once in the result, in queue order, with its agent
    and the reasons, or with the reason it has none. No agent is given more
    than their free slots; a non-VIP ticket uses the share reserved for the
    VIP tiers only when no VIP ticket is left waiting.

    :raises PolicyError: an agent with a tier the policy does not know, or
        two agents with one id.
    :raises TicketError: two tickets with one id, or a naive *now*.
    """
    require_aware("now", now)
    roster = _check_agents(agents, policy)
    pairs = _sorted_queue(queue)
    rules = _Rules(policy)
    at_work = [a for a in roster if a.available and (a.hours is None or a.hours.is_open(now))]
    desk = _Desk(at_work, rules.ranks)
    capacity = sum(agent.capacity for agent in at_work)
    reserved = policy.reserved(capacity)
    limit = capacity - reserved
    others = sum(agent.load - agent.vip_load for agent in at_work)
    order_cache: dict[tuple[Quadrant, int], Reason] = {}
    vip_reason = Reason(
        "assign.vip",
        f"VIP tier: may use every free slot, including the {reserved} reserved for VIP tiers",
        evidence={"reserved": str(reserved)},
    )
    results: list[TicketAssignment | None] = []
    deferred: list[tuple[int, Ticket, Triage, Needs, tuple[Reason, ...]]] = []
    vip_waiting: list[str] = []
    chosen: list[tuple[int, int]] = []  # (position index, agent index)

    def unassigned(position: int, triage: Triage, needs: Needs, reasons: tuple[Reason, ...]) -> TicketAssignment:
        return TicketAssignment(
            ticket_id=triage.ticket_id,
            position=position + 1,
            quadrant=triage.quadrant,
            priority=triage.priority,
            agent=None,
            needs=needs,
            reasons=reasons,
        )

    def placed(
        position: int, triage: Triage, needs: Needs, head: tuple[Reason, ...], index: int, *, borrowed: bool
    ) -> TicketAssignment:
        chosen.append((position, index))
        desk.take(index)
        return TicketAssignment(
            ticket_id=triage.ticket_id,
            position=position + 1,
            quadrant=triage.quadrant,
            priority=triage.priority,
            agent=desk.agents[index].id,
            needs=needs,
            reasons=head + desk.match_reasons(needs, index),
            borrowed=borrowed,
        )

    why_not: dict[Needs, Reason] = {}

    def no_agent(needs: Needs) -> Reason:
        found = why_not.get(needs)
        if found is not None:
            return found
        able = desk.pool(needs)[1]
        if able == 0:
            found = Reason("unassigned.no_agent", _missing(needs, at_work, rules.ranks), evidence={"needs": str(needs)})
        else:
            found = Reason(
                "unassigned.capacity",
                f"every agent who could take it ({able}) is at capacity",
                evidence={"able": str(able), "needs": str(needs)},
            )
        why_not[needs] = found
        return found

    for position, (ticket, triage) in enumerate(pairs):
        needs, need_reasons = rules.needs(ticket, triage)
        head = (_order_reason(order_cache, triage), *need_reasons)
        if ticket.status.value not in _OPEN:
            reason = Reason("unassigned.not_open", f"the ticket is {ticket.status.value}: nobody needs to take it")
            results.append(unassigned(position, triage, needs, (reason,)))
            continue
        index = desk.best(needs)
        if index is None:
            reason = no_agent(needs)
            if needs.vip and reason.code == "unassigned.capacity":
                vip_waiting.append(ticket.id)
            results.append(unassigned(position, triage, needs, (*head, reason)))
        elif needs.vip:
            results.append(placed(position, triage, needs, (*head, vip_reason), index, borrowed=False))
        elif others >= limit:
            deferred.append((position, ticket, triage, needs, head))
            results.append(None)
        else:
            others += 1
            results.append(placed(position, triage, needs, head, index, borrowed=False))

    if deferred:
        waiting = ", ".join(vip_waiting[:3]) + (" ..." if len(vip_waiting) > 3 else "")
        held = Reason(
            "unassigned.reserved",
            f"the free slots are reserved for VIP tiers ({reserved} of {capacity}) while VIP tickets wait: {waiting}",
            evidence={"reserved": str(reserved), "capacity": str(capacity), "vip_waiting": str(len(vip_waiting))},
        )
        lent = Reason(
            "assign.borrowed",
            f"uses capacity reserved for VIP tiers ({reserved} of {capacity}): no VIP ticket waits",
            evidence={"reserved": str(reserved), "capacity": str(capacity)},
        )
        for position, _ticket, triage, needs, head in deferred:
            index = None if vip_waiting else desk.best(needs)
            if index is not None:
                results[position] = placed(position, triage, needs, (*head, lent), index, borrowed=True)
            else:
                why = held if vip_waiting else no_agent(needs)
                results[position] = unassigned(position, triage, needs, (*head, why))

    loads = {agent.id: agent.load for agent in roster}
    for _position, index in chosen:
        loads[desk.agents[index].id] += 1
    tickets = tuple(item for item in results if item is not None)
    return Assignment(
        tickets=tickets,
        loads=FrozenMap(loads),
        capacity=capacity,
        reserved=reserved,
        vip_waiting=tuple(vip_waiting),
    )
