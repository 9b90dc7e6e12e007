"""The lexicon detector: signal concepts found by terms, in every supported language, with their context.

A *concept* (`Concept`) is one thing a customer can say that moves a
need's urgency or importance (``safety.trapped``, ``regulator.aviation``,
``public_exposure.press``...). Concepts and their terms are data, shipped in
the package (``signals/data/concepts.toml`` and one ``lang/<code>.toml`` per
language), and a policy adds or removes terms and exclusions per concept and
language (`LexiconSettings`).

How a term matches (the data files' own reference):

- text and terms are normalised alike (`servicetriage.signals.normalize`);
  Chinese terms are compiled in every script form (Simplified, Traditional,
  Taiwan and Hong Kong forms);
- a Latin-script term matches whole words; ``*`` at its end lets the last
  word go on (``threaten*``), ``*`` at its start lets the first word begin
  earlier (``*notfall`` finds Gasnotfall); a space matches any run of spaces
  and punctuation; an apostrophe is optional (``won't`` finds "wont");
  `` ... `` is a gap of up to three words (six characters in Chinese or
  Japanese);
- a Chinese or Japanese term matches anywhere;
- an *exclusion* drops a hit of its concept that it overlaps (``kindle fire``
  is not a fire; 跟踪物流 is parcel tracking);
- a hit is dropped when a negation cue of its language (for a Chinese or
  Japanese term: of any of the three) stands just before it in the same
  clause (``not an emergency``, 没有危险, ``kein Notfall``), or a
  ``negation_after`` cue just after it (危険ではない); a *hypothetical* cue
  does the same (``in case of fire``, 如果着火, 火事の場合): a question
  about what would happen is not an event; or the clause speaks
  of a long-past event (``years ago``, 去年); a *conjunction* of its language
  (``and``, ``aber``, ``mais``, 但是) begins a new clause, so a cue on its far
  side does not reach the hit (``no problem with the app and the car is on
  fire`` is a fire; ``kein Problem, aber es brennt`` too). A past cue after
  the hit still counts (``it caught fire, but that was years ago``).

A legal disclaimer or a signature block under an e-mail is not read
(`servicetriage.signals.boilerplate`; ``skip_boilerplate = false`` reads it).

Matching looks for the literal start of every term and exclusion (its
*anchor*), precompiled as a trie, so the cost grows with the length of the
text and not with the size of the lexicon. Only where an anchor is found are
the full terms and their context checked. `servicetriage.signals._matching`
holds the plain matcher that defines this and the faster one that is used,
checked against it by a property test.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.errors import PolicyError
from servicetriage.model import FrozenMap
from servicetriage.signals._matching import WORD, CueFinder, FastCues, FastMatcher, PlainCues, PlainMatcher
from servicetriage.signals.boilerplate import blank_boilerplate
from servicetriage.signals.detectors import FIELDS, Detection
from servicetriage.signals.normalize import chinese_variants, has_han, normalize

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from servicetriage.model import Ticket

__all__ = [
    "LANGUAGES",
    "Concept",
    "ConceptSettings",
    "LanguageLexicon",
    "LexiconDetector",
    "LexiconSettings",
    "concepts",
    "default_lexicons",
]

_WORD = WORD
_IS_WORD = re.compile(f"[{_WORD}]")
#: Where a clause ends: negation and past cues are looked for within one clause.
_CLAUSE_END = ".!?;,\n。！？；，、"
_CLAUSE_BREAK = re.compile("[" + re.escape(_CLAUSE_END) + "]")
#: How near a hit a negation or hypothetical cue must stand: it ends in the three words (four Chinese or
#: Japanese characters) before the hit, or begins in the two words (four characters) after it; a cue of
#: several words or characters may reach further.
_WORDS_BEFORE = 3
_WORDS_AFTER = 2
_CHARS_NEAR = 4
_CUE_WORDS = 6
_CUE_CHARS = 8
#: How far a clause is looked for on each side of a hit (characters).
_CLAUSE_REACH = 200
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af]")
_GAP = " ... "
#: A Chinese or Japanese term is judged with the context cues of all three: a Chinese term also finds the same
#: word written in kanji, and Cantonese cues (冇) stand next to standard Chinese terms.
_CJK_LANGUAGES = frozenset({"zh-Hans", "zh-Hant", "ja"})
#: Characters a gap spans in Chinese and Japanese.
_CJK_GAP = 6


# --------------------------------------------------------------------------
# Data


@attrs.frozen(kw_only=True)
class Concept:
    """One signal concept: its id, the signal it feeds, and what it means."""

    id: str
    signal: str
    description: str


@attrs.frozen(kw_only=True)
class LanguageLexicon:
    """The terms of one language: per concept, terms and exclusions; and the language's context cues."""

    language: str
    terms: FrozenMap[str, tuple[str, ...]] = attrs.field(factory=FrozenMap)
    exclusions: FrozenMap[str, tuple[str, ...]] = attrs.field(factory=FrozenMap)
    negation: tuple[str, ...] = ()
    negation_after: tuple[str, ...] = ()
    hypothetical: tuple[str, ...] = ()
    hypothetical_after: tuple[str, ...] = ()
    past: tuple[str, ...] = ()
    conjunctions: tuple[str, ...] = ()


def _read_toml(name: str) -> dict[str, Any]:
    data = resources.files("servicetriage.signals").joinpath("data", *name.split("/")).read_text(encoding="utf-8")
    return tomllib.loads(data)


@functools.cache
def _registry() -> tuple[tuple[str, ...], FrozenMap[str, Concept]]:
    data = _read_toml("concepts.toml")
    found = {
        key: Concept(id=key, signal=value["signal"], description=value["description"])
        for key, value in data["concepts"].items()
    }
    return tuple(data["languages"]), FrozenMap(found)


def concepts() -> FrozenMap[str, Concept]:
    """Return every concept the library knows, by id.

    >>> concepts()["safety.trapped"].signal
    'safety'
    """
    return _registry()[1]


#: The languages every concept has terms in (a test keeps this true).
LANGUAGES: tuple[str, ...] = _registry()[0]


def _strings(path: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        msg = f"{path}: expected a list of terms, got {value!r}"
        raise PolicyError(msg)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            msg = f"{path}[{index}]: expected a non-empty term, got {item!r}"
            raise PolicyError(msg)
    return tuple(value)


@functools.cache
def default_lexicons() -> FrozenMap[str, LanguageLexicon]:
    """Return the lexicon shipped for every supported language, by language code."""
    known = concepts()
    result: dict[str, LanguageLexicon] = {}
    for language in LANGUAGES:
        path = f"lang/{language}.toml"
        try:
            data = _read_toml(path)
        except FileNotFoundError:
            data = {"language": language}
        terms: dict[str, tuple[str, ...]] = {}
        exclusions: dict[str, tuple[str, ...]] = {}
        for concept_id, entry in data.get("concepts", {}).items():
            if concept_id not in known:
                msg = f"{path}: concepts.{concept_id}: unknown concept"
                raise PolicyError(msg)
            terms[concept_id] = _strings(f"{path}: concepts.{concept_id}.terms", entry.get("terms", []))
            exclusions[concept_id] = _strings(f"{path}: concepts.{concept_id}.exclusions", entry.get("exclusions", []))
        result[language] = LanguageLexicon(
            language=language,
            terms=FrozenMap(terms),
            exclusions=FrozenMap(exclusions),
            negation=_strings(f"{path}: negation", data.get("negation", [])),
            negation_after=_strings(f"{path}: negation_after", data.get("negation_after", [])),
            hypothetical=_strings(f"{path}: hypothetical", data.get("hypothetical", [])),
            hypothetical_after=_strings(f"{path}: hypothetical_after", data.get("hypothetical_after", [])),
            past=_strings(f"{path}: past", data.get("past", [])),
            conjunctions=_strings(f"{path}: conjunctions", data.get("conjunctions", [])),
        )
    return FrozenMap(result)


# --------------------------------------------------------------------------
# Policy settings


def _to_term_map(value: Mapping[str, Iterable[str]]) -> FrozenMap[str, tuple[str, ...]]:
    if isinstance(value, FrozenMap):
        return value
    if not hasattr(value, "items"):
        msg = f"expected a table of language = [terms], got {value!r}"
        raise PolicyError(msg)
    return FrozenMap({k: _strings(str(k), list(v) if isinstance(v, tuple) else v) for k, v in value.items()})


def _check_term_map(_instance: ConceptSettings, attribute: attrs.Attribute[Any], value: FrozenMap[str, Any]) -> None:
    for language, terms in value.items():
        _strings(f"conceptsettings.{attribute.name}.{language}", terms)


def _to_fields(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    fields = tuple(value)
    for index, field in enumerate(fields):
        if field not in FIELDS:
            msg = f"conceptsettings.fields[{index}]: expected one of {', '.join(FIELDS)}, got {field!r}"
            raise PolicyError(msg)
    return fields


@attrs.frozen(kw_only=True)
class ConceptSettings:
    """A policy's changes to one concept: the fields it reads, and terms and exclusions per language.

    ``add``, ``remove`` and ``exclusions`` map a language code (one of
    `LANGUAGES`, or ``"any"`` for terms that hold in every language) to
    terms. ``fields`` limits where the concept is looked for (``subject``,
    ``text``, ``category``; by default the subject and the text).
    """

    fields: tuple[str, ...] | None = attrs.field(default=None, converter=_to_fields)
    add: FrozenMap[str, tuple[str, ...]] = attrs.field(
        factory=FrozenMap, converter=_to_term_map, validator=_check_term_map
    )
    remove: FrozenMap[str, tuple[str, ...]] = attrs.field(
        factory=FrozenMap, converter=_to_term_map, validator=_check_term_map
    )
    exclusions: FrozenMap[str, tuple[str, ...]] = attrs.field(
        factory=FrozenMap, converter=_to_term_map, validator=_check_term_map
    )


def _to_concept_map(value: Mapping[str, ConceptSettings | Mapping[str, Any]]) -> FrozenMap[str, ConceptSettings]:
    if isinstance(value, FrozenMap):
        return value
    result: dict[str, ConceptSettings] = {}
    for key, entry in value.items():
        if isinstance(entry, ConceptSettings):
            result[key] = entry
        elif hasattr(entry, "items"):
            try:
                result[key] = ConceptSettings(**dict(entry))
            except TypeError as exc:
                msg = f"concepts.{key}: {exc}"
                raise PolicyError(msg) from None
            except PolicyError as exc:
                msg = f"concepts.{key}.{exc}"
                raise PolicyError(msg) from None
        else:
            msg = f"concepts.{key}: expected a table, got {entry!r}"
            raise PolicyError(msg)
    return FrozenMap(result)


def _optional_tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(kw_only=True)
class LexiconSettings:
    """How a triage policy uses the lexicon detector.

    ``enabled = false`` turns the lexicon off (other detectors may replace
    it); ``use_defaults = false`` starts from empty lexicons instead of the
    shipped ones; ``languages`` keeps only some of the shipped languages
    (all by default: a ticket is read in every language, whatever its
    ``language`` field says); ``concepts`` holds per-concept changes;
    ``skip_boilerplate = false`` reads legal disclaimers and signature blocks
    too (`servicetriage.signals.boilerplate`).
    """

    enabled: bool = True
    use_defaults: bool = True
    skip_boilerplate: bool = True
    languages: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_tuple)
    concepts: FrozenMap[str, ConceptSettings] = attrs.field(factory=FrozenMap, converter=_to_concept_map)


# --------------------------------------------------------------------------
# Compilation


@attrs.frozen
class _Term:
    """One compiled term or exclusion."""

    concept: str
    text: str  # as written, for reasons
    languages: frozenset[str]
    exclusion: bool
    form: str  # the normalised term; its expression is built and compiled on first use (most never are)
    cjk: bool
    lead: int  # how far before its anchor the term may start (0: it starts at the anchor)

    @property
    def regex(self) -> re.Pattern[str]:
        """The term's compiled expression."""
        return _pattern(self.form)

    @property
    def source(self) -> str:
        """The source of `regex`."""
        return _term_source(self.form)


@functools.cache
def _pattern(form: str) -> re.Pattern[str]:
    """Build and compile one term's expression, once per process: doing all of them up front costs seconds."""
    return re.compile(_term_source(form))


def _is_cjk(text: str) -> bool:
    return has_han(text) or _KANA.search(text) is not None


def _piece(text: str, cjk: bool) -> str:
    """The regex of literal text: a space is a separator, an apostrophe optional, ``*`` lets a word go on."""
    out = []
    for char in text:
        if char == " ":
            out.append(r"\s*" if cjk else f"[^{_WORD}']+")
        elif char == "'" and not cjk:
            out.append("'?")
        elif char == "*":
            out.append(f"[{_WORD}']*")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _split(term: str) -> tuple[str, bool, bool, list[str]]:
    """A normalised term's body (without a leading ``*``), whether it had one, whether it is CJK, and its parts."""
    body = term.strip()
    free_start = body.startswith("*")
    body = body.removeprefix("*").strip()
    return body, free_start, _is_cjk(body), [p.strip() for p in body.split(_GAP.strip())]


def _parse(path: str, term: str) -> tuple[str, bool, int]:
    """Return ``(anchor, free_start, lead)`` of a normalised *term*; `PolicyError` if it matches anything.

    The anchor is the literal start of the term's first part, or, in Chinese
    and Japanese, of the first part long enough to look for (``向 ... 举报``
    is looked for at 举报); ``lead`` is then how many characters before the
    anchor the term may start. The term's expression is built by
    `_term_source` when the term is first needed.
    """
    body, free_start, cjk, parts = _split(term)
    misplaced = "*" in body and any(
        char == "*" and (index == 0 or not _IS_WORD.match(body[index - 1]) or body[index + 1 : index + 2].strip())
        for index, char in enumerate(body)
    )
    if any(not p for p in parts) or misplaced:
        msg = (
            f"{path}: expected '*' only at the start of a term or the end of a word, and text on both sides "
            f"of '...', got {term!r}"
        )
        raise PolicyError(msg)
    lead, first = 0, 0
    if cjk:
        while first < len(parts) - 1 and len(re.sub(r"\s", "", parts[first])) < 2:
            lead += len(parts[first]) + _CJK_GAP
            first += 1
    literal = re.sub(r"[\s'*]", "", parts[first])
    if len(literal) < 2 and (not literal or _IS_WORD.match(literal) or cjk):
        msg = (
            f"{path}: the term {term!r} starts with too short a part to mean anything on its own (it would "
            "match almost everything): its first part needs two characters"
        )
        raise PolicyError(msg)
    anchor = re.split(r"[ '*]", parts[first], maxsplit=1)[0]
    if not anchor:
        msg = f"{path}: the term {term!r} does not start with a letter or a character"
        raise PolicyError(msg)
    if cjk:
        return anchor, free_start or lead > 0, lead
    return _selective_anchor(parts[0], anchor, free_start=free_start)


#: Characters allowed for each separator between two words before a term's anchor (a run of spaces and
#: punctuation in the text).
_SEPARATOR_REACH = 6


def _selective_anchor(first_part: str, anchor: str, *, free_start: bool) -> tuple[str, bool, int]:
    """Look for a Latin term at its longest word (before any gap), not at a common first word.

    "the police" or "me sigue" looked for at "the" or "me" would try the term
    at every "the" of every text; at "police" and "sigue" it is tried where
    it can match. The term may then start ``lead`` characters before that
    word (the words before it, and a run of separators after each); the word
    is still looked for at a word start. A word before it that may go on
    (``*``), or a first word that may begin earlier, keeps the anchor on the
    first word.
    """
    # Words, and the pieces after an elision (d'urgence, l'aide): each piece starts after a non-word character.
    pieces: list[tuple[str, int, bool]] = []  # (literal piece, characters before it at most, may the next go on?)
    reach = 0
    for index, word in enumerate(first_part.split(" ")):
        for position, piece in enumerate(word.split("'")):
            core = piece.removesuffix("*")
            pieces.append((core, reach, piece.endswith("*") or (free_start and index == 0 and position == 0)))
            reach += len(core) + (1 if position < word.count("'") else _SEPARATOR_REACH)
    best = 0
    for index, (core, _, _) in enumerate(pieces):
        if index and len(core) > len(pieces[best][0]):
            best = index
        if pieces[index][2]:
            break
    if best == 0:
        return anchor, free_start, 0
    return pieces[best][0], False, pieces[best][1]


def _term_source(term: str) -> str:
    """The regular expression of a normalised term that `_parse` accepted (see the module documentation)."""
    body, free_start, cjk, parts = _split(term)
    if cjk:
        gap = rf"[^.!?;\n。！？；]{{0,{_CJK_GAP}}}?"
    else:
        gap = rf"(?:[^{_WORD}'.!?;\n]+[{_WORD}']+){{0,3}}[^{_WORD}'.!?;\n]+"
    regex = gap.join(_piece(p, cjk) for p in parts)
    if not free_start and _IS_WORD.match(body[0]):
        regex = f"(?<![{_WORD}])" + regex
    if _IS_WORD.match(body[-1]):
        regex += f"(?![{_WORD}])"
    return regex


def _cue_finder(cues: Iterable[str], *, plain: bool) -> CueFinder | None:
    # A Chinese cue counts in every script form, as Chinese terms do (没有 is also 沒有).
    forms = {form.strip() for c in cues if c.strip() for form in chinese_variants(c)}
    if not forms:
        return None
    return PlainCues(forms) if plain else FastCues(forms)


@attrs.frozen
class _Cues:
    #: Negation and hypothetical cues alike drop a hit they stand next to: one pattern before, one after.
    before: CueFinder | None
    after: CueFinder | None
    past: CueFinder | None
    conjunctions: CueFinder | None


class LexiconDetector:
    """Find signal concepts by their terms, in every supported language, with exclusions and context.

    Build it from `LexiconSettings` (the defaults when none are given). It
    is immutable, thread-safe and picklable; compiling the shipped lexicons
    takes a moment, so detectors built from equal settings are shared.

    >>> from datetime import UTC, datetime
    >>> from servicetriage.model import Customer, Ticket
    >>> ticket = Ticket(id="T1", opened_at=datetime(2026, 5, 1, tzinfo=UTC), customer=Customer(id="C1"),
    ...                 text="SOS! The driver won't let me out")
    >>> sorted({d.concept for d in LexiconDetector().detect(ticket)})
    ['safety.sos', 'safety.trapped']
    """

    __slots__ = ("_category", "_cues", "_fields", "_matcher", "_settings")
    name = "lexicon"
    _settings: LexiconSettings
    _matcher: FastMatcher[_Term] | PlainMatcher[_Term] | None
    _cues: dict[str, _Cues]
    _fields: dict[str, tuple[str, ...]]
    _category: bool

    def __new__(cls, settings: LexiconSettings | None = None) -> LexiconDetector:  # noqa: PYI034 - a shared instance
        """Return the detector for *settings* (the default lexicons when ``None``), compiled once and shared."""
        return _compiled(settings if settings is not None else LexiconSettings())

    @classmethod
    def _build(cls, settings: LexiconSettings, *, plain: bool = False) -> LexiconDetector:
        """Compile a detector for *settings*; with *plain*, one that matches terms the plain way (for checks)."""
        self = object.__new__(cls)
        self._settings = settings
        known = concepts()
        defaults = default_lexicons()
        languages = settings.languages if settings.languages is not None else LANGUAGES
        for index, language in enumerate(languages):
            if language not in defaults:
                msg = (
                    f"lexicon.languages[{index}]: unknown language {language!r}; expected one of {', '.join(LANGUAGES)}"
                )
                raise PolicyError(msg)
        for concept_id, change in settings.concepts.items():
            if concept_id not in known:
                msg = f"lexicon.concepts.{concept_id}: unknown concept; expected one of {', '.join(known)}"
                raise PolicyError(msg)
            for kind in ("add", "remove", "exclusions"):
                for language in getattr(change, kind):
                    if language != "any" and language not in defaults:
                        msg = (
                            f"lexicon.concepts.{concept_id}.{kind}.{language}: unknown language; "
                            f"expected one of any, {', '.join(LANGUAGES)}"
                        )
                        raise PolicyError(msg)

        # (concept, exclusion?, normalised term) -> (term as written, languages, path)
        entries: dict[tuple[str, bool, str], tuple[str, set[str], str]] = {}

        def put(concept_id: str, term: str, language: str, path: str, *, exclusion: bool) -> None:
            key = (concept_id, exclusion, normalize(term).strip())
            entry = entries.setdefault(key, (term, set(), path))
            entry[1].add(language)

        if settings.use_defaults:
            for language in languages:
                lexicon = defaults[language]
                for concept_id, terms in lexicon.terms.items():
                    for index, term in enumerate(terms):
                        where = f"lang/{language}.toml: concepts.{concept_id}.terms[{index}]"
                        put(concept_id, term, language, where, exclusion=False)
                for concept_id, terms in lexicon.exclusions.items():
                    for index, term in enumerate(terms):
                        where = f"lang/{language}.toml: concepts.{concept_id}.exclusions[{index}]"
                        put(concept_id, term, language, where, exclusion=True)
        for concept_id, change in settings.concepts.items():
            for terms in change.remove.values():
                for term in terms:
                    entries.pop((concept_id, False, normalize(term).strip()), None)
            for language, terms in change.add.items():
                for index, term in enumerate(terms):
                    where = f"lexicon.concepts.{concept_id}.add.{language}[{index}]"
                    put(concept_id, term, language, where, exclusion=False)
            for language, terms in change.exclusions.items():
                for index, term in enumerate(terms):
                    where = f"lexicon.concepts.{concept_id}.exclusions.{language}[{index}]"
                    put(concept_id, term, language, where, exclusion=True)

        anchors: dict[str, list[_Term]] = {}
        kinds: set[tuple[str, bool]] = set()
        for (concept_id, exclusion, normal), (written, term_languages, path) in entries.items():
            for form in chinese_variants(normal):
                anchor, free_start, lead = _parse(path, form)
                compiled = _Term(concept_id, written, frozenset(term_languages), exclusion, form, _is_cjk(form), lead)
                anchors.setdefault(anchor, []).append(compiled)
                # Only a Latin word start is "bounded"; one trie branch per first character otherwise.
                kinds.add((anchor, free_start or not _IS_WORD.match(anchor[0])))
        table = {anchor: tuple(terms) for anchor, terms in anchors.items()}
        matcher = PlainMatcher if plain else FastMatcher
        self._matcher = matcher(table, kinds) if table else None

        cue_languages = set(languages) | {"any"}

        def cues_of(language: str) -> _Cues:
            lexicon = defaults.get(language)
            if lexicon is None:
                return _Cues(None, None, None, None)
            return _Cues(
                _cue_finder(lexicon.negation + lexicon.hypothetical, plain=plain),
                _cue_finder(lexicon.negation_after + lexicon.hypothetical_after, plain=plain),
                _cue_finder(lexicon.past, plain=plain),
                _cue_finder(lexicon.conjunctions, plain=plain),
            )

        self._cues = {language: cues_of(language) for language in cue_languages}
        self._fields = {
            concept_id: change.fields for concept_id, change in settings.concepts.items() if change.fields is not None
        }
        self._category = any("category" in fields for fields in self._fields.values())
        return self

    @property
    def settings(self) -> LexiconSettings:
        """The settings this detector was built from."""
        return self._settings

    def __reduce__(self) -> tuple[object, ...]:
        return (LexiconDetector, (self._settings,))

    def detect(self, ticket: Ticket) -> tuple[Detection, ...]:
        """Return every concept hit in *ticket*'s subject and text (and category where a policy asks)."""
        return self.scan(ticket.subject, ticket.text, ticket.category)

    def scan(self, subject: str, text: str, category: str = "") -> tuple[Detection, ...]:
        """Return every concept hit in the given field values, in order of field and position."""
        matcher = self._matcher
        if matcher is None:
            return ()
        found: list[Detection] = []
        for field, value in (("subject", subject), ("text", text), ("category", category)):
            if not value or (field == "category" and not self._category):
                continue
            normal = normalize(value)
            if field == "text" and self._settings.skip_boilerplate:
                normal = blank_boilerplate(normal)
            terms, exclusions = matcher.matches(normal)
            if terms:
                found.extend(self._judge(field, normal, terms, exclusions))
        return tuple(found)

    def _judge(
        self, field: str, text: str, terms: list[tuple[_Term, int, int]], exclusions: list[tuple[_Term, int, int]]
    ) -> list[Detection]:
        result: list[Detection] = []
        seen: set[tuple[str, int]] = set()
        for term, start, end in terms:
            if (term.concept, start) in seen:
                continue
            allowed = self._fields.get(term.concept)
            if allowed is not None and field not in allowed:
                continue
            if any(x.concept == term.concept and xs < end and start < xe for x, xs, xe in exclusions):
                continue
            if self._negated(term, text, start, end):
                continue
            seen.add((term.concept, start))
            result.append(
                Detection(
                    concept=term.concept,
                    term=term.text,
                    field=field,
                    language=",".join(sorted(term.languages)),
                    start=start,
                    end=end,
                    detector="lexicon",
                )
            )
        return result

    def _negated(self, term: _Term, text: str, start: int, end: int) -> bool:
        if term.concept == "doubt":
            return False
        clause_start = lo = max(0, start - _CLAUSE_REACH)
        for index in range(start - 1, lo - 1, -1):
            if text[index] in _CLAUSE_END:
                clause_start = index + 1
                break
        tail = _CLAUSE_BREAK.search(text, end, end + _CLAUSE_REACH)
        clause_end = tail.start() if tail is not None else min(len(text), end + _CLAUSE_REACH)
        languages = term.languages | _CJK_LANGUAGES if term.cjk else term.languages
        cues = [cue for language in languages if (cue := self._cues.get(language)) is not None]
        # A conjunction begins a new clause: a cue beyond the nearest one on either side does not reach the hit.
        before_start, after_end = clause_start, clause_end
        for cue in cues:
            if cue.conjunctions is None:
                continue
            for found in cue.conjunctions.finditer(text, before_start, start):
                before_start = found.end()
            found_after = cue.conjunctions.search(text, end, after_end)
            if found_after is not None:
                after_end = found_after.start()
        before = text[before_start:start]
        after = text[end:after_end]
        # A cue ends in the few words (characters) before the hit, or begins in those after it; a cue of
        # several words (characters) may reach further.
        if term.cjk:
            before_window = before.replace(" ", "")[-_CHARS_NEAR - _CUE_CHARS :]
            reach_before = len(before_window) - _CHARS_NEAR
            after_window = after.replace(" ", "")[: _CHARS_NEAR + _CUE_CHARS]
            reach_after = _CHARS_NEAR
        else:
            words = before.split()
            before_window = " ".join(words[-_WORDS_BEFORE - _CUE_WORDS :])
            reach_before = len(before_window) - len(" ".join(words[-_WORDS_BEFORE:]))
            words = after.split()
            after_window = " ".join(words[: _WORDS_AFTER + _CUE_WORDS])
            reach_after = len(" ".join(words[:_WORDS_AFTER]))
        # A past cue speaks of the clause the hit is in: from the conjunction before it to the clause's end.
        clause = text[before_start:clause_end]
        for cue in cues:
            if cue.before is not None and cue.before.ends_after(before_window, reach_before):
                return True
            if cue.after is not None and cue.after.starts_before(after_window, reach_after):
                return True
            if cue.past is not None and cue.past.search(clause):
                return True
        return False


@functools.lru_cache(maxsize=32)
def _compiled(settings: LexiconSettings) -> LexiconDetector:
    return LexiconDetector._build(settings)  # noqa: SLF001 - the one constructor, shared through this cache
