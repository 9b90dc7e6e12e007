"""The lexicon detector: normal forms, term syntax, exclusions, context cues, policy changes and bad input."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage.errors import PolicyError
from servicetriage.signals.lexicon import (
    LANGUAGES,
    ConceptSettings,
    LexiconDetector,
    LexiconSettings,
    concepts,
    default_lexicons,
)
from servicetriage.signals.normalize import chinese_variants, normalize, normalize_plain


def only(concept: str, *terms: str, language: str = "any", exclusions: tuple[str, ...] = ()) -> LexiconDetector:
    """A detector with no shipped terms: just *terms* (and *exclusions*) for *concept*."""
    return LexiconDetector(
        LexiconSettings(
            use_defaults=False,
            concepts={concept: ConceptSettings(add={language: terms}, exclusions={language: exclusions})},
        )
    )


def found(detector: LexiconDetector, text: str, subject: str = "") -> list[tuple[str, str]]:
    return [(d.concept, d.term) for d in detector.scan(subject, text)]


# --------------------------------------------------------------------------
# Normal form


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("ＳＯＳ！", "sos!"),
        ("Notfälle", "notfalle"),
        ("Straße", "strasse"),
        ("¡Socorro! EMERGENCIA", "¡socorro! emergencia"),
        ("won\u2019t", "won't"),
        ("ｶﾞｽ漏れ", "ガス漏れ"),
        ("Crème brûlée", "creme brulee"),
    ],
)
def test_normal_form_folds_width_case_diacritics_and_quotes(text: str, normal: str) -> None:
    assert normalize(text) == normal


_TRICKY = st.sampled_from(list("éèêëàâäçñüößÉÀÇÑÜ\u0301\u0308\u0323ŉǅ≠Åй’‘“”´ＳＯＳ。，ｶﾞ救命"))


@settings(max_examples=500)
@given(st.text(st.characters(codec=None) | _TRICKY))
def test_the_fast_normal_form_equals_every_step_applied(text: str) -> None:
    assert normalize(text) == normalize_plain(text)


def test_normal_form_keeps_japanese_voicing_marks() -> None:
    assert normalize("ガスが漏れている") == "ガスが漏れている"


@pytest.mark.parametrize(
    ("simplified", "written"),
    [("报警", "報警"), ("车祸", "車禍"), ("出租车司机不让我下车", "計程車司機不讓我下車"), ("消协", "消協")],
)
def test_a_simplified_term_has_its_traditional_and_regional_forms(simplified: str, written: str) -> None:
    assert written in chinese_variants(simplified)


def test_a_term_without_chinese_has_one_form() -> None:
    assert chinese_variants("Help!") == ("help!",)


# --------------------------------------------------------------------------
# Term syntax


def test_latin_terms_match_whole_words_only() -> None:
    detector = only("safety.hazard", "fire")
    assert found(detector, "FIRE in the kitchen") == [("safety.hazard", "fire")]
    assert found(detector, "the firewall blocks me") == []
    assert found(detector, "campfire songs") == []


def test_a_star_lets_a_word_go_on_or_begin_earlier() -> None:
    detector = only("safety.violence", "threaten*")
    assert [t for _, t in found(detector, "he threatened me, threatening again")] == ["threaten*", "threaten*"]
    compounds = only("safety.sos", "*notfall")
    assert found(compounds, "Ein Gasnotfall im Hotel") == [("safety.sos", "*notfall")]
    assert found(compounds, "Notfallkontakt") == []


def test_a_space_matches_punctuation_and_an_apostrophe_is_optional() -> None:
    detector = only("safety.trapped", "won't let me out")
    assert found(detector, "he WONT let me out!!") == [("safety.trapped", "won't let me out")]
    assert found(detector, "he won't -- let me, out") == [("safety.trapped", "won't let me out")]


def test_a_gap_spans_a_few_words_or_characters() -> None:
    latin = only("safety.trapped", "won't let me ... out")
    assert found(latin, "the driver won't let me get out") != []
    assert found(latin, "won't let me know when you are out of stock") == []
    cjk = only("safety.trapped", "司机 ... 下车", language="zh-Hans")
    assert found(cjk, "司机就是不让我下车") != []
    assert found(cjk, "司机说了很多很多很多话然后下车") == []


def test_chinese_terms_match_anywhere_in_either_script() -> None:
    detector = only("police", "报警", language="zh-Hans")
    assert found(detector, "我已經報警了") == [("police", "报警")]
    assert found(detector, "已报警") == [("police", "报警")]


def test_a_term_may_start_with_a_short_part_before_a_gap() -> None:
    detector = only("regulator.generic", "向 ... 举报", language="zh-Hans")
    hit = LexiconDetector.scan(detector, "", "我要向监管部门举报")
    assert [(d.concept, d.start) for d in hit] == [("regulator.generic", 2)]


def test_an_exclusion_drops_the_hits_it_overlaps() -> None:
    detector = only("safety.hazard", "fire", exclusions=("kindle fire", "fire stick"))
    assert found(detector, "My Kindle Fire will not charge") == []
    assert found(detector, "fire stick remote lost") == []
    assert found(detector, "Kindle Fire broke and now there is a fire") == [("safety.hazard", "fire")]


def test_a_detection_names_the_field_and_the_position() -> None:
    detector = only("safety.sos", "sos")
    (hit,) = detector.scan("SOS now", "nothing here")
    assert (hit.field, hit.start, hit.end, hit.language, hit.detector) == ("subject", 0, 3, "any", "lexicon")


def test_a_concept_can_be_limited_to_some_fields() -> None:
    settings = LexiconSettings(
        use_defaults=False,
        concepts={"safety.violence": ConceptSettings(add={"en": ("threatened",)}, fields=("text",))},
    )
    detector = LexiconDetector(settings)
    assert detector.scan("Threatened to sue on too old debt", "please call me") == ()
    assert [d.field for d in detector.scan("", "he threatened me")] == ["text"]
    category = LexiconDetector(
        LexiconSettings(
            use_defaults=False, concepts={"safety.sos": ConceptSettings(add={"en": ("sos",)}, fields=("category",))}
        )
    )
    assert [d.field for d in category.scan("sos", "sos", "sos")] == ["category"]


# --------------------------------------------------------------------------
# Context


def test_a_negation_cue_just_before_a_term_drops_it() -> None:
    cue = default_lexicons()["en"].negation[0]
    detector = only("safety.sos", "emergency", language="en")
    assert found(detector, f"this is {cue} an emergency") == []
    assert found(detector, f"{cue} problem. This is an emergency") == [("safety.sos", "emergency")]


def test_a_past_cue_in_the_clause_drops_the_hit() -> None:
    lexicon = default_lexicons()["zh-Hans"]
    assert lexicon.past, "zh-Hans has past cues"
    detector = only("safety.medical", "受伤", language="zh-Hans")
    assert found(detector, f"{lexicon.past[0]}我受伤了，跟这次无关") == []
    assert found(detector, "我刚刚受伤了") == [("safety.medical", "受伤")]


def test_a_conjunction_ends_the_reach_of_a_negation_cue() -> None:
    detector = only("safety.hazard", "on fire", language="en")
    assert found(detector, "the car is not on fire") == []
    assert found(detector, "not a problem with the app and the car is on fire") == [("safety.hazard", "on fire")]
    german = only("safety.hazard", "brennt", language="de")
    assert found(german, "es brennt nicht, kein Problem") == [("safety.hazard", "brennt")]
    assert found(german, "kein Problem brennt") == []
    assert found(german, "kein Problem mit der App und jetzt brennt es") == [("safety.hazard", "brennt")]
    chinese = only("safety.hazard", "着火", language="zh-Hans")
    assert found(chinese, "没有着火") == []
    assert found(chinese, "没有问题但着火了") == [("safety.hazard", "着火")]
    japanese = only("safety.hazard", "火事", language="ja")
    assert found(japanese, "火事ではない") == []
    assert found(japanese, "火事だけどではない") == [("safety.hazard", "火事")]


def test_a_past_cue_after_the_hit_still_dates_it_and_one_before_a_conjunction_does_not() -> None:
    detector = only("safety.hazard", "caught fire", language="en")
    assert found(detector, "it caught fire but that was years ago") == []
    assert found(detector, "I bought it years ago and today it caught fire") == [("safety.hazard", "caught fire")]


def test_a_hypothetical_cue_next_to_a_term_drops_it() -> None:
    detector = only("safety.hazard", "fire alarm", language="en")
    assert found(detector, "what if the fire alarm goes off at night?") == []
    assert found(detector, "the fire alarm is going off and the corridor is full of smoke") == [
        ("safety.hazard", "fire alarm")
    ]
    japanese = only("safety.hazard", "火事", language="ja")
    assert found(japanese, "火事の場合はどうすればいいですか") == []
    assert found(japanese, "火事が起きたらどうなりますか") == []
    assert found(japanese, "隣の部屋が火事です") == [("safety.hazard", "火事")]
    chinese = only("safety.hazard", "着火", language="zh-Hans")
    assert found(chinese, "如果着火了怎么办") == []


def test_a_cue_of_several_words_counts_when_it_ends_near_the_term() -> None:
    lexicon = default_lexicons()["en"]
    assert "nothing to do with" in lexicon.negation
    detector = only("safety.hazard", "zorbfire", language="en")
    assert found(detector, "this has nothing to do with zorbfire") == []
    assert found(detector, "this has nothing to do with my order, zorbfire") == [("safety.hazard", "zorbfire")]


def _conjunction_cases() -> list[tuple[str, str, bool, str]]:
    """(language, cue, whether the cue stands before the term, conjunction) for every cue and conjunction."""
    cases: list[tuple[str, str, bool, str]] = []
    for language, lexicon in default_lexicons().items():
        sided = [(cue, True) for cue in lexicon.negation + lexicon.hypothetical] + [
            (cue, False) for cue in lexicon.negation_after + lexicon.hypothetical_after
        ]
        cases.extend((language, cue, before, word) for cue, before in sided for word in lexicon.conjunctions)
    return cases


@settings(max_examples=300)
@given(st.sampled_from(_conjunction_cases()))
def test_no_negation_cue_reaches_across_a_conjunction(case: tuple[str, str, bool, str]) -> None:
    """Whatever cue and conjunction of a language: the cue drops the term next to it, never one past a conjunction."""
    language, cue, before, conjunction = case
    cjk = language in {"zh-Hans", "zh-Hant", "ja"}
    term = "着火" if cjk else "zorbfire"
    detector = only("safety.hazard", term, language=language)
    if cjk:
        near, far = (
            (f"{cue}{term}", f"{cue}{conjunction}{term}") if before else (f"{term}{cue}", f"{term}{conjunction}{cue}")
        )
    else:
        near, far = (
            (f"{cue} {term}", f"{cue} delay {conjunction} {term}")
            if before
            else (f"{term} {cue}", f"{term} {conjunction} {cue}")
        )
    assert found(detector, near) == []
    assert found(detector, far) == [("safety.hazard", term)]


def test_every_language_has_conjunctions() -> None:
    assert all(lexicon.conjunctions for lexicon in default_lexicons().values())


def test_false_alarm_hints_are_never_negated() -> None:
    cue = default_lexicons()["en"].negation[0]
    detector = only("doubt", "by mistake", language="en")
    assert found(detector, f"{cue} by mistake") == [("doubt", "by mistake")]


# --------------------------------------------------------------------------
# Agreement with a plain matcher

_ALNUM = re.compile(r"[0-9a-z]")


def occurs(term: str, text: str) -> bool:
    """The obvious check for a plain term: found in *text*, not touching a letter or digit at an ASCII edge."""
    term, text = normalize(term), normalize(text)
    start = text.find(term)
    while start != -1:
        end = start + len(term)
        left = not (_ALNUM.match(term[0]) and start > 0 and _ALNUM.match(text[start - 1]))
        right = not (_ALNUM.match(term[-1]) and end < len(text) and _ALNUM.match(text[end]))
        if left and right:
            return True
        start = text.find(term, start + 1)
    return False


_WORDS = ["sos", "fire", "help", "救命", "报警", "警察", "police", "firewall", "x", "ab", "救", "命", "警"]


@given(
    st.lists(st.sampled_from(["sos", "fire", "救命", "报警", "police"]), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from([*_WORDS, " ", "，", "!", "-"]), max_size=12).map("".join),
)
def test_plain_terms_are_found_exactly_where_a_plain_search_finds_them(terms: list[str], text: str) -> None:
    detector = only("safety.sos", *terms)
    expected = {t for t in terms if occurs(t, text)}
    assert {d.term for d in detector.scan("", text)} == expected


# --------------------------------------------------------------------------
# Data and settings


def test_every_concept_has_terms_in_every_supported_language() -> None:
    lexicons = default_lexicons()
    missing = [
        f"{language}: {concept}"
        for language in LANGUAGES
        for concept in concepts()
        if not lexicons[language].terms.get(concept)
    ]
    assert missing == []


def test_the_shipped_lexicons_compile_and_find_an_sos_in_every_language() -> None:
    detector = LexiconDetector()
    for language in LANGUAGES:
        term = default_lexicons()[language].terms["safety.sos"][0].strip("*")
        if " ... " in term:
            continue
        assert any(d.concept == "safety.sos" for d in detector.scan("", term)), (language, term)


def test_detectors_of_equal_settings_are_shared_and_pickle() -> None:
    settings = LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("bobby",)})})
    detector = LexiconDetector(settings)
    assert LexiconDetector(LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("bobby",)})})) is detector
    again = pickle.loads(pickle.dumps(detector))
    assert found(again, "call the bobby") == found(detector, "call the bobby") != []


def test_removing_a_shipped_term_turns_it_off() -> None:
    term = default_lexicons()["en"].terms["police"][0]
    settings = LexiconSettings(concepts={"police": ConceptSettings(remove={"en": (term,)})})
    assert all(d.term != term for d in LexiconDetector(settings).scan("", term.strip("*")))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (lambda: LexiconSettings(concepts={"safety.weather": ConceptSettings()}), "lexicon.concepts.safety.weather"),
        (lambda: LexiconSettings(languages=("tlh",)), "lexicon.languages[0]: unknown language 'tlh'"),
        (
            lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"xx": ("cop",)})}),
            "lexicon.concepts.police.add.xx: unknown language",
        ),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("",)})}), "expected a non-empty term"),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("a",)})}), "too short"),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("*",)})}), "'*' only"),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("co*p",)})}), "'*' only"),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(add={"en": ("cop ... ",)})}), "'*' only"),
        (lambda: LexiconSettings(concepts={"police": ConceptSettings(fields=("body",))}), "fields[0]"),
    ],
    ids=[
        "unknown-concept",
        "unknown-language",
        "unknown-term-language",
        "empty-term",
        "one-letter",
        "only-a-star",
        "star-inside",
        "gap-at-end",
        "unknown-field",
    ],
)
def test_bad_lexicon_settings_are_refused_with_the_path(settings: object, message: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(message)):
        LexiconDetector(settings())  # type: ignore[operator]
