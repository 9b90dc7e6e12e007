"""Signal building blocks: keyword scanning and the clock arithmetic of deadlines."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.calendar import ALWAYS_OPEN
from servicetriage.model import Pause
from servicetriage.signals import (
    DEFAULT_POLICE_TERMS,
    DEFAULT_SAFETY_TERMS,
    KeywordScanner,
    _trie_regex,
    add_time,
    effective_pauses,
    elapsed_time,
    extend_due,
)

T0 = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
SCANNER = KeywordScanner({"safety": DEFAULT_SAFETY_TERMS, "police": DEFAULT_POLICE_TERMS})


def test_scanner_finds_chinese_terms_inside_a_sentence() -> None:
    assert SCANNER.scan("我被困在电梯里了，快救命") == {"safety": "被困"}


def test_scanner_matches_english_case_insensitively_and_only_whole_words() -> None:
    assert SCANNER.scan("The driver locked the doors, SOS!") == {"safety": "sos"}
    assert SCANNER.scan("firewall settings") == {}
    assert SCANNER.scan("a fire in the hotel") == {"safety": "fire"}


def test_ascii_term_between_chinese_characters_is_found() -> None:
    assert SCANNER.scan("乘客按下了SOS,已经报警") == {"safety": "sos", "police": "报警"}


def test_a_longer_term_also_counts_for_the_kinds_of_the_terms_inside_it() -> None:
    scanner = KeywordScanner({"police": ("报警",), "doubt": ("误报警",)})
    assert scanner.scan("刚才是误报警") == {"police": "误报警", "doubt": "误报警"}


def test_scanner_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(SCANNER))
    assert copy.scan("call the police") == SCANNER.scan("call the police") == {"police": "police"}


def test_empty_lexicons_find_nothing() -> None:
    assert KeywordScanner({"safety": ()}).scan("SOS") == {}


@given(st.lists(st.sampled_from([*DEFAULT_SAFETY_TERMS, "hello", "你好", " ", "x"]), max_size=8))
def test_scan_finds_a_term_whenever_a_term_stands_alone(words: list[str]) -> None:
    text = " ".join(words)
    found = SCANNER.scan(text)
    standalone = [w for w in words if w in DEFAULT_SAFETY_TERMS]
    assert ("safety" in found) == bool(standalone)


def test_open_pause_ends_at_now_and_future_pauses_are_dropped() -> None:
    pauses = (Pause(T0, T0 + timedelta(hours=1)), Pause(T0 + timedelta(hours=2)))
    now = T0 + timedelta(hours=3)
    assert effective_pauses(pauses, now) == (Pause(T0, T0 + timedelta(hours=1)), Pause(T0 + timedelta(hours=2), now))
    assert effective_pauses(pauses, T0 - timedelta(minutes=1)) == ()


def test_wall_clock_add_skips_pauses() -> None:
    pause = Pause(T0 + timedelta(hours=1), T0 + timedelta(hours=4))
    assert add_time(T0, timedelta(hours=2), [pause]) == T0 + timedelta(hours=5)
    assert add_time(T0, timedelta(minutes=30), [pause]) == T0 + timedelta(minutes=30)


def test_own_due_is_pushed_back_by_the_pause_before_it() -> None:
    due = T0 + timedelta(hours=8)
    pause = Pause(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert extend_due(due, T0, [pause]) == due + timedelta(hours=2)
    assert extend_due(due, T0, []) == due
    late = Pause(T0 + timedelta(hours=9), T0 + timedelta(hours=10))
    assert extend_due(due, T0, [late]) == due


@st.composite
def _closed_pauses(draw: st.DrawFn, start: datetime) -> tuple[Pause, ...]:
    cursor, pauses = start, []
    for _ in range(draw(st.integers(0, 3))):
        begin = cursor + timedelta(minutes=draw(st.integers(0, 600)))
        cursor = begin + timedelta(minutes=draw(st.integers(0, 600)))
        pauses.append(Pause(begin, cursor))
    return tuple(pauses)


@given(sts.aware_datetimes(), st.integers(0, 10_000), st.data())
def test_elapsed_time_undoes_add_time_on_the_wall_clock(start: datetime, minutes: int, data: st.DataObject) -> None:
    pauses = data.draw(_closed_pauses(start))
    duration = timedelta(minutes=minutes)
    end = add_time(start, duration, pauses)
    assert end >= start + duration
    assert elapsed_time(start, end, pauses) == duration


@given(sts.aware_datetimes(), st.integers(0, 10_000), st.data())
def test_an_always_open_calendar_counts_like_the_wall_clock(start: datetime, minutes: int, data: st.DataObject) -> None:
    pauses = data.draw(_closed_pauses(start))
    duration = timedelta(minutes=minutes)
    assert add_time(start, duration, pauses, ALWAYS_OPEN) == add_time(start, duration, pauses)


@given(sts.aware_datetimes(), sts.aware_datetimes())
def test_elapsed_time_is_antisymmetric(a: datetime, b: datetime) -> None:
    assert elapsed_time(a, b) == -elapsed_time(b, a)


_PIECES = st.sampled_from(["sos", "fire", "firewall", "1", "12315", "a", "-", "报警", "误报", "救", "x"])
_TERMS = (
    st.lists(_PIECES | st.text("ab1-.报救 ", min_size=1, max_size=4), min_size=1, max_size=6)
    .map("".join)
    .filter(str.strip)
)
_LEXICONS = st.dictionaries(
    st.sampled_from(["safety", "police", "doubt"]), st.lists(_TERMS, min_size=1, max_size=5), min_size=1
)


@given(
    _LEXICONS,
    st.lists(_PIECES | st.text("aBs1 -.,\n报警误救", max_size=3), max_size=12).map("".join),
)
def test_first_character_filter_finds_what_the_plain_trie_finds(lexicons: dict[str, list[str]], text: str) -> None:
    """The scanner's pattern, filtered by first characters, finds the same terms as the bare trie lookahead."""
    scanner = KeywordScanner(lexicons)
    table = scanner.terms()
    bare = re.compile("(?=(" + _trie_regex(table) + "))")
    findall, _ = scanner.matcher()
    assert findall(text.lower()) == bare.findall(text.lower())
