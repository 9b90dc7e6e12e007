"""The fast lexicon matcher finds exactly what the plain matcher finds: same concepts, terms, fields, spans, context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage.signals._matching import FastCues, PlainCues
from servicetriage.signals.lexicon import ConceptSettings, LexiconDetector, LexiconSettings, default_lexicons

CORPUS = Path(__file__).parent / "corpus" / "dev"

FAST = LexiconDetector()
PLAIN = LexiconDetector._build(LexiconSettings(), plain=True)


def _pieces() -> list[str]:
    """Real terms (a sample of every language, written as customers would), cues, and noise."""
    pieces: set[str] = set()
    for lexicon in default_lexicons().values():
        for terms in (*lexicon.terms.values(), *lexicon.exclusions.values()):
            pieces.update(term.replace("*", "").replace(" ... ", " xx ") for term in terms[:6])
        pieces.update(lexicon.negation[:8] + lexicon.negation_after[:4] + lexicon.past[:4])
        pieces.update(lexicon.hypothetical[:4] + lexicon.hypothetical_after[:4] + lexicon.conjunctions[:4])
    return sorted(pieces)


_PIECES = _pieces()
_NOISE = st.sampled_from(
    [" ", "  ", ", ", ". ", "!", "?", "\n", "'", "-", "。", "，", "的", "了", "我", "k", "s", "a", "the ", "ß", "é",
     "Ｓ", "😡", "发", "1000", "#", "(sic)", "kinder", "notfall", "x"]
)  # fmt: skip
_TEXT = st.lists(st.sampled_from(_PIECES) | _NOISE | st.text(max_size=4), max_size=14).map("".join)


def same(subject: str, text: str, category: str = "") -> None:
    assert FAST.scan(subject, text, category) == PLAIN.scan(subject, text, category)


@settings(max_examples=300)
@given(_TEXT, _TEXT)
def test_fast_matches_equal_plain_matches_on_texts_of_real_terms_cues_and_noise(subject: str, text: str) -> None:
    same(subject, text)


@settings(max_examples=100)
@given(st.text(), st.text(st.characters(codec="ascii")))
def test_fast_matches_equal_plain_matches_on_any_text(subject: str, text: str) -> None:
    same(subject, text)


_POLICY_TERMS = ["fire", "*notfall", "brand", "*brand new", "kind", "*kinder", "向 ... 举报", "*k views"]
_POLICY_TEXT = ["fire", "kinder", "notfall", "brand new", "向监管举报", "kindle ", " ", "-", "Gas", "3k views"]


@settings(max_examples=100)
@given(
    st.lists(st.sampled_from(_POLICY_TERMS), min_size=1, max_size=5, unique=True),
    st.lists(st.sampled_from(["kindle fire", "brand new"]), max_size=2, unique=True),
    st.lists(st.sampled_from(_POLICY_TEXT), max_size=10).map("".join),
)
def test_fast_matches_equal_plain_matches_under_policy_terms(
    terms: list[str], exclusions: list[str], text: str
) -> None:
    settings_ = LexiconSettings(
        use_defaults=False,
        concepts={
            "safety.hazard": ConceptSettings(add={"any": terms}, exclusions={"any": exclusions}, fields=("text",))
        },
    )
    fast, plain = LexiconDetector(settings_), LexiconDetector._build(settings_, plain=True)
    assert fast.scan(text, text) == plain.scan(text, text)


def _rows(path: Path) -> list[tuple[str, str, str]]:
    return [
        (row.get("subject") or "", row.get("text") or "", row.get("category") or "")
        for row in map(json.loads, filter(str.strip, path.read_text(encoding="utf-8").splitlines()))
    ]


@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.glob("*.jsonl")))
def test_fast_matches_equal_plain_matches_on_every_development_ticket(name: str) -> None:
    rows = _rows(CORPUS / name)
    assert rows
    for subject, text, category in rows:
        same(subject, text, category or "general")


_CUE_CHARS = st.sampled_from(list("ab é'-没有不 。x"))
_CUES = st.lists(st.text(_CUE_CHARS, min_size=1, max_size=5).filter(str.strip), min_size=1, max_size=8)


@settings(max_examples=300)
@given(_CUES, st.text(_CUE_CHARS, max_size=30), st.integers(0, 31), st.integers(0, 31))
def test_fast_cues_find_what_plain_cues_find(cues: list[str], text: str, pos: int, reach: int) -> None:
    """Every question the detector asks of its cues gets the same answer from the trie as from the plain list."""
    fast, plain = FastCues(cues), PlainCues(cues)

    def spans(found: object) -> tuple[int, int] | None:
        return None if found is None else found.span()  # type: ignore[attr-defined]

    assert spans(fast.search(text, pos)) == spans(plain.search(text, pos))
    assert [m.span() for m in fast.finditer(text, 0, pos)] == [m.span() for m in plain.finditer(text, 0, pos)]
    assert fast.ends_after(text, reach) == plain.ends_after(text, reach)
    assert fast.starts_before(text, reach) == plain.starts_before(text, reach)
