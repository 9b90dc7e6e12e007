"""Benchmark: classify and rank a large synthetic backlog, against peers measured in the same run.

Peers:

- ``bare``: a hand-written plain-Python function applying the same default
  rules and returning only the quadrant (no reasons, no levels, no due
  time): the practical limit of the language. It finds signals with the
  same lexicon detector as the library (``LexiconDetector.detect``), so
  the comparison is of everything around the detection.
- ``rule-engine``: the ``rule-engine`` package evaluating equivalent rules
  (one expression per signal, with ternaries for the threshold ladders) on a
  dict per ticket that holds the signals the same detector found. It is measured on a slice of the tickets
  (``--rule-engine-n``), as its throughput does not depend on the count.

Both peers are checked to agree with ``classify`` on the quadrant of every
ticket they see, so the comparison is between equivalent work.

The tickets are ``--n`` classifications (default 1,000,000) over a pool of
``--pool`` distinct synthetic tickets in the seven supported languages,
built once before timing; a last figure times one long narrative (10 kB of
text). Run::

    python bench/bench_triage.py            # 1,000,000 tickets
    python bench/bench_triage.py --n 100000 # quicker

Targets (issue 2, item 13): classify with full reasons at least 0.25x the
bare function's throughput and at least 25x rule-engine's.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import rule_engine

from servicetriage.model import Channel, Customer, CustomerTier, DeclaredUrgency, Flag, Money, Pause, Quadrant, Ticket
from servicetriage.signals import effective_pauses, extend_due
from servicetriage.signals.lexicon import LexiconDetector, concepts
from servicetriage.triage import DEFAULT_POLICY, classify, classify_many, rank

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)

#: Everyday needs: most of a real backlog.
PLAIN_TEXTS = (
    "How do I change my invoice address?",
    "请问发票抬头怎么修改？",
    "My refund has not arrived after two weeks",
    "退款两周了还没到账",
    "Password reset link does not work",
    "维修师傅没有按时上门",
    "Where is my order?",
    "The app crashes when I open the map",
    "会员积分怎么兑换？",
    "Can I change the seat on my booking?",
    "订单显示已送达但我没收到",
    "Please cancel my subscription",
    "Ich möchte meine Lieferadresse ändern",
    "Wo bleibt meine Rückerstattung?",
    "Je n'ai pas reçu ma facture de mars",
    "Comment suivre mon colis ?",
    "¿Dónde está mi pedido? Ya pasó una semana",
    "Quiero cambiar mi contacto de emergencia",
    "請問發票抬頭怎麼修改？",
    "荷物の追跡番号を教えてください",
    "アプリがクラッシュします",
)
#: Needs with a safety, police, regulator, public or deceptive signal in the text (one ticket in eight).
SIGNAL_TEXTS = (
    "航班取消了，我们一家被困在机场",
    "Flight cancelled, I am stranded at the airport",
    "乘客在车上按下了SOS，说司机偏离路线",
    "The driver is shouting at me, I feel unsafe",
    "已经报警了，警察需要行程记录",
    "This is the police, we need the trip record",
    "如果今天不处理我就投诉到12315",
    "I will post this on twitter and tell the press",
    "再不退款我就发微博曝光你们",
    "Please send the refund as a gift card to my friend",
    "帮我把退款退到另一个账户，验证码是1234",
    "Hilfe! Der Fahrer lässt mich nicht aussteigen",
    "Au secours, il y a une forte odeur de gaz dans la chambre",
    "¡Socorro! El conductor no me deja salir",
    "我已經報警了，司機不讓我下車",
    "助けて！運転手が降ろしてくれない",
    "This is unacceptable, I want to speak to your manager",
    "Ich werde mich bei der Verbraucherzentrale beschweren",
)
SUBJECTS = ("", "", "Urgent", "紧急", "Refund", "投诉")


def synthetic_tickets(count: int, seed: int = 7) -> list[Ticket]:
    """A deterministic pool of varied tickets: every signal appears, most tickets are plain."""
    rnd = random.Random(seed)
    tickets = []
    for index in range(count):
        opened = NOW - timedelta(minutes=rnd.randint(0, 3 * 24 * 60))
        due = None if rnd.random() < 0.6 else opened + timedelta(minutes=rnd.randint(30, 5 * 24 * 60))
        pauses: tuple[Pause, ...] = ()
        if rnd.random() < 0.05:
            start = opened + timedelta(minutes=rnd.randint(0, 600))
            pauses = (Pause(start, None if rnd.random() < 0.5 else start + timedelta(minutes=rnd.randint(1, 300))),)
        flags: set[Flag] = set()
        if rnd.random() < 0.03:
            flags.add(rnd.choice(list(Flag)))
        tickets.append(
            Ticket(
                id=f"T{index:07d}",
                opened_at=opened,
                due=due,
                customer=Customer(
                    id=f"C{rnd.randint(1, 50_000)}",
                    tier=rnd.choices(list(CustomerTier), weights=(90, 6, 4))[0],
                    reach=rnd.choice((250, 250, 250, 800, 3_000, 20_000, 150_000)),
                    nationality=rnd.choice(("CN", "US", None)),
                ),
                channel=rnd.choices(list(Channel), weights=(30, 30, 30, 5, 4, 1))[0],
                subject=rnd.choice(SUBJECTS),
                text=rnd.choice(SIGNAL_TEXTS) if rnd.random() < 0.125 else rnd.choice(PLAIN_TEXTS),
                language=rnd.choice(("zh", "en", "de", "fr", "es", "ja")),
                declared_urgency=rnd.choices(list(DeclaredUrgency), weights=(20, 60, 15, 5))[0],
                affected_customers=rnd.choice((1, 1, 1, 1, 5, 20, 300, 2_000)),
                money_at_stake=rnd.choice(
                    (
                        None,
                        None,
                        Money(Decimal(rnd.randint(1, 300_000)), "CNY"),
                        Money(Decimal(rnd.randint(1, 30_000)), "USD"),
                    )
                ),
                flags=frozenset(flags),
                repeat_contacts=rnd.choices((0, 1, 2, 3, 5), weights=(70, 15, 8, 5, 2))[0],
                impact=rnd.choice((None, None, None, None, None, 1, 2, 3)),
                urgency=rnd.choice((None, None, None, None, None, 1, 2, 3)),
                pauses=pauses,
            )
        )
    return tickets


# --------------------------------------------------------------------------
# The bare hand-written function (default rules, quadrant only)

_DETECTOR = LexiconDetector()
_SIGNAL_OF = {c.id: c.signal for c in concepts().values()}
#: Signals that place a need in Q1 under the default policy (safety and police at the top; regulator, public
#: exposure and discrimination raise both scales past the threshold).
_Q1_SIGNALS = frozenset(("safety", "police", "regulator", "public_exposure", "discrimination"))
_Q1_FLAGS = frozenset(("safety", "police", "regulator", "public_exposure"))
_Q1_CHANNELS = (Channel.REGULATOR, Channel.SOCIAL_MEDIA)
_HOUR = timedelta(hours=1)
_OPEN = frozenset(("new", "open", "pending"))
_DECLARED = {"high": 2, "critical": 3}
_MONEY = {
    "CNY": ((Decimal(100_000), 3), (Decimal(10_000), 2), (Decimal(1_000), 1)),
    "EUR": ((Decimal(15_000), 3), (Decimal(1_500), 2), (Decimal(150), 1)),
    "USD": ((Decimal(15_000), 3), (Decimal(1_500), 2), (Decimal(150), 1)),
}


def bare(t: Ticket, now: datetime) -> Quadrant:
    """The default rules, by hand, returning the quadrant only."""
    signals = {_SIGNAL_OF[d.concept] for d in _DETECTOR.detect(t)}
    if signals & _Q1_SIGNALS or t.channel in _Q1_CHANNELS:
        return Quadrant.Q1
    if t.flags and {f._value_ for f in t.flags} & _Q1_FLAGS:
        return Quadrant.Q1
    u = i = 0
    risk = False
    if "anger" in signals:
        u = 2
    # Recorded ITSM levels: 1 raises to the top, 2 to the threshold.
    if t.impact is not None and t.impact <= 2:
        i = max(i, 4 - t.impact)
    if t.urgency is not None and t.urgency <= 2:
        u = max(u, 4 - t.urgency)
    due = t.due
    if due is not None and t.status._value_ in _OPEN:
        if t.pauses:
            due = extend_due(due, t.opened_at, effective_pauses(t.pauses, now))
        left = due - now
        level = 3 if left <= _HOUR else 2 if left <= 4 * _HOUR else 1 if left <= 24 * _HOUR else 0
        u = max(u, level)
    u = max(u, _DECLARED.get(t.declared_urgency._value_, 0))
    customer = t.customer
    reach = customer.reach
    i = max(i, 3 if reach >= 100_000 else 2 if reach >= 10_000 else 1 if reach >= 1_000 else 0)
    if customer.tier is not CustomerTier.STANDARD:
        i = max(i, 2)
    money = t.money_at_stake
    if money is not None:
        for bound, level in _MONEY.get(money.currency, ()):
            if money.amount >= bound:
                i = max(i, level)
                break
    n = t.affected_customers
    i = max(i, 3 if n >= 1_000 else 2 if n >= 100 else 1 if n >= 10 else 0)
    repeat = t.repeat_contacts
    if repeat:
        u = max(u, 2 if repeat >= 3 else 1)
        if repeat >= 2:
            risk = True
    urgent, important = u >= 2, i >= 2
    if urgent and not important and risk:
        important = True
    if urgent:
        return Quadrant.Q1 if important else Quadrant.Q3
    return Quadrant.Q2 if important else Quadrant.Q4


# --------------------------------------------------------------------------
# rule-engine: the same rules as expressions


_RULES = {
    "q1": " or ".join(
        [f'"{name}" in signals' for name in ("safety", "police", "regulator", "public_exposure", "discrimination")]
        + [f'"{name}" in flags' for name in ("safety", "police", "regulator", "public_exposure")]
        + ['channel in ["regulator", "social_media"]']
    ),
    "anger": '"anger" in signals ? 2 : 0',
    "impact": "impact == null ? 0 : (impact == 1 ? 3 : (impact == 2 ? 2 : 0))",
    "urgency": "urgency == null ? 0 : (urgency == 1 ? 3 : (urgency == 2 ? 2 : 0))",
    "deadline": (
        'due == null or not open ? 0 : (due - now <= t"PT1H" ? 3 : (due - now <= t"PT4H" ? 2 : '
        '(due - now <= t"P1D" ? 1 : 0)))'
    ),
    "declared": 'declared == "critical" ? 3 : (declared == "high" ? 2 : 0)',
    "reach": "reach >= 100000 ? 3 : (reach >= 10000 ? 2 : (reach >= 1000 ? 1 : 0))",
    "vip": 'tier in ["vip_business", "vip_private"] ? 2 : 0',
    "money": (
        'currency == null ? 0 : (currency == "CNY" ? (amount >= 100000 ? 3 : (amount >= 10000 ? 2 : '
        "(amount >= 1000 ? 1 : 0))) : (amount >= 15000 ? 3 : (amount >= 1500 ? 2 : (amount >= 150 ? 1 : 0))))"
    ),
    "affected": "affected >= 1000 ? 3 : (affected >= 100 ? 2 : (affected >= 10 ? 1 : 0))",
    "repeat": "repeat >= 3 ? 2 : (repeat >= 1 ? 1 : 0)",
    "risk": "repeat >= 2",
}


def rule_engine_rules() -> dict[str, Any]:
    """Compile the rule-engine expressions once."""
    context = rule_engine.Context(default_value=None)
    return {name: rule_engine.Rule(text, context=context) for name, text in _RULES.items()}


def as_record(t: Ticket, now: datetime) -> dict[str, Any]:
    """The record rule-engine reads: the ticket's fields and the signals the shared detector found (timed)."""
    due = t.due
    if due is not None and t.pauses:
        due = extend_due(due, t.opened_at, effective_pauses(t.pauses, now))
    money = t.money_at_stake
    return {
        "flags": {f.value for f in t.flags},
        "signals": {_SIGNAL_OF[d.concept] for d in _DETECTOR.detect(t)},
        "channel": t.channel.value,
        "due": due,
        "now": now,
        "open": t.status.is_open,
        "declared": t.declared_urgency.value,
        "reach": t.customer.reach,
        "tier": t.customer.tier.value,
        "currency": money.currency if money is not None else None,
        "amount": money.amount if money is not None else None,
        "affected": t.affected_customers,
        "repeat": t.repeat_contacts,
        "impact": t.impact,
        "urgency": t.urgency,
    }


def by_rule_engine(rules: dict[str, Any], record: dict[str, Any]) -> Quadrant:
    """Evaluate the rule-engine expressions and combine them into a quadrant."""
    if rules["q1"].evaluate(record):
        return Quadrant.Q1
    u = max(
        rules["deadline"].evaluate(record),
        rules["declared"].evaluate(record),
        rules["repeat"].evaluate(record),
        rules["anger"].evaluate(record),
        rules["urgency"].evaluate(record),
    )
    i = max(
        rules["reach"].evaluate(record),
        rules["vip"].evaluate(record),
        rules["money"].evaluate(record),
        rules["affected"].evaluate(record),
        rules["impact"].evaluate(record),
    )
    risk = rules["risk"].evaluate(record)
    urgent, important = u >= 2, i >= 2
    if urgent and not important and risk:
        important = True
    return Quadrant.of(urgent=urgent, important=important)


# --------------------------------------------------------------------------


_GC_DURING_TIMING = True


def timed(label: str, count: int, run: Any) -> float:
    gc.collect()
    if not _GC_DURING_TIMING:
        gc.disable()
    start = time.perf_counter()
    try:
        run()
    finally:
        seconds = time.perf_counter() - start
        gc.enable()
    rate = count / seconds
    print(f"{label:<38} {count:>10,} tickets in {seconds:7.2f} s = {rate:>12,.0f} tickets/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets to classify (default 1,000,000)")
    parser.add_argument("--pool", type=int, default=20_000, help="distinct synthetic tickets (default 20,000)")
    parser.add_argument("--rule-engine-n", type=int, default=20_000, help="tickets for rule-engine (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument(
        "--gc",
        choices=("on", "off"),
        default="on",
        help="cyclic garbage collector during timing: on as in a real process (default), off as timeit does",
    )
    args = parser.parse_args()
    global _GC_DURING_TIMING  # noqa: PLW0603 - a command-line switch for the timing helper
    _GC_DURING_TIMING = args.gc == "on"
    print(f"garbage collector during timing: {args.gc}")

    pool = synthetic_tickets(min(args.pool, args.n))
    tickets = [pool[k % len(pool)] for k in range(args.n)]
    # Distinct ids for ranking, so the order is total.
    rank_input = synthetic_tickets(min(args.n, 200_000), seed=11)
    rank_input = [rank_input[k % len(rank_input)] for k in range(args.n)]

    # Agreement first: the peers do the same work.
    policy = DEFAULT_POLICY
    quadrants = [classify(t, policy, NOW).quadrant for t in pool]
    assert [bare(t, NOW) for t in pool] == quadrants, "bare function disagrees with classify"
    rules = rule_engine_rules()
    slice_ = pool[: args.rule_engine_n]
    assert [by_rule_engine(rules, as_record(t, NOW)) for t in slice_] == quadrants[: len(slice_)], (
        "rule-engine disagrees"
    )
    counts = {q.name: quadrants.count(q) for q in Quadrant}
    print(f"pool of {len(pool):,} distinct tickets; quadrants {counts}; peers agree with classify on every quadrant")
    print()

    # Interleaved rounds, best round kept: on a shared machine this keeps load bursts from favouring one side.
    rounds = max(1, args.rounds)
    chunk = max(1, len(tickets) // rounds)
    parts = [tickets[k * chunk : (k + 1) * chunk] for k in range(rounds)]
    rates: dict[str, list[float]] = {"bare": [], "classify": [], "classify_many": [], "rule-engine": []}
    engine_chunk = max(1, len(slice_) // rounds)
    engine_parts = [slice_[k * engine_chunk : (k + 1) * engine_chunk] for k in range(rounds)]
    for part, engine_part in zip(parts, engine_parts, strict=True):
        rates["rule-engine"].append(
            timed(
                "rule-engine (equivalent rules)",
                len(engine_part),
                lambda p=engine_part: [by_rule_engine(rules, as_record(t, NOW)) for t in p],
            )
        )
        rates["bare"].append(
            timed("bare function (quadrant only)", len(part), lambda p=part: [bare(t, NOW) for t in p])
        )
        rates["classify"].append(
            timed("classify (full reasons)", len(part), lambda p=part: [classify(t, policy, NOW) for t in p])
        )
        rates["classify_many"].append(
            timed("classify_many (batch path)", len(part), lambda p=part: classify_many(p, policy, NOW))
        )
    bare_rate, classify_rate, many_rate, engine_rate = (
        max(rates[k]) for k in ("bare", "classify", "classify_many", "rule-engine")
    )
    print()
    rank_rate = timed("rank (classify + total order)", len(rank_input), lambda: rank(rank_input, policy, NOW))
    print()
    print(f"best of {rounds} interleaved rounds ({chunk:,} tickets each; {engine_chunk:,} for rule-engine):")
    print(
        f"  bare {bare_rate:,.0f}/s, classify {classify_rate:,.0f}/s, classify_many {many_rate:,.0f}/s, "
        f"rule-engine {engine_rate:,.0f}/s"
    )
    best = max(classify_rate, many_rate)
    print()
    print(f"classify / bare        = {classify_rate / bare_rate:6.2f}x   (target >= 0.25x)")
    print(f"classify_many / bare   = {many_rate / bare_rate:6.2f}x")
    print(f"classify / rule-engine = {classify_rate / engine_rate:6.1f}x   (target >= 25x)")
    print(f"rank: {rank_rate:,.0f} tickets/s; best classify path {best:,.0f} tickets/s")
    print()
    # Matching is linear in the text's length: the cost per kB stays flat from 1 kB to 100 kB.
    for kilobytes, repeats in ((1, 2000), (10, 200), (100, 20)):
        narrative = long_narrative(kilobytes)
        seconds = min(
            _seconds(lambda n=narrative, r=repeats: [classify(n, policy, NOW) for _ in range(r)])
            for _ in range(rounds)
        )
        per_ticket = seconds / repeats * 1e3
        print(
            f"one long narrative of {kilobytes:>3} kB (a safety line in the middle): {per_ticket:7.2f} ms "
            f"= {per_ticket / kilobytes:.2f} ms per kB"
        )


def long_narrative(kilobytes: int) -> Ticket:
    """A long complaint e-mail in several languages with one emergency sentence in the middle."""
    filler = " ".join(PLAIN_TEXTS)
    half = ""
    while len(half.encode("utf-8")) < kilobytes * 512:
        half += filler + " "
    text = half + "The driver locked the doors and will not let me out. " + half
    return Ticket(id="N1", opened_at=NOW, customer=Customer(id="C1"), text=text)


def _seconds(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
