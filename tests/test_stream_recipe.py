"""The streaming recipe in examples/stream: its handlers as pure functions, and its Quix Streams app offline.

The handlers need only the library. The app runs through Quix Streams' own
harness, ``StreamingDataFrame.test``, with a real state store in a temporary
folder; no broker runs: the one call that would reach one, the topic
metadata lookup of ``Application.topic``, is answered by a stand-in. Without
``quixstreams`` (the ``stream`` extra) the app tests are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.batch import policy_hash
from servicetriage.config import load_section
from servicetriage.escalation import EscalationPolicy, EscalationState, advance_escalation
from servicetriage.triage import DEFAULT_POLICY

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
spec = importlib.util.spec_from_file_location("recipe_triage_stream", ROOT / "examples" / "stream" / "triage_stream.py")
assert spec is not None
assert spec.loader is not None
recipe: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)

ESCALATION = load_section(ROOT / "examples" / "escalation.toml", "escalation", EscalationPolicy, required=True)
assert ESCALATION is not None
DIGEST = policy_hash(DEFAULT_POLICY)
PAYLOADS: list[dict[str, Any]] = json.loads((FIXTURES / "zendesk.json").read_text(encoding="utf-8"))
SOS = PAYLOADS[3]  # a trigger webhook: an SOS, Zendesk priority "Urgent", opened 2026-03-02T01:58:31Z
OPENED = datetime(2026, 3, 2, 1, 58, 31, tzinfo=UTC)


def _solved(payload: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": payload["ticket"] | {"status": "Solved"}}


def _started() -> dict[str, Any]:
    stored: dict[str, Any] | None
    stored, actions = recipe.on_ticket_event(None, SOS, OPENED, DEFAULT_POLICY, ESCALATION)
    assert stored is not None
    assert actions
    return stored


# --------------------------------------------------------------------------
# the handlers


def test_triage_event_answers_with_the_placement_and_the_zendesk_fields() -> None:
    """The SOS is placed in Q1 and written back as Zendesk's "urgent", with the policy's hash."""
    message = recipe.triage_event(SOS, DEFAULT_POLICY, DIGEST, OPENED)
    assert message["triage"]["quadrant"] == "Q1"
    assert message["triage"]["policy_hash"] == DIGEST
    assert message["zendesk"]["priority"] == "urgent"
    json.dumps(message)  # a message value must be JSON


def test_triage_event_turns_a_refused_payload_into_an_error_row() -> None:
    """A payload the adapter refuses gives a row whose error names the field, not a failed stream."""
    message = recipe.triage_event({"ticket": {"id": "9"}}, DEFAULT_POLICY, DIGEST, OPENED)
    assert message["zendesk"] is None
    assert message["triage"]["quadrant"] is None
    assert message["triage"]["policy_hash"] == DIGEST
    assert "created_at" in message["triage"]["error"]


def test_a_first_event_starts_the_escalation_and_emits_what_is_due() -> None:
    """A Q1 ticket starts its chain: the first notice goes out at once, and the state is JSON."""
    stored, actions = recipe.on_ticket_event(None, SOS, OPENED, DEFAULT_POLICY, ESCALATION)
    assert [(a["type"], a["step"]) for a in actions] == [("notify", 0)]
    assert json.loads(json.dumps(stored)) == stored


def test_a_solved_ticket_resolves_its_escalation_and_is_no_longer_stored() -> None:
    """Zendesk's "solved" resolves the escalation; nothing is stored, so later ticks emit nothing."""
    stored = _started()
    kept, actions = recipe.on_ticket_event(
        stored, _solved(SOS), OPENED + timedelta(minutes=3), DEFAULT_POLICY, ESCALATION
    )
    assert (kept, actions) == (None, [])
    assert recipe.on_tick(kept, OPENED + timedelta(days=1)) == (None, [])


def test_an_event_older_than_the_state_is_applied_at_the_state_s_time() -> None:
    """An event that arrives out of order does not move the escalation back in time."""
    stored = _started()
    later, _ = recipe.on_tick(stored, OPENED + timedelta(minutes=30))
    kept, actions = recipe.on_ticket_event(later, _solved(SOS), OPENED, DEFAULT_POLICY, ESCALATION)
    assert (kept, actions) == (None, [])


def test_a_refused_payload_leaves_the_stored_escalation_alone() -> None:
    """A payload the adapter refuses changes nothing in the ticket's escalation."""
    stored = _started()
    assert recipe.on_ticket_event(stored, {"ticket": {}}, OPENED, DEFAULT_POLICY, ESCALATION) == (stored, [])


def test_a_ticket_no_chain_covers_starts_nothing() -> None:
    """Without a chain for the triage there is nothing to store."""
    empty = EscalationPolicy(chains=())
    assert recipe.on_ticket_event(None, SOS, OPENED, DEFAULT_POLICY, empty) == (None, [])


def test_a_tick_without_an_escalation_or_a_late_tick_changes_nothing() -> None:
    """Ticks for unknown tickets, and ticks at or before the state's time, are no-ops."""
    assert recipe.on_tick(None, OPENED) == (None, [])
    stored = _started()
    assert recipe.on_tick(stored, OPENED) == (stored, [])
    assert recipe.on_tick(stored, OPENED - timedelta(hours=1)) == (stored, [])


@given(st.lists(st.integers(min_value=1, max_value=600), max_size=8))
def test_many_ticks_emit_what_one_advance_emits(minutes: list[int]) -> None:
    """However the clock ticks, the actions are those of one `advance_escalation` to the last tick, each once."""
    stored: dict[str, Any] | None = _started()
    emitted: list[dict[str, Any]] = []
    ticks = sorted({OPENED + timedelta(minutes=m) for m in minutes})
    for at in ticks:
        stored, actions = recipe.on_tick(stored, at)
        emitted += actions
    state = recipe.structure(_started(), EscalationState)
    end = ticks[-1] if ticks else OPENED
    final, expected = advance_escalation(state, end)
    assert emitted == [recipe.unstructure(a) for a in expected]
    assert stored == recipe.unstructure(final)


# --------------------------------------------------------------------------
# the app, offline


@pytest.fixture
def app(tmp_path: Path) -> Any:
    with warnings.catch_warnings():
        # authlib, which quixstreams imports, warns about its own httpx integration and sets that
        # warning to "always" when it loads; let it load first, then quiet that one warning.
        with contextlib.suppress(ImportError):
            importlib.import_module("authlib.deprecate")
        warnings.filterwarnings("ignore", message="The httpx module is deprecated")
        quixstreams = pytest.importorskip(
            "quixstreams", reason="quixstreams is not installed: pip install 'servicetriage[stream]'"
        )
        from quixstreams.models.topics import TopicConfig  # noqa: PLC0415 - an optional extra

    application = quixstreams.Application(
        broker_address="localhost:1",  # never reached
        consumer_group="servicetriage-test",
        auto_create_topics=False,
        use_changelog_topics=False,
        state_dir=str(tmp_path / "state"),
        loglevel=None,
    )
    config = TopicConfig(
        num_partitions=1, replication_factor=1, extra_config={"retention.ms": "604800000", "retention.bytes": "-1"}
    )
    # The stand-in for the broker: the metadata of every topic the app asks about.
    application._topic_manager._admin.inspect_topics = lambda names, timeout=None: dict.fromkeys(names, config)
    return application


def _send(app: Any, sdf: Any, topic: str, value: Any, key: str, at: datetime) -> list[Any]:
    from quixstreams.models import MessageContext  # noqa: PLC0415 - an optional extra

    ctx = MessageContext(topic=topic, partition=0, offset=0, size=0)
    results: list[Any] = sdf.test(
        value, key=key, timestamp=int(at.timestamp() * 1000), ctx=ctx, topic=app._topic_manager.topics[topic]
    )
    return [value for value, *_ in results]


def test_the_app_triages_each_ticket_event(app: Any) -> None:
    """A Zendesk payload on the input topic comes out as its triage message."""
    branches = recipe.build(app)
    assert set(branches) == {"triage"}
    [message] = _send(app, branches["triage"], "zendesk-tickets", SOS, "35439", OPENED)
    assert message == recipe.triage_event(SOS, DEFAULT_POLICY, DIGEST, OPENED)


def test_the_app_keeps_an_escalation_per_ticket_and_advances_it_on_ticks(app: Any) -> None:
    """Events and ticks share one state per ticket: a tick emits what the pure handlers say, a solve ends it."""
    branches = recipe.build(app, DEFAULT_POLICY, ESCALATION)
    app._processing_context.init_checkpoint()
    app._state_manager.on_partition_assign(
        stream_id=branches["escalation"].stream_id, partition=0, committed_offsets={}
    )
    escalation = branches["escalation"]

    # A ticket event runs both branches: its triage message, then the actions now due.
    triaged, *first = _send(app, escalation, "zendesk-tickets", SOS, "35439", OPENED)
    assert triaged["triage"]["quadrant"] == "Q1"
    stored, expected = recipe.on_ticket_event(None, SOS, OPENED, DEFAULT_POLICY, ESCALATION)
    assert first == expected

    tick = OPENED + timedelta(minutes=30)
    second = _send(app, escalation, "escalation-ticks", {"at": tick.isoformat()}, "35439", tick)
    assert second == recipe.on_tick(stored, tick)[1]
    assert [a["type"] for a in second][:2] == ["notify", "report_progress"]

    assert _send(app, escalation, "escalation-ticks", {"at": tick.isoformat()}, "other", tick) == []
    [solved] = _send(app, escalation, "zendesk-tickets", _solved(SOS), "35439", tick)
    assert "triage" in solved  # only the triage message: the escalation ended without an action
    assert (
        _send(app, escalation, "escalation-ticks", {"at": (tick + timedelta(hours=5)).isoformat()}, "35439", tick) == []
    )
