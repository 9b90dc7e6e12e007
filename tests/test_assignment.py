"""Assignment by example: the VIP share, experts on hard cases, tiers, shifts, and errors that name the path."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from servicetriage.assignment import (
    Agent,
    AssignmentPolicy,
    NeedRule,
    Skills,
    agents_from_data,
    assign,
    needs_of,
)
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Channel, Customer, CustomerTier, Level, Mark, Quadrant, Ticket, TicketStatus, Triage

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LEVEL = Level(0, "low")


def pair(
    ident: str,
    *,
    quadrant: Quadrant = Quadrant.Q4,
    priority: int = 4,
    vip: bool = False,
    language: str = "en",
    category: str = "general",
    marks: frozenset[Mark] = frozenset(),
    signals: frozenset[str] = frozenset(),
    minutes: int = 0,
    status: TicketStatus = TicketStatus.OPEN,
    nationality: str | None = None,
) -> tuple[Ticket, Triage]:
    """A ticket and a triage placing it, without running triage (so each test says exactly what it needs)."""
    tier = CustomerTier.VIP_BUSINESS if vip else CustomerTier.STANDARD
    ticket = Ticket(
        id=ident,
        opened_at=NOW - timedelta(hours=1) + timedelta(minutes=minutes),
        customer=Customer(id=f"C-{ident}", tier=tier, nationality=nationality),
        language=language,
        category=category,
        channel=Channel.CHAT,
        status=status,
    )
    triage = Triage(
        ticket_id=ident,
        quadrant=quadrant,
        priority=priority,
        urgency=LEVEL,
        importance=LEVEL,
        due=None,
        reasons=(),
        marks=marks,
        signals=signals,
    )
    return ticket, triage


def agent(ident: str, capacity: int, *, tier: str = "agent", languages: str = "en", **skills: dict[str, int]) -> Agent:
    return Agent(
        id=ident,
        tier=tier,
        capacity=capacity,
        skills=Skills.of({"language": dict.fromkeys(languages.split(), 3), "channel": {"chat": 2}, **skills}),
    )


def test_the_reserve_is_held_while_a_vip_ticket_waits() -> None:
    """With a VIP ticket left waiting, non-VIP work stops at the capacity outside the 20% share."""
    desk = [agent("A", 1, languages="ja en"), agent("B", 5)]  # capacity 6, reserved 2
    queue = [pair("V1", vip=True, language="ja"), pair("V2", vip=True, language="ja", minutes=1)]
    queue += [pair(f"N{i}", minutes=10 + i) for i in range(5)]
    result = assign(queue, desk, AssignmentPolicy(), NOW)
    assert (result.capacity, result.reserved) == (6, 2)
    assert result.of("V1").agent == "A"
    assert result.vip_waiting == ("V2",)
    assert [result.of(f"N{i}").agent for i in range(5)] == ["B", "B", "B", "B", None]
    assert result.of("N4").reasons[-1].code == "unassigned.reserved"
    assert "V2" in result.of("N4").reasons[-1].message


def test_the_reserve_is_lent_when_no_vip_ticket_waits() -> None:
    """Without VIP work waiting, other work borrows the reserve, and says so."""
    desk = [agent("A", 1, languages="ja en"), agent("B", 5)]  # capacity 6, reserved 2
    queue = [pair("V1", vip=True, language="ja")] + [pair(f"N{i}", minutes=10 + i) for i in range(5)]
    result = assign(queue, desk, AssignmentPolicy(), NOW)
    assert result.vip_waiting == ()
    assert [result.of(f"N{i}").agent for i in range(5)] == ["B"] * 5
    assert [result.of(f"N{i}").borrowed for i in range(5)] == [False] * 4 + [True]
    assert "assign.borrowed" in [r.code for r in result.of("N4").reasons]
    assert "assign.borrowed" not in [r.code for r in result.of("N3").reasons]
    assert result.loads == {"A": 1, "B": 5}


def test_a_share_of_zero_reserves_nothing_and_one_reserves_everything() -> None:
    """vip_share 0 lets everyone use every slot; 1 keeps every slot for VIP tiers while one waits."""
    desk = [agent("B", 3)]
    queue = [pair(f"N{i}", minutes=i) for i in range(3)] + [pair("V", vip=True, language="ja")]
    assert len(assign(queue, desk, AssignmentPolicy(vip_share=0), NOW).assigned) == 3
    # The VIP ticket speaks a language nobody speaks: it waits for no slot, so the reserve is lent.
    assert len(assign(queue, desk, AssignmentPolicy(vip_share=1), NOW).assigned) == 3
    waiting = [pair(f"N{i}", minutes=i) for i in range(3)] + [pair(f"V{i}", vip=True, minutes=i) for i in range(4)]
    result = assign(waiting, desk, AssignmentPolicy(vip_share=1), NOW)
    assert [t.ticket_id for t in result.assigned] == ["V0", "V1", "V2"]


def test_the_expert_takes_the_hard_case_and_the_generalist_the_easy_one() -> None:
    """A safety signal needs the safety expert; plain work goes to the closest fit, keeping the expert free."""
    policy = AssignmentPolicy(rules=(NeedRule(signals=frozenset({"safety"}), expert="safety", level=3),))
    desk = [agent("expert", 2, expert={"safety": 4}, category={"ride": 4}), agent("junior", 2, category={"ride": 1})]
    queue = [
        pair("easy", category="ride", priority=4),
        pair("sos", category="ride", quadrant=Quadrant.Q1, priority=1, signals=frozenset({"safety"})),
    ]
    result = assign(queue, desk, policy, NOW)
    assert result.of("sos").agent == "expert"
    assert result.of("easy").agent == "junior"
    codes = [r.code for r in result.of("sos").reasons]
    assert codes[:2] == ["assign.order", "assign.need"]
    assert "assign.expert" in codes


def test_the_needed_tier_comes_from_the_table() -> None:
    """A ticket marked direct_to_top needs a manager; without one it stays unassigned and says which tier."""
    policy = AssignmentPolicy()  # the default table: direct_to_top needs a manager
    top = pair("top", quadrant=Quadrant.Q1, priority=1, marks=frozenset({Mark.DIRECT_TO_TOP}))
    assert needs_of(*top, policy).tier == "manager"
    result = assign([top], [agent("A", 3), agent("S", 3, tier="supervisor")], policy, NOW)
    assert result.of("top").agent is None
    assert "has tier manager or above" in result.of("top").reasons[-1].message
    result = assign([top], [agent("A", 3), agent("M", 3, tier="manager", category={"flight": 2})], policy, NOW)
    assert result.of("top").agent == "M"


def test_an_agent_off_shift_or_away_takes_nothing_and_adds_no_capacity() -> None:
    """Hours and availability decide who is at work at ``now``."""
    night = Agent(
        id="night",
        tier="agent",
        capacity=3,
        skills=Skills.of({"language": {"en": 3}, "channel": {"chat": 1}}),
        hours={"zone": "UTC", "hours": {"mon": "22:00-06:00+1"}},
    )
    away = Agent(id="away", tier="agent", capacity=3, skills=night.skills, available=False)
    result = assign([pair("T")], [night, away], AssignmentPolicy(), NOW)
    assert result.capacity == 0
    assert result.of("T").reasons[-1].message == "no agent is at work now"


def test_an_undetermined_language_needs_no_speaker_and_a_language_subtag_matches() -> None:
    """``und`` needs nobody in particular; ``zh-Hans`` finds a ``zh`` speaker."""
    desk = [agent("zh", 2, languages="zh")]
    result = assign(
        [pair("U", language="und"), pair("H", language="zh-Hans", minutes=1)], desk, AssignmentPolicy(), NOW
    )
    assert [t.agent for t in result.tickets] == ["zh", "zh"]


def test_an_unassignable_ticket_names_the_missing_skill() -> None:
    """Nobody speaks Japanese: the reason says so."""
    result = assign([pair("J", language="ja")], [agent("A", 2)], AssignmentPolicy(), NOW)
    assert result.of("J").reasons[-1].code == "unassigned.no_agent"
    assert result.of("J").reasons[-1].message == "no agent at work speaks ja"


def test_a_closed_ticket_needs_no_agent() -> None:
    """Resolved and closed tickets are reported, never assigned."""
    result = assign([pair("R", status=TicketStatus.RESOLVED)], [agent("A", 2)], AssignmentPolicy(), NOW)
    assert result.of("R").reasons == (result.of("R").reasons[0],)
    assert result.of("R").reasons[0].code == "unassigned.not_open"


def test_the_current_load_counts_against_capacity() -> None:
    """An agent at capacity takes nothing more; an agent over it is not pushed further."""
    full = Agent(id="F", tier="agent", capacity=2, load=3, skills=agent("x", 1).skills)
    result = assign([pair("T")], [full], AssignmentPolicy(), NOW)
    assert result.of("T").reasons[-1].code == "unassigned.capacity"
    assert result.loads == {"F": 3}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "a", "tier": "agent", "capacity": -1}, "agents[0].capacity: expected a whole number >= 0, got -1"),
        (
            {"id": "a", "tier": "agent", "capacity": 1, "skills": {"dance": {"tango": 2}}},
            "agents[0].skills.dance: unknown skill kind; expected language, category, channel, expert",
        ),
        (
            {"id": "a", "tier": "agent", "capacity": 1, "skills": {"language": {"zh": 9}}},
            "agents[0].skills.language.zh: expected a level from 1 to 5, got 9",
        ),
        (
            {"id": "a", "tier": "agent", "capacity": 1, "skills": {"channel": {"fax": 1}}},
            "agents[0].skills.channel.fax: unknown channel",
        ),
        ({"id": "a", "tier": "agent", "capacity": 1, "load": 1, "vip_load": 2}, "agents[0].vip_load: expected at most"),
        ({"id": "a", "tier": "agent", "capacity": 1, "colour": "red"}, "agents[0].colour: unknown field"),
        ({"id": "a", "tier": "agent"}, "agents[0].capacity: required"),
    ],
)
def test_bad_agents_name_the_path(record: dict[str, object], message: str) -> None:
    """Each bad agent field is one error naming agents[i] and the field."""
    with pytest.raises(PolicyError) as info:
        agents_from_data({"agents": [record]})
    assert str(info.value).startswith(message)


def test_duplicate_agent_ids_are_refused() -> None:
    """Two agents with one id cannot both be given tickets."""
    with pytest.raises(PolicyError, match=r"agents\[1\]\.id: expected a unique agent id"):
        agents_from_data([{"id": "a", "tier": "agent", "capacity": 1}] * 2)
    with pytest.raises(PolicyError, match=r"agents\[a\]\.id"):
        assign([], [agent("a", 1), agent("a", 2)], AssignmentPolicy(), NOW)


@pytest.mark.parametrize("share", [-0.1, 1.5, True, "20%", float("nan")])
def test_a_share_outside_zero_to_one_is_refused(share: object) -> None:
    """The VIP share is a fraction from 0 to 1."""
    with pytest.raises(PolicyError, match=r"assignment\.vip_share: expected a share from 0 to 1"):
        AssignmentPolicy(vip_share=share)


def test_policy_errors_name_the_rule() -> None:
    """A need rule with an unknown tier names its row."""
    with pytest.raises(PolicyError, match=r"rules\[0\]\.tier: expected one of agent, supervisor"):
        AssignmentPolicy(rules=(NeedRule(tier="boss"),))
    with pytest.raises(PolicyError, match=r"agents\[x\]\.tier: expected one of"):
        assign([], [agent("x", 1, tier="boss")], AssignmentPolicy(), NOW)


def test_queue_errors() -> None:
    """Duplicate tickets and a naive ``now`` are bad input."""
    with pytest.raises(TicketError, match=r"queue\[1\]\.id: expected a unique ticket id"):
        assign([pair("T"), pair("T")], [], AssignmentPolicy(), NOW)
    with pytest.raises(TicketError, match="now: expected an aware datetime"):
        assign([], [], AssignmentPolicy(), NOW.replace(tzinfo=None))


def test_the_assignment_package_is_pure() -> None:
    """Importing the assignment core loads no cattrs and no shell module."""
    probe = "import sys, servicetriage.assignment; print(sorted(m for m in sys.modules if 'cattrs' in m or m.startswith(('servicetriage.config', 'servicetriage.cli', 'servicetriage.store'))))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
