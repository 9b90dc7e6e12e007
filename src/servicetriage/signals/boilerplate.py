r"""What surrounds a customer's words in an e-mail and is not theirs: legal disclaimers and signature blocks.

A company's disclaimer under a complaint ("... in an emergency call 112",
"if you are not the intended recipient, notify the sender") and a
signature below the delimiter ``--`` are not the customer saying anything.
`blank_boilerplate` replaces them with spaces, keeping line breaks and every
other character where it was, so the lexicon's positions still point into
the text the customer sent.

Found in the text's normal form (`servicetriage.signals.normalize`), with
the words of every supported language at once (the ``language`` field is
never read) from ``signals/data/boilerplate.toml``:

- a *disclaimer* is a paragraph (lines between blank lines) holding a
  confidentiality word and an addressee word ("confidential" and "intended
  recipient", "vertraulich" and "Empfänger", 机密 and 收件人), and never the
  message's first paragraph; paragraphs after it holding either word belong
  to it;
- a *signature* is what follows a line that is only the delimiter ``--``,
  to the end of its paragraph: at most five short lines, and no line that
  starts a postscript ("PS", "P.S.", "NB") or is longer than a signature
  line can be (then nothing is blanked).

Quoted earlier messages are not boilerplate: a forwarded thread may hold the
customer's own emergency that nobody answered. Nor is a sign-off such as
"Thanks,": in a chat, the lines after it are the customer still writing.

>>> blank_boilerplate("late again\n--\njo smith, fire warden")
'late again\n--\n                     '
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources

__all__ = ["blank_boilerplate", "boilerplate_spans"]

#: A signature is at most this many lines, each at most this long (characters, in the normal form).
_SIGNATURE_LINES = 5
_SIGNATURE_WIDTH = 80
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")
_LINE = re.compile(r"[^\n]+")
_POSTSCRIPT = re.compile(r"\s*(?:p\.?\s?s\b|n\.?\s?b\b|pd\b|追伸|另外|又及|附注|附註)")
_DELIMITER = re.compile(r"[ \t]*--[ \t\r]*")


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The confidentiality and addressee patterns of every language, compiled once."""
    source = resources.files("servicetriage.signals").joinpath("data", "boilerplate.toml").read_text(encoding="utf-8")
    words: dict[str, set[str]] = {"confidential": set(), "addressee": set()}
    for table in tomllib.loads(source).values():
        for kind, found in words.items():
            found.update(table.get(kind, []))
    confidential, addressee = (_either(words[kind]) for kind in ("confidential", "addressee"))
    return confidential, addressee


def _either(words: set[str]) -> re.Pattern[str]:
    """One pattern for *words*: a Latin word matches whole, a Chinese or Japanese one anywhere."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        piece = re.escape(word)
        if word[0].isascii() and word[0].isalnum():
            piece = r"(?<![^\W_])" + piece
        if word[-1].isascii() and word[-1].isalnum():
            piece += r"(?![^\W_])"
        parts.append(piece)
    return re.compile("|".join(parts))


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for found in _PARAGRAPH_BREAK.finditer(text):
        if text[start : found.start()].strip():
            spans.append((start, found.start()))
        start = found.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _signature(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The signature after a ``--`` line in text[start:end], if that paragraph has one."""
    lines = [(found.start(), found.end()) for found in _LINE.finditer(text, start, end)]
    for number, (line_start, line_end) in enumerate(lines):
        if _DELIMITER.fullmatch(text, line_start, line_end) is None:
            continue
        rest = lines[number + 1 :]
        if not rest or len(rest) > _SIGNATURE_LINES:
            return None
        for rest_start, rest_end in rest:
            line = text[rest_start:rest_end]
            if len(line.strip()) > _SIGNATURE_WIDTH or _POSTSCRIPT.match(line):
                return None
        return rest[0][0], rest[-1][1]
    return None


def boilerplate_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of *text* (in its normal form) that are disclaimers or signatures, in order."""
    confidential, addressee = _patterns()
    spans: list[tuple[int, int]] = []
    in_disclaimer = False
    for index, (start, end) in enumerate(_paragraphs(text)):
        has_confidential = confidential.search(text, start, end) is not None
        has_addressee = addressee.search(text, start, end) is not None
        disclaimer = (has_confidential and has_addressee) or (in_disclaimer and (has_confidential or has_addressee))
        if index > 0 and disclaimer:
            spans.append((start, end))
            in_disclaimer = True
            continue
        in_disclaimer = False
        signature = _signature(text, start, end) if "--" in text[start:end] else None
        if signature is not None:
            spans.append(signature)
    return spans


def blank_boilerplate(text: str) -> str:
    """Return *text* with its disclaimers and signatures replaced by spaces (line breaks kept)."""
    if "\n" not in text:  # one line: one paragraph, no signature (most tickets)
        return text
    spans = boilerplate_spans(text)
    if not spans:
        return text
    pieces = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(re.sub(r"[^\n]", " ", text[start:end]))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
