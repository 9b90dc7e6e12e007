# ruff: noqa: INP001
"""Generate the example ticket set: examples/tickets.jsonl and examples/tickets.csv.

Deterministic (a fixed seed and a fixed reference time), so running it again
rewrites the same files::

    python examples/make_tickets.py

The tickets are set around 2026-03-02 10:00 China Standard Time; rank them
with ``--now 2026-03-02T10:00:00+08:00`` to see the queue as it stood then.
They cover the cases of the method, in Chinese and English: ride SOS calls
(one a false alarm), police calls, stranded air passengers, angry repeat
callers, VIP customers, complaints sent to a regulator, needs exposed on
social media, possibly deceptive requests, urgent small requests, plain
enquiries, non-urgent repairs, product suggestions, and a few tickets that
carry explicit ITSM impact and urgency levels.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from servicetriage.ingest import write_csv, write_jsonl
from servicetriage.model import Customer, Money, Pause, Ticket

HERE = Path(__file__).parent
CST = timezone(timedelta(hours=8), "CST")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
COUNT = 200

# Each scenario: (weight, builder). A builder returns the ticket's fields.
Builder = Callable[[random.Random], dict[str, Any]]


def _ago(rng: random.Random, low: int, high: int) -> datetime:
    return NOW - timedelta(minutes=rng.randint(low, high))


def ride_sos(rng: random.Random) -> dict[str, Any]:
    """Build an SOS from a ride."""
    zh = rng.random() < 0.6
    text = rng.choice(
        [
            "乘客在行程中按下SOS，称司机偏离路线并锁了车门，请立即联系",
            "行程中SOS：乘客说车辆发生车祸，有人受伤，需要急救",
            "乘客紧急求助：司机言语威胁，要求马上停车",
        ]
        if zh
        else [
            "SOS pressed during the ride: passenger says the driver left the route and will not stop",
            "Emergency button in the app: passenger reports an accident, someone is injured",
            "Passenger feels unsafe, driver is shouting and threatening her",
        ]
    )
    opened = _ago(rng, 0, 12)
    return {
        "channel": rng.choice(["phone", "chat"]),
        "category": "ride",
        "subject": "行程SOS" if zh else "Ride SOS",
        "text": text,
        "language": "zh" if zh else "en",
        "declared_urgency": "critical",
        "flags": {"safety"},
        "opened_at": opened,
        "due": opened + timedelta(minutes=5),
    }


def sos_false_alarm(rng: random.Random) -> dict[str, Any]:
    """Build an SOS pressed by mistake: still handled first, verified afterwards."""
    zh = rng.random() < 0.5
    opened = _ago(rng, 0, 30)
    return {
        "channel": "chat",
        "category": "ride",
        "subject": "SOS误触" if zh else "SOS pressed by mistake",
        "text": "刚才不小心按了SOS，误触，我很安全" if zh else "Sorry, I pressed SOS by mistake, I am fine",
        "language": "zh" if zh else "en",
        "flags": {"safety"},
        "opened_at": opened,
        "due": opened + timedelta(minutes=5),
    }


def police_call(rng: random.Random) -> dict[str, Any]:
    """Build a call from the police."""
    zh = rng.random() < 0.6
    return {
        "channel": "phone",
        "category": rng.choice(["ride", "account"]),
        "subject": "警方来电" if zh else "Call from the police",
        "text": rng.choice(
            ["派出所民警来电，核实一名失联乘客昨晚的行程信息", "公安来电调取一笔可疑交易的记录"]
            if zh
            else [
                "Police officer on the line asking for the trip record of a missing passenger",
                "The police need the account history for a fraud case",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "high",
        "flags": {"police"},
        "opened_at": _ago(rng, 0, 40),
    }


def stranded_passenger(rng: random.Random) -> dict[str, Any]:
    """Build an air passenger stranded after a cancellation or a missed connection."""
    zh = rng.random() < 0.55
    opened = _ago(rng, 10, 180)
    return {
        "channel": rng.choice(["phone", "chat", "in_person"]),
        "category": "flight",
        "subject": "航班取消滞留机场" if zh else "Stranded after cancellation",
        "text": rng.choice(
            ["航班取消，带着两个孩子滞留在机场，没有酒店，明早还要转机", "延误八小时，被困在浦东机场，老人需要按时吃药"]
            if zh
            else [
                "Flight cancelled, stranded at the airport overnight with two small children",
                "Missed my connection, stuck in Frankfurt, no hotel and no rebooking",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "critical",
        "affected_customers": rng.choice([1, 2, 4, 35, 180]),
        "money_at_stake": Money.parse(f"{rng.choice([800, 1500, 3200])} CNY"),
        "opened_at": opened,
        "due": opened + timedelta(hours=rng.choice([1, 2, 4])),
    }


def angry_repeat(rng: random.Random) -> dict[str, Any]:
    """Build an angry customer calling again about the same problem."""
    zh = rng.random() < 0.6
    times = rng.randint(3, 7)
    return {
        "channel": rng.choice(["phone", "email"]),
        "category": rng.choice(["broadband", "repair", "billing"]),
        "subject": f"第{times}次来电，问题仍未解决" if zh else f"Contact number {times}, still not fixed",
        "text": rng.choice(
            [
                "宽带断了一周，每次都说48小时内修好，再不解决我就投诉到工信部",
                "你们的客服一直推来推去，我已经打了好几次电话了",
            ]
            if zh
            else [
                "Internet has been down for a week, every time you promise 48 hours",
                "I keep being passed around, nobody calls me back as promised",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "high",
        "repeat_contacts": times,
        "opened_at": _ago(rng, 60, 3000),
        "due": NOW + timedelta(hours=rng.choice([-6, 2, 20])),
    }


def vip(rng: random.Random) -> dict[str, Any]:
    """Build a VIP business or VIP private customer."""
    business = rng.random() < 0.6
    zh = rng.random() < 0.5
    if business:
        text = (
            "集团客户：今天上午起300个座席无法登录系统，影响全国门店收银"
            if zh
            else "Enterprise account: 300 seats cannot log in since this morning, our stores cannot take payments"
        )
        return {
            "tier": "vip_business",
            "reach": 5000,
            "channel": "phone",
            "category": "account",
            "subject": "企业账户全部无法登录" if zh else "All enterprise seats locked out",
            "text": text,
            "language": "zh" if zh else "en",
            "declared_urgency": "high",
            "affected_customers": 300,
            "money_at_stake": Money.parse("50000 CNY"),
            "opened_at": _ago(rng, 5, 90),
            "due": NOW + timedelta(hours=1),
        }
    return {
        "tier": "vip_private",
        "reach": 1200,
        "channel": "phone",
        "category": "billing",
        "subject": "私人银行客户信用卡被冻结" if zh else "Private client card blocked abroad",
        "text": "在国外旅行，信用卡被冻结，酒店要求今天付款"
        if zh
        else "Travelling abroad, my card was blocked and the hotel wants payment today",
        "language": "zh" if zh else "en",
        "declared_urgency": "high",
        "money_at_stake": Money.parse("20000 CNY"),
        "opened_at": _ago(rng, 5, 120),
        "due": NOW + timedelta(hours=3),
    }


def regulator(rng: random.Random) -> dict[str, Any]:
    """Build a complaint forwarded by a regulator."""
    zh = rng.random() < 0.65
    return {
        "channel": "regulator",
        "category": rng.choice(["billing", "flight", "refund"]),
        "subject": "12315转来投诉" if zh else "Complaint forwarded by the regulator",
        "text": rng.choice(
            ["消费者投诉到12315：退款三十天仍未到账", "民航局转来旅客投诉：行李丢失无人处理"]
            if zh
            else [
                "The consumer protection office forwards a complaint: refund unpaid for 30 days",
                "Ombudsman case: disputed roaming charges",
            ]
        ),
        "language": "zh" if zh else "en",
        "flags": {"regulator"},
        "money_at_stake": Money.parse(f"{rng.choice([300, 1200, 4800])} CNY"),
        "opened_at": _ago(rng, 60, 4000),
        "due": NOW + timedelta(days=rng.choice([1, 3, 5])),
    }


def social_media(rng: random.Random) -> dict[str, Any]:
    """Build a need exposed in public, on social media."""
    zh = rng.random() < 0.6
    return {
        "channel": "social_media",
        "category": rng.choice(["service", "flight", "ride"]),
        "subject": "微博曝光" if zh else "Viral post about us",
        "text": rng.choice(
            ["用户在微博曝光客服态度恶劣，已上热搜", "抖音视频称我们的维修师傅乱收费，十万播放"]
            if zh
            else [
                "Tweet with 40k followers: you lost my wheelchair and nobody cares",
                "A journalist asks about the refund delays on social media",
            ]
        ),
        "language": "zh" if zh else "en",
        "flags": {"public_exposure"},
        "reach": rng.choice([5000, 40000, 120000]),
        "opened_at": _ago(rng, 10, 600),
    }


def deceptive(rng: random.Random) -> dict[str, Any]:
    """Build a possibly deceptive request: an urgent refund to a new account, a verification code."""
    zh = rng.random() < 0.5
    return {
        "channel": rng.choice(["email", "chat", "phone"]),
        "category": "refund",
        "subject": "紧急退款到新账户" if zh else "Urgent refund to a new account",
        "text": rng.choice(
            ["急！我的卡丢了，请把退款退到另一个账户，今天必须到账", "请把验证码发到我的新手机号，马上要用"]
            if zh
            else [
                "URGENT: please send the refund to another account, I changed banks, must be today",
                "Please read me the verification code, I am the account owner, hurry",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "critical",
        "money_at_stake": Money.parse(f"{rng.choice([2000, 8000, 15000])} CNY"),
        "opened_at": _ago(rng, 0, 60),
        "due": NOW + timedelta(hours=2),
    }


def urgent_small(rng: random.Random) -> dict[str, Any]:
    """Build an urgent request of small business weight."""
    zh = rng.random() < 0.55
    return {
        "channel": rng.choice(["chat", "email", "phone"]),
        "category": rng.choice(["delivery", "billing", "account"]),
        "subject": rng.choice(
            ["今天下午要发票", "快递能否今天送到"]
            if zh
            else ["Invoice copy needed by 5 pm", "Can the parcel come today?"]
        ),
        "text": rng.choice(
            ["报销截止今天下午五点，麻烦尽快补开发票", "快递今天下午必须送到，能不能加急"]
            if zh
            else [
                "My expense claim closes at 5 pm today, please resend the invoice",
                "Need the parcel this afternoon for a birthday, can you rush it?",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "high",
        "opened_at": _ago(rng, 0, 120),
        "due": NOW + timedelta(hours=rng.choice([1, 3, 6])),
    }


def enquiry(rng: random.Random) -> dict[str, Any]:
    """Build a plain enquiry."""
    zh = rng.random() < 0.55
    return {
        "channel": rng.choice(["chat", "email"]),
        "category": "general",
        "subject": rng.choice(
            ["发票怎么开", "会员积分怎么用", "营业时间"]
            if zh
            else ["How do I change my password?", "Opening hours", "Loyalty points question"]
        ),
        "text": rng.choice(
            ["请问电子发票在哪里下载？", "积分可以抵扣运费吗？", "周末客服几点上班？"]
            if zh
            else ["Where can I download my e-invoice?", "Can points pay for shipping?", "Are you open on Sundays?"]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": rng.choice(["low", "normal"]),
        "opened_at": _ago(rng, 30, 5000),
        "due": NOW + timedelta(days=rng.choice([2, 3, 5])),
    }


def repair(rng: random.Random) -> dict[str, Any]:
    """Build a non-urgent repair."""
    zh = rng.random() < 0.55
    return {
        "channel": rng.choice(["phone", "email", "chat"]),
        "category": "repair",
        "subject": rng.choice(["空调异响", "水龙头滴水"] if zh else ["Noisy air conditioner", "Dripping tap"]),
        "text": rng.choice(
            ["卧室空调有点异响，不影响使用，下周上门即可", "厨房水龙头有点滴水，方便时来修"]
            if zh
            else [
                "The bedroom air conditioner rattles a bit, any day next week is fine",
                "Dripping tap in the office kitchen, no rush",
            ]
        ),
        "language": "zh" if zh else "en",
        "declared_urgency": "low",
        "opened_at": _ago(rng, 60, 8000),
        "due": NOW + timedelta(days=rng.choice([5, 7, 10])),
    }


def suggestion(rng: random.Random) -> dict[str, Any]:
    """Build a product suggestion: important, not urgent."""
    zh = rng.random() < 0.5
    return {
        "tier": rng.choice(["standard", "vip_business"]),
        "channel": "email",
        "category": "product",
        "subject": "建议增加儿童座椅选项" if zh else "Feature request: bulk export",
        "text": "建议App里可以预约带儿童座椅的车辆"
        if zh
        else "We have 2000 employees; please add a bulk export of trips for our accounting",
        "language": "zh" if zh else "en",
        "declared_urgency": "low",
        "affected_customers": rng.choice([1, 2000]),
        "opened_at": _ago(rng, 600, 20000),
    }


def itsm(rng: random.Random) -> dict[str, Any]:
    """Build a ticket with explicit ITSM impact and urgency levels."""
    level = rng.choice([(1, 1), (1, 2), (2, 2), (3, 3), (2, 3)])
    return {
        "tier": "vip_business",
        "reach": 2000,
        "channel": "email",
        "category": "platform",
        **dict(
            zip(
                ("subject", "text", "language"),
                rng.choice(
                    [
                        ("Payment gateway errors", "Checkout fails for some merchants", "en"),
                        ("支付网关报错", "部分商户支付失败", "zh"),
                        ("Slow reports page", "Reports take 30 s to load", "en"),
                    ]
                ),
                strict=True,
            )
        ),
        "impact": level[0],
        "urgency": level[1],
        "opened_at": _ago(rng, 10, 600),
    }


def waiting_on_customer(rng: random.Random) -> dict[str, Any]:
    """Build a ticket waiting on the customer: its clock is paused."""
    opened = _ago(rng, 600, 3000)
    return {
        "channel": "email",
        "category": "billing",
        "subject": "等待客户补充材料" if rng.random() < 0.5 else "Waiting for the customer's receipt",
        "text": "Asked the customer for a copy of the receipt",
        "language": "en",
        "status": "pending",
        "pauses": (Pause(opened + timedelta(minutes=30)),),
        "opened_at": opened,
        "due": opened + timedelta(hours=24),
    }


SCENARIOS: tuple[tuple[int, Builder], ...] = (
    (8, ride_sos),
    (3, sos_false_alarm),
    (6, police_call),
    (10, stranded_passenger),
    (12, angry_repeat),
    (10, vip),
    (8, regulator),
    (8, social_media),
    (8, deceptive),
    (18, urgent_small),
    (40, enquiry),
    (30, repair),
    (8, suggestion),
    (6, itsm),
    (5, waiting_on_customer),
)


def make_tickets(count: int = COUNT, seed: int = 2026) -> list[Ticket]:
    """Build *count* example tickets, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible examples, not secrets
    weights = [w for w, _ in SCENARIOS]
    builders = [b for _, b in SCENARIOS]
    tickets = []
    for number in range(1, count + 1):
        fields = rng.choices(builders, weights)[0](rng)
        customer = Customer(
            id=f"C{rng.randint(10000, 99999)}",
            tier=fields.pop("tier", "standard"),
            reach=fields.pop("reach", 250),
            nationality=rng.choice(["CN", "CN", "CN", "US", "DE", "JP", "NG", None]),
        )
        if "status" not in fields and rng.random() < 0.03:  # a few already handled
            fields["status"] = "resolved"
        tickets.append(Ticket(id=f"T{number:04d}", customer=customer, **fields))
    return tickets


def main() -> None:
    """Write both files."""
    tickets = make_tickets()
    with (HERE / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as out:
        write_jsonl(tickets, out)
    with (HERE / "tickets.csv").open("w", encoding="utf-8", newline="") as out:
        write_csv(tickets, out)
    print(f"wrote {len(tickets)} tickets to {HERE / 'tickets.jsonl'} and {HERE / 'tickets.csv'}")


if __name__ == "__main__":
    main()
