"""Where the terms of a compiled lexicon match a text: the plain way, and a faster way that finds the same.

Every term is looked for at its *anchor* (see `servicetriage.signals.lexicon`):
a literal piece of text it starts with, or its longest word. An anchor is
*bounded* when it must begin a word, *free* when it may start anywhere (a
Chinese anchor, ``*notfall``).

`PlainMatcher` is the definition. One expression, a trie of every anchor,
reports at each position of the text the longest anchor that starts there
(of the anchors a bounded one is looked for first, then a free one
beginning with the same character); every term of that anchor and of the
shorter anchors it begins with is then tried there, shortest anchor first
and in the order the lexicon was compiled, and its match kept.

`FastMatcher` finds the same matches in the same order, with less work:

- The anchors that begin with an ASCII character are one flat alternation
  that starts with a literal character in every branch, so the regular
  expression engine skips in its own loop to the positions where one can
  start (the plain expression begins with lookaheads, and the engine runs
  its full matcher at every position). The other anchors (Chinese,
  Japanese, emoji) have their own expression, run only on a text that is
  not all ASCII.
- Where an anchor is found, one expression made of all its terms (a
  *gate*) says first whether any of them can match there. Most anchors
  found are common words ("the", "can", "refund") none of whose terms
  match, and one failed gate replaces a dozen failed terms. A gate fails
  only where each of its terms would fail: an alternation matches at a
  position when one of its branches does, and searches from the earliest
  start any of its terms may have (a term that starts before its anchor
  counts only if its match starts at or before the anchor, so a gate whose
  leftmost match starts after it fails too).

The context cues (negation, hypothetical, past, conjunctions) are found the
same two ways. `PlainCues` is the definition: one branch per cue, longest
first, a cue that begins (ends) with a Latin word character only at a word
start (end), tried at every position of a window in turn. `FastCues` finds
the same: its cues are one trie whose every branch starts with a literal
character (the engine skips to where a cue can start, instead of running a
lookbehind at every position), and the cues at every position of a window
come from one pass of the engine, not one call per position.

``tests/test_lexicon_matching.py`` checks that the two agree on generated
texts and on every ticket of the development corpus.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

__all__ = ["TERM_REACH", "WORD", "CueFinder", "FastCues", "FastMatcher", "MatchTerm", "PlainCues", "PlainMatcher"]

#: Latin word characters once normalised (ASCII letters and digits, and the few Latin letters NFKC keeps).
WORD = "0-9a-z\u00c0-\u024f"
_IS_WORD = re.compile(f"[{WORD}]")
#: How far past its anchor a term's match can end, at most (its words, gaps of three words, separators).
TERM_REACH = 400


class MatchTerm(Protocol):
    """What a matcher needs to know of a compiled term."""

    @property
    def regex(self) -> re.Pattern[str]:
        """The term's compiled expression."""
        ...  # pragma: no cover

    @property
    def source(self) -> str:
        """The source of `regex`."""
        ...  # pragma: no cover

    @property
    def lead(self) -> int:
        """How far before its anchor the term may start (0: it starts at the anchor)."""
        ...  # pragma: no cover

    @property
    def exclusion(self) -> bool:
        """Whether the term is an exclusion."""
        ...  # pragma: no cover


T = TypeVar("T", bound=MatchTerm)

#: A term, where its match starts and where it ends.
Match = tuple[T, int, int]


# --------------------------------------------------------------------------
# Expressions over the anchors


def _dispatch(branches: list[tuple[str, str]]) -> str:
    """An alternation of *branches* (first character, regex), as a balanced tree of character-set tests.

    Python's engine tries the branches of an alternation one after the
    other; with hundreds of them (one per first character of the lexicon)
    that is most of the cost. Splitting them in halves behind a lookahead
    on the left half's first characters finds the right branch in a few
    set tests instead.
    """
    if len(branches) <= 8:
        return "(?:" + "|".join(regex for _, regex in branches) + ")"
    middle = len(branches) // 2
    left, right = branches[:middle], branches[middle:]
    chars = "".join(re.escape(c) for c in sorted({c for c, _ in left}))
    return f"(?:(?=[{chars}]){_dispatch(left)}|{_dispatch(right)})"


def _roots(anchors: Iterable[tuple[str, bool]], end: Callable[[str], str] = lambda _last: "") -> list[tuple[str, str]]:
    """One regex per first character and kind of the literal *anchors* ``(anchor, free)``, each factored as a trie.

    In order of character, the bounded branch (which needs a word start
    before it) before the free one; each finds the longest of its anchors.
    At a node the longer continuations come first; the end of an anchor
    comes last, followed by what *end* asks of the text after an anchor
    that ends with a given character (nothing by default).
    """
    trie: dict[Any, Any] = {}
    for anchor, free in anchors:
        node = trie.setdefault((anchor[0], free), {})
        for char in anchor[1:]:
            node = node.setdefault(char, {})
        node[""] = True

    def emit(node: dict[Any, Any], last: str) -> str:
        branches: list[str] = [re.escape(char) + emit(child, char) for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append(end(last))
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    root = []
    for (char, free), child in sorted(trie.items()):
        guard = "" if free or not _IS_WORD.match(char) else f"(?<![{WORD}].)"
        root.append((char, re.escape(char) + guard + emit(child, char)))
    return root


def _first_char_filter(anchors: Iterable[tuple[str, bool]]) -> str:
    """A lookahead that lets through only the positions where one of *anchors* can start.

    Checking two character sets first spares the engine trying every branch
    of the trie at every position of a text; it finds the same starts.
    """
    bounded = {a[0] for a, free in anchors if not free and _IS_WORD.match(a[0])}
    anywhere = {a[0] for a, free in anchors if free or not _IS_WORD.match(a[0])}
    branches = []
    if bounded - anywhere:
        branches.append(f"(?<![{WORD}])[" + "".join(re.escape(c) for c in sorted(bounded - anywhere)) + "]")
    if anywhere:
        branches.append("[" + "".join(re.escape(c) for c in sorted(anywhere)) + "]")
    return "(?=" + "|".join(branches) + ")"


def _try(
    text: str, start: int, terms: Iterable[T], found: list[Match[T]], excluded: list[Match[T]], *, at: bool, near: bool
) -> None:
    """Try *terms* of an anchor found at *start*: those that start at it (if *at*), those that start before (*near*)."""
    for term in terms:
        if term.lead:
            if not near:
                continue
            # Look no further than a term can reach past its anchor: searching on to the end of a long text at
            # every anchor would make a scan quadratic in the text's length.
            match = term.regex.search(text, max(0, start - term.lead), start + TERM_REACH)
            if match is None or match.start() > start or match.end() <= start:
                continue
        else:
            if not at:
                continue
            match = term.regex.match(text, start)
            if match is None:
                continue
        (excluded if term.exclusion else found).append((term, match.start(), match.end()))


# --------------------------------------------------------------------------
# Matchers


class PlainMatcher(Generic[T]):
    """The definition: one expression finds the anchors, every term of every anchor found is tried."""

    __slots__ = ("_anchors", "_finditer")

    _anchors: Mapping[str, tuple[T, ...]]
    _finditer: Callable[[str], Iterator[re.Match[str]]] | None

    def __init__(self, anchors: Mapping[str, tuple[T, ...]], kinds: Iterable[tuple[str, bool]]) -> None:
        """Match the terms of *anchors* (anchor -> terms); *kinds* holds ``(anchor, free)`` for each anchor."""
        kinds = set(kinds)
        self._anchors = anchors
        pattern = _first_char_filter(kinds) + "(?=(" + _dispatch(_roots(kinds)) + "))" if kinds else None
        self._finditer = re.compile(pattern).finditer if pattern is not None else None

    def matches(self, text: str) -> tuple[list[Match[T]], list[Match[T]]]:
        """Return the matches of the terms and those of the exclusions in *text*, in order of anchor."""
        found: list[Match[T]] = []
        excluded: list[Match[T]] = []
        if self._finditer is None:
            return found, excluded
        anchors = self._anchors
        for hit in self._finditer(text):
            start = hit.start()
            for stop in range(start + 1, start + len(hit.group(1)) + 1):
                candidates = anchors.get(text[start:stop])
                if candidates is not None:
                    _try(text, start, candidates, found, excluded, at=True, near=True)
        return found, excluded


def _starts(search: Callable[[str, int], re.Match[str] | None], text: str) -> list[tuple[int, str]]:
    """Every position where *search* finds an anchor, with the anchor (the matches may overlap)."""
    starts = []
    hit = search(text, 0)
    while hit is not None:
        start = hit.start()
        starts.append((start, hit.group()))
        hit = search(text, start + 1)
    return starts


@functools.cache
def _gate(sources: tuple[str, ...]) -> re.Pattern[str]:
    """One expression that matches where any of the term expressions *sources* does."""
    return re.compile("|".join(f"(?:{source})" for source in sources))


class _Anchor(Generic[T]):
    """What is tried where an anchor is found: the terms of it and of the shorter anchors it begins with, gated."""

    __slots__ = ("at", "chain", "near", "reach")

    def __init__(self, chain: tuple[tuple[T, ...], ...]) -> None:
        self.chain = chain
        terms = [term for candidates in chain for term in candidates]
        at = tuple(term.source for term in terms if not term.lead)
        near = tuple(term.source for term in terms if term.lead)
        self.at = _gate(at).match if at else None
        self.near = _gate(near).search if near else None
        self.reach = max((term.lead for term in terms), default=0)


class FastMatcher(Generic[T]):
    """The same matches as `PlainMatcher`, found faster (see the module documentation)."""

    __slots__ = ("_anchors", "_ascii", "_found", "_other", "_pairs", "_singles")

    _anchors: Mapping[str, tuple[T, ...]]
    _ascii: Callable[[str, int], re.Match[str] | None] | None
    _other: Callable[[str, int], re.Match[str] | None] | None
    _pairs: frozenset[str]
    _singles: frozenset[str]
    _found: dict[str, _Anchor[T]]

    def __init__(self, anchors: Mapping[str, tuple[T, ...]], kinds: Iterable[tuple[str, bool]]) -> None:
        """Match the terms of *anchors* (anchor -> terms); *kinds* holds ``(anchor, free)`` for each anchor."""
        kinds = set(kinds)
        ascii_kinds = {kind for kind in kinds if kind[0][0].isascii()}
        other_kinds = kinds - ascii_kinds
        self._anchors = anchors
        # A flat alternation: every branch starts with a literal character, so the engine skips to the positions
        # where one of them stands.
        self._ascii = re.compile("|".join(regex for _, regex in _roots(ascii_kinds))).search if ascii_kinds else None
        # The others (Chinese, Japanese, emoji) are tried only where their first two characters stand (or their
        # one character, for an anchor of one): most positions of a Chinese text begin some anchor's first character
        # but few its first two.
        self._other = re.compile(_dispatch(_roots(other_kinds))).match if other_kinds else None
        self._pairs = frozenset(anchor[:2] for anchor, _ in other_kinds if len(anchor) > 1)
        self._singles = frozenset(anchor for anchor, _ in other_kinds if len(anchor) == 1)
        # Filled as anchors are first found (most never are): a cache, the same for every text.
        self._found = {}

    def _hits(self, text: str) -> list[tuple[int, str]]:
        """Every position where an anchor starts, with the longest anchor the plain expression reports there."""
        hits = _starts(self._ascii, text) if self._ascii is not None else []
        if self._other is not None and not text.isascii():
            other = self._other_starts(self._other, text)
            if other:
                hits = sorted(hits + other) if hits else other
        return hits

    def _other_starts(self, match: Callable[[str, int], re.Match[str] | None], text: str) -> list[tuple[int, str]]:
        """`_starts` for the anchors that do not begin with an ASCII character."""
        found = self._pairs.intersection(map(operator.add, text, text[1:]))
        if self._singles:
            found |= self._singles.intersection(text)
        positions: set[int] = set()
        for piece in found:
            start = text.find(piece)
            while start != -1:
                positions.add(start)
                start = text.find(piece, start + 1)
        starts = []
        for start in sorted(positions):
            hit = match(text, start)
            if hit is not None:
                starts.append((start, hit.group()))
        return starts

    def _anchor(self, anchor: str) -> _Anchor[T]:
        found = self._found.get(anchor)
        if found is None:
            anchors = self._anchors
            chain = tuple(anchors[anchor[:n]] for n in range(1, len(anchor) + 1) if anchor[:n] in anchors)
            found = self._found[anchor] = _Anchor(chain)
        return found

    def matches(self, text: str) -> tuple[list[Match[T]], list[Match[T]]]:
        """Return the matches of the terms and those of the exclusions in *text*, in order of anchor."""
        found: list[Match[T]] = []
        excluded: list[Match[T]] = []
        for start, anchor in self._hits(text):
            gate = self._anchor(anchor)
            at = gate.at is not None and gate.at(text, start) is not None
            # Near terms count only where one starts at or before the anchor: the gate's leftmost match tells.
            first = gate.near(text, max(0, start - gate.reach), start + TERM_REACH) if gate.near is not None else None
            near = first is not None and first.start() <= start
            if at or near:
                for candidates in gate.chain:
                    _try(text, start, candidates, found, excluded, at=at, near=near)
        return found, excluded


# --------------------------------------------------------------------------
# Context cues


class CueFinder(Protocol):
    """Where the cues of one kind (negation, past, conjunctions...) of a language stand in a text."""

    def search(self, text: str, pos: int = 0, endpos: int = ...) -> re.Match[str] | None:
        """The leftmost cue in ``text[pos:endpos]`` (the longest cue that starts there)."""
        ...  # pragma: no cover

    def finditer(self, text: str, pos: int = 0, endpos: int = ...) -> Iterator[re.Match[str]]:
        """The cues in ``text[pos:endpos]``, left to right, none overlapping."""
        ...  # pragma: no cover

    def ends_after(self, window: str, reach: int) -> bool:
        """Whether a cue that starts anywhere in *window* ends after position *reach*."""
        ...  # pragma: no cover

    def starts_before(self, window: str, reach: int) -> bool:
        """Whether a cue starts in *window* before position *reach*."""
        ...  # pragma: no cover


def _cue_end(char: str) -> str:
    """What must follow a cue that ends with *char*: no word character (nor an apostrophe) after a Latin word."""
    return f"(?![{WORD}'])" if _IS_WORD.match(char) else ""


class PlainCues:
    """The definition: one branch per cue, longest first, tried at every position of a window."""

    __slots__ = ("_match", "finditer", "search")

    def __init__(self, cues: Iterable[str]) -> None:
        """Find the non-empty *cues* (at least one)."""
        parts = []
        for cue in sorted(set(cues), key=lambda c: (-len(c), c)):
            start = f"(?<![{WORD}])" if _IS_WORD.match(cue[0]) else ""
            parts.append(start + re.escape(cue) + _cue_end(cue[-1]))
        pattern = re.compile("|".join(parts))
        self._match = pattern.match
        self.search = pattern.search
        self.finditer = pattern.finditer

    def ends_after(self, window: str, reach: int) -> bool:
        """Whether a cue that starts anywhere in *window* ends after position *reach* (cues may overlap)."""
        match = self._match
        return any((found := match(window, index)) is not None and found.end() > reach for index in range(len(window)))

    def starts_before(self, window: str, reach: int) -> bool:
        """Whether a cue starts in *window* before position *reach*."""
        match = self._match
        return any(match(window, index) is not None for index in range(min(reach, len(window))))


def _cue_trie(cues: Iterable[str]) -> str:
    """The cues as one alternation of tries (`_roots`), each beginning with a literal; the longest cue wins.

    A cue must begin a word when it begins with a word character (checked
    after that character, so every branch still starts with a literal), and
    end one when it ends with one, as in `PlainCues`.
    """
    return "|".join(regex for _, regex in _roots(((cue, False) for cue in cues), _cue_end))


class FastCues:
    """The same cues as `PlainCues`, found faster (see the module documentation)."""

    __slots__ = ("_overlapping", "finditer", "search")

    def __init__(self, cues: Iterable[str]) -> None:
        """Find the non-empty *cues* (at least one)."""
        source = _cue_trie(set(cues))
        pattern = re.compile(source)
        self.search = pattern.search
        self.finditer = pattern.finditer
        # A lookahead matches empty, so the engine tries it at every position in one pass; the group is the cue.
        self._overlapping = re.compile(f"(?=({source}))").finditer

    def ends_after(self, window: str, reach: int) -> bool:
        """Whether a cue that starts anywhere in *window* ends after position *reach* (cues may overlap)."""
        return any(found.end(1) > reach for found in self._overlapping(window))

    def starts_before(self, window: str, reach: int) -> bool:
        """Whether a cue starts in *window* before position *reach*."""
        found = self.search(window)
        return found is not None and found.start() < reach
