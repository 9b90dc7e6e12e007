"""Signal building blocks: the built-in signal names, keyword lexicons, time arithmetic.

A *signal* is one observable fact about a ticket that moves its urgency or
its importance: a deadline coming closer, an SOS, a call from the police, a
complaint sent to a regulator, a customer whose story many people hear. The
triage policy (`servicetriage.triage`) decides which signals are on and
how far each one raises a level; this module holds what the signals are made
of:

- `Signal`, the closed set of built-in signal names;
- the default keyword lexicons, in Chinese and English, and
  `KeywordScanner`, which finds every lexicon term in a text with one
  precompiled regular expression;
- the clock arithmetic of deadlines: `add_time`,
  `elapsed_time`, `extend_due` and `effective_pauses`,
  in wall-clock time or, when a business calendar is given, in business time;
  pauses always stop the clock.

Nothing here reads a protected attribute: lexicons apply to every text in
every language, whatever the ticket's ``language`` says.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from servicetriage.errors import PolicyError
from servicetriage.model import Pause

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "DEFAULT_DECEPTIVE_TERMS",
    "DEFAULT_DOUBT_TERMS",
    "DEFAULT_POLICE_TERMS",
    "DEFAULT_PUBLIC_TERMS",
    "DEFAULT_REGULATOR_TERMS",
    "DEFAULT_SAFETY_TERMS",
    "Clock",
    "KeywordScanner",
    "LexiconKind",
    "Signal",
    "add_time",
    "effective_pauses",
    "elapsed_time",
    "extend_due",
]


class Signal(enum.StrEnum):
    """The built-in signals a triage policy can switch on.

    Each one reads only non-protected ticket fields.
    """

    DEADLINE = "deadline"
    """How close the ticket's own due time is (business time with a calendar; pauses stop the clock)."""
    DECLARED_URGENCY = "declared_urgency"
    """How urgent the customer says the need is."""
    SAFETY = "safety"
    """An SOS or a threat to life or health: the ``safety`` flag or a ``safety.*`` concept."""
    POLICE = "police"
    """The police called or are involved: the ``police`` flag or the ``police`` concept."""
    REGULATOR = "regulator"
    """A regulator is involved: the ``regulator`` flag, the ``regulator`` channel or a concept (12315, the CFPB...)."""
    PUBLIC_EXPOSURE = "public_exposure"
    """The need is seen in public: the flag, the ``social_media`` channel or a concept (the press, social media...)."""
    REACH = "reach"
    """How many people hear this customer's story (the "250 law")."""
    VIP = "vip"
    """The customer's tier."""
    MONEY = "money"
    """The money at stake, with thresholds per currency."""
    AFFECTED = "affected"
    """How many customers share the need."""
    REPEAT_CONTACTS = "repeat_contacts"
    """How often the customer had to come back: a complaint risk."""
    DISCRIMINATION = "discrimination"
    """The customer says they were treated unequally for who they are: an equal-treatment complaint."""
    ANGER = "anger"
    """The customer is angry or threatens to escalate: time presses, before it turns into a complaint."""
    ITSM = "itsm"
    """The impact and urgency a helpdesk recorded on the ticket (level 1 the highest)."""


class LexiconKind(enum.StrEnum):
    """What a keyword lexicon detects."""

    SAFETY = "safety"
    POLICE = "police"
    REGULATOR = "regulator"
    PUBLIC = "public"
    DOUBT = "doubt"
    """Hints that a safety signal may be a false alarm (it never lowers the placement)."""
    DECEPTIVE = "deceptive"
    """Patterns of requests that are often deceptive (verify before acting)."""


#: Safety and SOS terms, Chinese and English.
DEFAULT_SAFETY_TERMS: tuple[str, ...] = (
    "SOS", "救命", "危险", "被困", "困在", "受伤", "车祸", "火灾", "着火", "威胁", "绑架", "跟踪",
    "骚扰", "性骚扰", "人身安全", "自杀", "晕倒", "急救",
    "emergency", "danger", "dangerous", "stranded", "trapped", "injured", "injury", "accident",
    "fire", "threatened", "kidnap", "assault", "harassed", "harassment", "unsafe", "suicide",
    "life-threatening", "ambulance",
)  # fmt: skip

#: Police terms, Chinese and English.
DEFAULT_POLICE_TERMS: tuple[str, ...] = (
    "报警", "警察", "警方", "公安", "派出所", "打110", "报110",
    "police", "policeman", "police officer", "cops",
)  # fmt: skip

#: Regulator terms, Chinese and English.
DEFAULT_REGULATOR_TERMS: tuple[str, ...] = (
    "投诉到", "12315", "消协", "消费者协会", "市场监管", "工商局", "民航局", "银保监", "工信部", "监管部门",
    "regulator", "ombudsman", "consumer protection", "trading standards", "civil aviation authority",
)  # fmt: skip

#: Public-exposure terms, Chinese and English.
DEFAULT_PUBLIC_TERMS: tuple[str, ...] = (
    "媒体", "微博", "曝光", "记者", "热搜", "抖音", "小红书", "朋友圈",
    "journalist", "the press", "newspaper", "twitter", "tweet", "social media", "going public", "go viral",
)  # fmt: skip

#: Hints that a safety signal may be a false alarm.
DEFAULT_DOUBT_TERMS: tuple[str, ...] = (
    "误报", "误触", "不小心按", "按错了", "恶作剧", "测试一下",
    "false alarm", "by mistake", "accidentally pressed", "pressed it by accident", "prank", "just testing",
)  # fmt: skip

#: Request patterns that are often deceptive (a starting point; policies extend it).
DEFAULT_DECEPTIVE_TERMS: tuple[str, ...] = (
    "礼品卡", "验证码", "换个收款账户", "退到另一个账户", "转账到",
    "gift card", "verification code", "refund to another account", "change the bank account",
    "wire the money",
)  # fmt: skip

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _trie_regex(terms: Iterable[str]) -> str:
    """One regex for *terms* (lower case), factored as a trie so each position tries one branch.

    A term that ends with an ASCII letter or digit only matches when no
    letter or digit follows; longer terms are preferred.
    """
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = term

    def emit(node: dict[str, Any], root: bool = False) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            # At the root, an ASCII letter or digit must not follow another one (checked after
            # consuming it, so the regex engine can still skip ahead by the first character).
            guard = r"(?<![a-z0-9].)" if root and char in _ALNUM else ""
            branches.append(re.escape(char) + guard + emit(child))
        if "" in node:
            term = node[""]
            branches.append(r"(?![a-z0-9])" if term[-1] in _ALNUM else "")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return emit(trie, root=True)


def _first_char_filter(terms: Iterable[str]) -> str:
    """A lookahead that only lets through positions where one of *terms* can start.

    A term starts with one of the terms' first characters, and one that starts
    with an ASCII letter or digit only after a character that is not one (the
    guard of `_trie_regex`). Checking this first with two character sets
    spares the regex engine trying every branch of the trie at every position
    of a text; it finds the same terms.
    """
    firsts = {term[0] for term in terms}
    words = "".join(sorted(firsts & _ALNUM))
    others = "".join(sorted(firsts - _ALNUM))
    branches = []
    if words:
        branches.append("(?<![a-z0-9])[" + re.escape(words) + "]")
    if others:
        branches.append("[" + re.escape(others) + "]")
    return "(?=" + "|".join(branches) + ")"


def _find_nothing(_text: str) -> list[str]:
    return []


class KeywordScanner:
    """Find lexicon terms of several kinds in a text, in one pass.

    The terms of every lexicon are compiled into one regular expression,
    factored as a trie, matched against the lower-cased text (so matching is
    case-insensitive and the cost does not grow with the number of terms). A
    term that contains a shorter term of another kind counts for both kinds,
    so no kind is hidden by a longer match. ASCII terms match whole words
    only (``fire`` is not found in ``firewall``); other terms (Chinese) match
    anywhere. The scanner is immutable, thread-safe and picklable.

    >>> scanner = KeywordScanner({"safety": ("SOS", "救命"), "police": ("报警",)})
    >>> sorted(scanner.scan("乘客按下了SOS，已经报警").items())
    [('police', '报警'), ('safety', 'sos')]
    """

    __slots__ = ("_kinds", "_pattern", "_table")

    def __init__(self, lexicons: Mapping[str, Iterable[str]]) -> None:
        kinds_of: dict[str, set[str]] = {}
        for kind, terms in lexicons.items():
            for term in terms:
                if not isinstance(term, str) or not term.strip():
                    msg = f"lexicons.{kind}: expected non-empty terms, got {term!r}"
                    raise PolicyError(msg)
                kinds_of.setdefault(term.strip().lower(), set()).add(kind)
        # A longer term also carries the kinds of every shorter term inside it.
        for term, term_kinds in kinds_of.items():
            for other, other_kinds in kinds_of.items():
                if other != term and other in term:
                    term_kinds.update(other_kinds)
        self._kinds: tuple[str, ...] = tuple(lexicons)
        self._table: dict[str, tuple[str, ...]] = {
            term: tuple(k for k in self._kinds if k in kinds) for term, kinds in kinds_of.items()
        }
        # A lookahead finds the longest term at *every* position, so terms that overlap (误报|报警 in
        # "误报警") are all found; terms inside a longer term at the same position share its kinds.
        self._pattern: re.Pattern[str] | None = (
            re.compile(_first_char_filter(self._table) + "(?=(" + _trie_regex(self._table) + "))")
            if self._table
            else None
        )

    def matcher(self) -> tuple[Callable[[str], list[str]], Mapping[str, tuple[str, ...]]]:
        """Return the raw parts for an inlined scan: ``findall`` on lower-cased text, and term -> kinds.

        ``scan`` is ``{kind: term for term in findall(text.lower()) for kind in table[term]}``
        keeping the first term of each kind.
        """
        findall = self._pattern.findall if self._pattern is not None else _find_nothing
        return findall, self._table

    def terms(self) -> dict[str, tuple[str, ...]]:
        """Return every term (lower case) with the kinds it counts for."""
        return dict(self._table)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The lexicon kinds this scanner knows, in the order given."""
        return self._kinds

    def scan(self, text: str) -> dict[str, str]:
        """Map each kind found in *text* to the first term of that kind found (in lower case)."""
        found: dict[str, str] = {}
        if self._pattern is None or not text:
            return found
        table = self._table
        for term in self._pattern.findall(text.lower()):
            for kind in table[term]:
                if kind not in found:
                    found[kind] = term
        return found

    def __reduce__(self) -> tuple[object, ...]:
        lexicons: dict[str, list[str]] = {k: [] for k in self._kinds}
        for term, kinds in self._table.items():
            for kind in kinds:
                lexicons[kind].append(term)
        return (KeywordScanner, (lexicons,))


# --------------------------------------------------------------------------
# Time


class Clock(Protocol):
    """What a business calendar offers to the triage clock.

    `servicetriage.calendar.BusinessCalendar` satisfies it.
    """

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """*start* plus *duration* of business time, skipping closed hours and pauses."""
        ...  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Return the business time from *start* to *end* (negative if *end* is earlier), without pauses."""
        ...  # pragma: no cover


def effective_pauses(pauses: Sequence[Pause], now: datetime) -> tuple[Pause, ...]:
    """Return the pauses as seen at *now*: an open pause ends at *now*; pauses not begun yet are dropped."""
    result: list[Pause] = []
    for pause in pauses:
        if pause.start >= now:
            break
        if pause.end is None or pause.end > now:
            result.append(Pause(pause.start, now))
            break
        result.append(pause)
    return tuple(result)


def _wall_add(start: datetime, duration: timedelta, pauses: Sequence[Pause]) -> datetime:
    cursor, remaining = start, duration
    for pause in pauses:
        end = pause.end if pause.end is not None else pause.start
        if end <= cursor:
            continue
        if pause.start >= cursor + remaining:
            break
        if pause.start > cursor:
            remaining -= pause.start - cursor
        cursor = end
    return cursor + remaining


def _paused_within(pauses: Sequence[Pause], start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for pause in pauses:
        lo = max(pause.start, start)
        hi = min(pause.end if pause.end is not None else pause.start, end)
        if hi > lo:
            total += hi - lo
    return total


def add_time(
    start: datetime, duration: timedelta, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> datetime:
    """*start* plus *duration*, with the clock stopped during *pauses*.

    With a *calendar* the duration is business time; without one it is wall
    time. Pauses must be closed (see `effective_pauses`).

    >>> from datetime import UTC
    >>> t0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    >>> add_time(t0, timedelta(hours=2), [Pause(t0 + timedelta(hours=1), t0 + timedelta(hours=4))]).hour
    14
    """
    if calendar is not None:
        return calendar.add(start, duration, pauses)
    if duration <= timedelta(0):
        return start + duration
    return _wall_add(start, duration, pauses)


def elapsed_time(
    start: datetime, end: datetime, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> timedelta:
    """Return the clock time from *start* to *end*, less *pauses*; negative if *end* < *start*."""
    if calendar is not None:
        return calendar.elapsed(start, end, pauses)
    if end < start:
        return -(start - end - _paused_within(pauses, end, start))
    return end - start - _paused_within(pauses, start, end)


def extend_due(
    due: datetime, opened_at: datetime, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> datetime:
    """Return a ticket's own due time, pushed back by the time it spent paused before it.

    The pushed-back time is business time when a *calendar* is given. A due
    time with no pause before it is returned unchanged. Pauses must be closed
    (see `effective_pauses`).
    """
    if not pauses or due <= opened_at:
        return due
    if calendar is None:
        paused = _paused_within(pauses, opened_at, due)
        return due + paused if paused else due
    paused = timedelta(0)
    for pause in pauses:
        if pause.start >= due:
            break
        end = min(pause.end if pause.end is not None else pause.start, due)
        paused += calendar.elapsed(pause.start, end)
    return calendar.add(due, paused) if paused > timedelta(0) else due
