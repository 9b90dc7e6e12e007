"""The embedding recipes in examples/embed run against stand-ins of their host frameworks.

Frappe, Django and Odoo are not installed: each test puts small fakes of the
framework objects a recipe touches into ``sys.modules``, imports the recipe
file as a user would copy it, and drives it the way the framework would.
The webhook receiver runs for real, on a free port of localhost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from servicetriage.batch import policy_hash
from servicetriage.triage import DEFAULT_POLICY

ROOT = Path(__file__).parent.parent
RECIPES = ROOT / "examples" / "embed"
FIXTURES = Path(__file__).parent / "fixtures" / "adapters"


def _module(name: str, **members: Any) -> ModuleType:
    module = ModuleType(name)
    for key, value in members.items():
        setattr(module, key, value)
    return module


def _load(file: str, monkeypatch: pytest.MonkeyPatch, fakes: dict[str, ModuleType]) -> Any:
    for name, module in fakes.items():
        monkeypatch.setitem(__import__("sys").modules, name, module)
    spec = importlib.util.spec_from_file_location(f"recipe_{file.removesuffix('.py')}", RECIPES / file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _payloads(system: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / f"{system}.json").read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------
# Frappe Helpdesk


class FakeDoc:
    """An HD Ticket document: ``as_dict()`` holds datetimes (as Frappe's do), ``update`` sets fields."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def update(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


@pytest.fixture
def frappe_recipe(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    errors: list[str] = []
    frappe = _module("frappe", log_error=lambda title, message: errors.append(f"{title}: {message}"))
    utils = _module("frappe.utils", get_system_timezone=lambda: "Asia/Kolkata")
    frappe.utils = utils  # type: ignore[attr-defined]
    return _load("frappe_helpdesk.py", monkeypatch, {"frappe": frappe, "frappe.utils": utils}), errors


def test_frappe_hook_writes_priority_quadrant_and_reasons_on_save(frappe_recipe: tuple[Any, list[str]]) -> None:
    recipe, errors = frappe_recipe
    data = {**_payloads("frappe")[0], "creation": datetime(2026, 3, 2, 7, 45), "resolution_by": None}
    data["description"] = "<p>The rider pressed SOS and the driver does not answer</p>"
    doc = FakeDoc(data)
    recipe.on_hd_ticket_save(doc, "before_save")
    assert errors == []
    assert doc.priority == "Urgent"
    assert doc.custom_triage_quadrant == "Q1"
    assert doc.custom_triage_reasons.startswith("1207: Q1 priority 1")


def test_frappe_hook_fails_closed_and_logs_a_ticket_it_cannot_read(frappe_recipe: tuple[Any, list[str]]) -> None:
    recipe, errors = frappe_recipe
    doc = FakeDoc({**_payloads("frappe")[0], "priority": "Whenever"})
    recipe.on_hd_ticket_save(doc, "before_save")
    assert doc.priority == "Whenever"  # untouched
    assert doc.custom_triage_quadrant == ""
    assert doc.custom_triage_reasons == (
        "not triaged: frappe: priority: expected one of 'urgent', 'high', 'medium', 'low', got 'Whenever'"
    )
    assert errors == ["servicetriage: " + doc.custom_triage_reasons.removeprefix("not triaged: ")]


# --------------------------------------------------------------------------
# django-helpdesk


class FakeSignal:
    def __init__(self) -> None:
        self.receivers: list[tuple[Any, Callable[..., None]]] = []

    def send(self, sender: Any, **kwargs: Any) -> None:
        for wanted, function in self.receivers:
            if wanted is sender:
                function(sender=sender, **kwargs)


def _receiver(signal: FakeSignal, sender: Any, dispatch_uid: str) -> Callable[[Callable[..., None]], Any]:
    assert dispatch_uid

    def register(function: Callable[..., None]) -> Callable[..., None]:
        signal.receivers.append((sender, function))
        return function

    return register


class FakeManager:
    def __init__(self) -> None:
        self.updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.created: list[dict[str, Any]] = []

    def filter(self, **where: Any) -> SimpleNamespace:
        return SimpleNamespace(update=lambda **values: self.updates.append((where, values)))

    def create(self, **values: Any) -> None:
        self.created.append(values)


def test_django_receiver_updates_priority_without_a_signal_and_files_the_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post_save = FakeSignal()

    class ticket_model:  # noqa: N801 - stands for helpdesk.models.Ticket
        objects = FakeManager()

    class followup_model:  # noqa: N801 - stands for helpdesk.models.FollowUp
        objects = FakeManager()

    fakes = {
        "django": _module("django"),
        "django.db": _module("django.db"),
        "django.db.models": _module("django.db.models"),
        "django.db.models.signals": _module("django.db.models.signals", post_save=post_save),
        "django.dispatch": _module("django.dispatch", receiver=_receiver),
        "helpdesk": _module("helpdesk"),
        "helpdesk.models": _module("helpdesk.models", Ticket=ticket_model, FollowUp=followup_model),
    }
    _load("django_helpdesk.py", monkeypatch, fakes)
    instance = SimpleNamespace(
        pk=42,
        created=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        due_date=None,
        submitter_email="guest@example.com",
        queue=SimpleNamespace(slug="travel"),
        title="Stranded at the airport",
        description="<p>My flight was <b>cancelled</b>, I am stranded with two children</p>",
        priority=3,
        status=1,
    )
    post_save.send(ticket_model, instance=instance, created=True)
    assert ticket_model.objects.updates == [({"pk": 42}, {"priority": instance.priority})]
    assert instance.priority < 3
    [followup] = followup_model.objects.created
    assert followup["public"] is False
    assert followup["comment"].startswith("42: Q1")
    post_save.send(ticket_model, instance=instance, created=False, raw=True)  # loading fixtures: left alone
    assert len(followup_model.objects.created) == 1


# --------------------------------------------------------------------------
# Odoo Helpdesk


class FakeModel:
    """A recordset of ``helpdesk.ticket``: create, write, iterate, with_context; records carry fields."""

    log: list[tuple[int, dict[str, Any], dict[str, Any]]]

    def __init__(self, rows: list[SimpleNamespace] | None = None, context: dict[str, Any] | None = None) -> None:
        self._rows = rows or []
        self.env = SimpleNamespace(context=context or {})

    def create(self, vals_list: list[dict[str, Any]]) -> FakeModel:
        rows = []
        for index, vals in enumerate(vals_list, start=1):
            row = SimpleNamespace(
                id=index,
                create_date=datetime(2026, 3, 2, 1, 0),
                name="",
                description="",
                priority="0",
                partner_id=None,
                stage_id=SimpleNamespace(fold=False),
                sla_deadline=None,
                x_triage_quadrant="",
            )
            row.__dict__.update(vals)
            rows.append(row)
        return type(self)(rows, self.env.context)

    def write(self, vals: dict[str, Any]) -> bool:
        for row in self._rows:
            row.__dict__.update(vals)
            type(self).log.append((row.id, dict(vals), dict(self.env.context)))
        return True

    def with_context(self, **values: Any) -> FakeModel:
        return type(self)(self._rows, {**self.env.context, **values})

    def __iter__(self) -> Iterator[FakeModel]:
        for row in self._rows:
            yield type(self)([row], self.env.context)

    def __getattr__(self, name: str) -> Any:
        [row] = self.__dict__["_rows"]
        return getattr(row, name)


def test_odoo_override_triages_on_create_and_on_a_watched_write_only(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeModel.log = []
    odoo = _module("odoo", api=SimpleNamespace(model_create_multi=lambda f: f), models=SimpleNamespace(Model=FakeModel))
    recipe = _load("odoo_helpdesk.py", monkeypatch, {"odoo": odoo})
    tickets = recipe.HelpdeskTicket().create(
        [
            {"name": "Printer jam", "description": "<p>The printer jams</p>", "partner_id": SimpleNamespace(id=7)},
            {"name": "Police at the store", "description": "<p>The police called about the robbery</p>"},
        ]
    )
    first, second = list(tickets)
    assert (first.priority, first.x_triage_quadrant) == ("0", "Q4")
    assert second.x_triage_quadrant == "Q1"
    assert second.priority == "3"
    assert all(context == {"servicetriage": True} for _, _, context in FakeModel.log)
    writes = len(FakeModel.log)
    first.write({"color": 3})  # not a watched field: no triage
    assert len(FakeModel.log) == writes + 1
    first.write({"description": "<p>Smoke is coming out of the printer, someone is injured</p>"})
    assert FakeModel.log[-1][1]["x_triage_quadrant"] == "Q1"
    assert FakeModel.log[-1][2] == {"servicetriage": True}


# --------------------------------------------------------------------------
# The Zendesk webhook receiver


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[int, dict[str, Any]]]]:
    recipe = _load("zendesk_webhook.py", monkeypatch, {})
    server = recipe.make_server("127.0.0.1", 0, secret="s3cret")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    def post(body: bytes, *, sign: bool = True, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        sent = dict(headers or {})
        if sign:
            stamp = "2026-03-02T03:00:00Z"
            digest = hmac.new(b"s3cret", stamp.encode() + body, hashlib.sha256).digest()
            sent["X-Zendesk-Webhook-Signature-Timestamp"] = stamp
            sent["X-Zendesk-Webhook-Signature"] = base64.b64encode(digest).decode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("POST", "/", body=body, headers=sent)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    try:
        yield post
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("index", range(5))
def test_webhook_answers_with_the_triage_and_the_fields_to_write(
    webhook: Callable[..., tuple[int, dict[str, Any]]], index: int
) -> None:
    payload = _payloads("zendesk")[index]
    status, answer = webhook(json.dumps(payload).encode())
    assert status == 200
    assert answer["triage"]["policy_hash"] == policy_hash(DEFAULT_POLICY)
    assert answer["triage"]["error"] is None
    assert answer["zendesk"]["additional_tags"][0] == "triage_" + answer["triage"]["quadrant"].lower()


def test_webhook_places_an_sos_first(webhook: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    status, answer = webhook(json.dumps(_payloads("zendesk")[3]).encode())
    assert (status, answer["triage"]["quadrant"], answer["zendesk"]["priority"]) == (200, "Q1", "urgent")


def test_webhook_refuses_a_bad_signature(webhook: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    body = json.dumps(_payloads("zendesk")[0]).encode()
    assert webhook(body, sign=False, headers={"X-Zendesk-Webhook-Signature": "AAAA"}) == (
        401,
        {"error": "bad signature"},
    )


def test_webhook_answers_422_with_the_adapter_message(webhook: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    payload = {**_payloads("zendesk")[2], "priority": "asap"}
    status, answer = webhook(json.dumps(payload).encode())
    assert status == 422
    assert answer["error"].startswith("zendesk: ticket.priority: expected one of 'urgent'")


def test_webhook_answers_400_to_bad_json(webhook: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    status, answer = webhook(b"{not json")
    assert status == 400
    assert answer["error"].startswith("not valid JSON")


def test_webhook_refuses_a_body_over_the_limit(webhook: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    status, answer = webhook(b"{}", sign=False, headers={"Content-Length": str(2 << 20)})
    assert status == 413
    assert "body over" in answer["error"]
