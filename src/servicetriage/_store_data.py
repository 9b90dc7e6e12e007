"""Plain data and the library's values: reports, amendments, versions, penalties, settings.

The typed bridge the store and the command line share: `load_reports` reads
report files, `authority_check` loads the authority policy that
`validate_report` judges reports by, `learning_config_from_data` reads the
learning settings, and `document_as` turns a version back into a
``Playbook`` or an ``AuthorityPolicy``. Everything here is re-exported by
`servicetriage.store`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Callable as CallableABC
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, get_origin

from cattrs.errors import ClassValidationError, IterableValidationError

from servicetriage.authority import AuthorityPolicy, CompiledPolicy
from servicetriage.config import converter, load_section, problems_of, read_document, structure, unstructure
from servicetriage.errors import (
    PolicyError,
    ServiceTriageError,
    StoreError,
    TicketError,
)
from servicetriage.learning import LearningConfig, Penalty, PenaltyAction
from servicetriage.model import Money
from servicetriage.review import (
    Authority,
    IncidentReport,
    MayAuthorize,
)
from servicetriage.versions import (
    Amendment,
    Document,
    DocumentRef,
    Operation,
    Provenance,
    Version,
    VersionKind,
    thaw,
)

T = TypeVar("T")


def report_from_data(data: Any) -> IncidentReport:
    """Build an `IncidentReport` from plain data, naming every bad field."""
    if not isinstance(data, dict):
        msg = f"expected a table of report fields, got {type(data).__name__}"
        raise TicketError(msg)
    try:
        return converter.structure(data, IncidentReport)
    except (ClassValidationError, IterableValidationError) as exc:
        problems = problems_of(exc)
        raise TicketError("; ".join(problems), problems) from None
    except ServiceTriageError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        msg = f"<report>: {exc}"
        raise TicketError(msg) from None


def report_to_data(report: IncidentReport) -> dict[str, Any]:
    """The plain-data form of a report (what a report file holds)."""
    data: dict[str, Any] = converter.unstructure(report)
    return data


def load_reports(path: str | Path) -> tuple[IncidentReport, ...]:
    """Read one report, or a ``reports`` list of them, from a TOML, JSON or YAML file.

    Errors name the file and every bad field's path.
    """
    try:
        data = read_document(path)
    except PolicyError as exc:
        raise TicketError(str(exc), exc.problems) from None
    items = data["reports"] if isinstance(data, dict) and set(data) == {"reports"} else [data]
    if not isinstance(items, list):
        msg = f"{path}: reports: expected a list of reports, got {type(items).__name__}"
        raise TicketError(msg)
    result = []
    for index, item in enumerate(items):
        try:
            result.append(report_from_data(item))
        except TicketError as exc:
            where = f"{path}: reports[{index}]" if len(items) > 1 or item is not data else f"{path}"
            problems = tuple(f"{where}: {p}" for p in exc.problems)
            raise TicketError("; ".join(problems), problems) from None
    return tuple(result)


def amendment_to_data(amendment: Amendment) -> dict[str, Any]:
    """The plain-data form of an amendment."""
    return {
        "id": amendment.id,
        "target": {"kind": amendment.target.kind, "id": amendment.target.id},
        "base": amendment.base,
        "operations": [
            {"op": o.op.value, "path": list(o.path), "value": thaw(o.value), "index": o.index}
            for o in amendment.operations
        ],
        "provenance": {
            "incidents": list(amendment.provenance.incidents),
            "proposed_by": amendment.provenance.proposed_by,
            "reason": amendment.provenance.reason,
        },
        "summary": amendment.summary,
    }


def amendment_from_data(data: Any) -> Amendment:
    """Build an amendment from its plain-data form (`amendment_to_data`); a wrong type anywhere is a `PolicyError`."""
    try:
        return _amendment_from_data(data)
    except ServiceTriageError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        msg = f"amendment: {exc}"
        raise PolicyError(msg) from None


def _amendment_from_data(data: Any) -> Amendment:
    """Build an amendment from its plain-data form (`amendment_to_data`).

    Every error names the field's path and its value (``amendment.operations[1].op: ...``).
    """
    if not isinstance(data, dict):
        msg = f"amendment: expected a table of fields, got {data!r:.200}"
        raise PolicyError(msg)
    for name in ("id", "target", "operations"):
        if name not in data:
            msg = f"amendment.{name}: missing"
            raise PolicyError(msg)
    target = data["target"]
    if not isinstance(target, dict) or set(target) != {"kind", "id"}:
        msg = f"amendment.target: expected a table with 'kind' and 'id', got {target!r}"
        raise PolicyError(msg)
    operations = data["operations"]
    if not isinstance(operations, list | tuple):
        msg = f"amendment.operations: expected a list of operations, got {operations!r:.200}"
        raise PolicyError(msg)
    built = []
    for index, item in enumerate(operations):
        where = f"amendment.operations[{index}]"
        if not isinstance(item, dict) or "op" not in item:
            msg = f"{where}: expected a table with 'op', 'path' and 'value', got {item!r:.200}"
            raise PolicyError(msg)
        try:
            built.append(
                Operation(op=item["op"], path=item.get("path", ()), value=item.get("value"), index=item.get("index"))
            )
        except PolicyError as exc:
            msg = f"{where}.{str(exc).removeprefix('operation.')}"
            raise PolicyError(msg) from None
    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        msg = f"amendment.provenance: expected a table, got {provenance!r:.200}"
        raise PolicyError(msg)
    return Amendment(
        id=data["id"],
        target=DocumentRef(kind=target["kind"], id=target["id"]),
        base=data.get("base"),
        operations=built,
        provenance=Provenance(
            incidents=provenance.get("incidents", ()),
            proposed_by=provenance.get("proposed_by", "learning"),
            reason=provenance.get("reason", ""),
        ),
        summary=data.get("summary", ""),
    )


def version_to_data(version: Version) -> dict[str, Any]:
    """The plain-data form of a version, hash included (content kept byte for byte)."""
    return {
        "target": {"kind": version.target.kind, "id": version.target.id},
        "number": version.number,
        "parent": version.parent,
        "content": version.content,
        "author": version.author,
        "at": version.at.isoformat(),
        "kind": version.kind.value,
        "amendment": version.amendment,
        "message": version.message,
        "hash": version.hash,
    }


def version_from_data(data: Any) -> Version:
    """Build a version from its plain-data form, without re-hashing (so tampering stays visible).

    A missing or malformed field raises `StoreError` naming it.
    """
    try:
        return _version(data)
    except KeyError as exc:
        msg = f"version.{exc.args[0]}: missing"
        raise StoreError(msg) from None
    except (TypeError, ValueError, AttributeError) as exc:
        msg = f"version: malformed ({exc}) in {data!r:.200}"
        raise StoreError(msg) from None


def _version(data: Any) -> Version:
    return Version(
        target=DocumentRef(kind=data["target"]["kind"], id=data["target"]["id"]),
        number=data["number"],
        parent=data["parent"],
        content=data["content"],
        author=data["author"],
        at=datetime.fromisoformat(data["at"]),
        kind=VersionKind(data["kind"]),
        amendment=data["amendment"],
        message=data["message"],
        hash=data["hash"],
    )


def _penalty_to_data(penalty: Penalty) -> dict[str, Any]:
    return {
        "report_id": penalty.report_id,
        "party": penalty.party,
        "at": penalty.at.isoformat(),
        "count": penalty.count,
        "action": penalty.action.value,
        "fee": str(penalty.fee) if penalty.fee is not None else None,
        "reason": penalty.reason,
    }


def _penalty_from_data(data: Any) -> Penalty:
    return Penalty(
        report_id=data["report_id"],
        party=data["party"],
        at=datetime.fromisoformat(data["at"]),
        count=data["count"],
        action=PenaltyAction(data["action"]),
        fee=Money.parse(data["fee"]) if data["fee"] else None,
        reason=data["reason"],
    )


def authority_check(authority: Any) -> Authority:
    """The authority to hold reports to, from a policy, a policy file or a callable.

    *authority* may be an `AuthorityPolicy`
    (or its compiled form), returned as it is; a path to a TOML, JSON or YAML
    file holding an ``[authority]`` section (or a bare policy), loaded; or a
    ``may_authorize(tier, kind, amount) -> bool`` callable, returned as it is.
    `validate_report` and `Store.add_report`
    judge a policy with `servicetriage.authority.authorize`, deviation
    by deviation (see `check_deviations` for what
    is checked when a report leaves a fact out); a callable sees only the
    tier, the kind and the amount.
    """
    if isinstance(authority, AuthorityPolicy | CompiledPolicy):
        return authority
    if isinstance(authority, str | Path):
        data = read_document(authority)
        if isinstance(data, dict) and "authority" in data:
            loaded = load_section(authority, "authority", AuthorityPolicy, required=True)
            assert loaded is not None  # required=True
            return loaded
        try:
            return structure(data, AuthorityPolicy)
        except PolicyError as exc:
            problems = tuple(f"{authority}: {p}" for p in exc.problems)
            raise PolicyError("; ".join(problems), problems) from None
    if callable(authority):
        check: MayAuthorize = authority
        return check
    msg = (
        "authority: expected an AuthorityPolicy, a policy file or a may_authorize(tier, kind, amount) callable, "
        f"got {authority!r}"
    )
    raise PolicyError(msg)


def typed_check(kind: str) -> Callable[[Version], object] | None:
    """A check that a version of a *kind* document loads as its type, for `Store.apply`.

    ``"playbook"`` documents must load as a
    `Playbook`, ``"authority"`` documents as
    an `AuthorityPolicy`; errors name the
    version and every bad field's path. Other kinds have no check (``None``).
    """
    from servicetriage.playbooks import Playbook  # noqa: PLC0415 - only when checking

    types: dict[str, type[Any]] = {"playbook": Playbook, "authority": AuthorityPolicy}
    cls = types.get(kind)
    if cls is None:
        return None

    def check(version: Version) -> object:
        try:
            return document_as(version, cls)
        except PolicyError as exc:
            problems = tuple(f"{version.target} v{version.number}: {p}" for p in exc.problems)
            raise PolicyError("; ".join(problems), problems) from None

    return check


# The learning settings hold three code hooks (step, new_playbook, grant) beside plain
# settings. A file can set only the plain ones: this copy of the shared converter
# refuses the hooks with a clear message instead of cattrs' "unsupported type".
_settings = converter.copy()


def _code_only(_value: Any, _type: Any) -> Any:
    msg = "set in code (a function), not in a file"
    raise ValueError(msg)


def _is_callable(type_: Any) -> bool:
    origin: object = get_origin(type_)
    return origin is CallableABC


_settings.register_structure_hook_func(_is_callable, _code_only)


def learning_config_from_data(data: Any) -> LearningConfig:
    """Build `LearningConfig` from plain data (a ``[learning]`` table).

    Durations read ``"30d"``, the rate ``"0.6"``; the step, playbook and grant
    builders can only be set in code. Every error names the field and its value.
    """
    try:
        return _settings.structure(data, LearningConfig)
    except (ClassValidationError, IterableValidationError) as exc:
        problems = tuple(
            f"learning.{p}" if not p.startswith("<") else f"learning{p.removeprefix('<document>')}"
            for p in problems_of(exc)
        )
        raise PolicyError("; ".join(problems), problems) from None
    except ServiceTriageError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        msg = f"learning: expected a table of settings, got {data!r:.200} ({exc})"
        raise PolicyError(msg) from None


def load_learning_config(path: str | Path, section: str = "learning") -> LearningConfig:
    """Read the learning settings from the *section* table of a TOML, JSON or YAML file.

    A file without the section gives the defaults. Errors name the file and
    the field (``loop.toml: learning.window: ...``).
    """
    data = read_document(path)
    if not isinstance(data, dict) or section not in data:
        return LearningConfig()
    try:
        return learning_config_from_data(data[section])
    except PolicyError as exc:
        problems = tuple(f"{path}: {p}" for p in exc.problems)
        raise PolicyError("; ".join(problems), problems) from None


def document_of(value: Any) -> Document:
    """The plain-data document of a library value (a playbook, a policy), to version it."""
    return unstructure(value)


def document_as(document: Document | Version, cls: type[T]) -> T:
    """Build a typed value (``Playbook``, ``AuthorityPolicy``...) from a document or a version.

    Errors name every bad field's path, as `servicetriage.config.structure` does.
    """
    data = document.document if isinstance(document, Version) else thaw(document)
    return structure(data, cls)
