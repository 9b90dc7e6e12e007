"""Disclaimers and signatures under an e-mail are not read; the customer's own words always are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.model import Customer, Ticket
from servicetriage.signals.boilerplate import blank_boilerplate, boilerplate_spans
from servicetriage.signals.lexicon import LexiconDetector, LexiconSettings
from servicetriage.signals.normalize import normalize

READ_ALL = LexiconDetector(LexiconSettings(skip_boilerplate=False))
DETECTOR = LexiconDetector()

DISCLAIMERS = [
    "This e-mail is confidential. If you are not the intended recipient, notify the sender. Call 911 if unsafe.",
    "AVISO LEGAL: este mensaje es confidencial. Si usted no es el destinatario, llame al 112.",
    "Ce message est confidentiel. Si vous n'êtes pas le destinataire, appelez le 17 ou la police.",
    "Diese E-Mail ist vertraulich. Sind Sie nicht der richtige Empfänger, Notruf 112.",
    "本邮件含有机密信息，如您并非指定收件人，请立即删除。遇到危险请拨打110报警。",
    "本メールは機密情報を含みます。受信者以外の方は破棄してください。身の危険を感じたら110番通報してください。",
]


def concepts(detector: LexiconDetector, text: str) -> set[str]:
    ticket = Ticket(id="T", opened_at=datetime(2026, 5, 1, tzinfo=UTC), customer=Customer(id="C"), text=text)
    return {detection.concept.split(".")[0] for detection in detector.detect(ticket)}


@pytest.mark.parametrize("disclaimer", DISCLAIMERS)
def test_a_disclaimer_under_a_message_raises_no_alarm(disclaimer: str) -> None:
    text = f"Please move my delivery to Saturday.\n\nThanks,\nJavi\n\n{disclaimer}"
    assert concepts(READ_ALL, text) & {"safety", "police"}, "the disclaimer alone would raise an alarm"
    assert concepts(DETECTOR, text) == set()


@pytest.mark.parametrize("disclaimer", DISCLAIMERS)
def test_a_disclaimer_never_hides_the_message_above_it(disclaimer: str) -> None:
    text = f"Help, the driver will not let me out of the car!\n\n{disclaimer}"
    assert "safety" in concepts(DETECTOR, text)


def test_the_first_paragraph_is_always_read_even_if_it_looks_like_a_disclaimer() -> None:
    text = "confidential: not the intended recipient of my parcel, and the courier threatened to kill me"
    assert "safety" in concepts(DETECTOR, text)
    assert boilerplate_spans(normalize(text)) == []


def test_a_signature_below_the_delimiter_is_not_read() -> None:
    text = "Invoice 2291 is wrong, please correct it.\n--\nJo Smith\nFire Warden, Acme Ltd"
    assert "safety" in concepts(READ_ALL, text)
    assert concepts(DETECTOR, text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "my order is late\n--\nP.S. the driver followed me home and is outside my door",
        "order late\n--\na\nb\nc\nd\ne\nhe is outside my door with a knife",
        "order late\n--\nhe is still outside my door, he said he knows where I live and will come back for me tonight",
        "thanks\nhe is outside my door with a knife",
    ],
)
def test_what_cannot_be_a_signature_is_read(text: str) -> None:
    assert "safety" in concepts(DETECTOR, text)


def test_a_quoted_earlier_message_is_read() -> None:
    text = "Forwarding again, nobody answered.\n\n> On Monday I wrote:\n> the driver will not let me out of the car"
    assert "safety" in concepts(DETECTOR, text)


_PIECE = st.sampled_from(
    ["\n", "\n\n", "--", "\n--\n", " ", "confidential", "intended recipient", "vertraulich", "empfanger", "机密",
     "收件人", "p.s.", "help", "fire", "x" * 90, "ok"]
) | st.text(max_size=6)  # fmt: skip


@given(st.lists(_PIECE, max_size=16).map("".join))
def test_blanking_keeps_every_position_and_the_first_paragraph(text: str) -> None:
    blanked = blank_boilerplate(text)
    assert len(blanked) == len(text)
    spans = boilerplate_spans(text) if "\n" in text else []
    for index, (before, after) in enumerate(zip(text, blanked, strict=True)):
        inside = any(start <= index < end for start, end in spans)
        assert after == before or (inside and after == " " and before != "\n")
    first = text.lstrip("\n \t\r").split("\n\n", 1)[0]
    assert first.strip() == "" or blanked.find(first) != -1 or "\n" in first
    if "\n" not in text:
        assert blanked == text


def test_boilerplate_can_be_read_on_request() -> None:
    assert LexiconSettings().skip_boilerplate is True
    text = f"late\n\n{DISCLAIMERS[0]}"
    assert concepts(READ_ALL, text) != concepts(DETECTOR, text)
