"""The public surface is complete: every class a public signature mentions can be imported and has an API entry.

"Public" is the `__all__` of the package and of every module that has an API page (a `::: servicetriage...`
line under `docs/reference/api/`). From each public name the tests follow the annotations of its public
signatures (function parameters and results, attrs fields, public methods and properties) to every class of
the library they reach, and from each class on to the classes its own signatures reach.
"""

from __future__ import annotations

import builtins
import collections.abc
import datetime as dt
import decimal
import importlib
import inspect
import pathlib
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

import servicetriage

API_PAGES = pathlib.Path(__file__).parent.parent / "docs" / "reference" / "api"



def _documented_modules() -> dict[str, types.ModuleType]:
    names = [
        name
        for page in sorted(API_PAGES.glob("*.md"))
        for name in re.findall(r"^::: (servicetriage[\w.]*)\s*$", page.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    return {name: importlib.import_module(name) for name in names}


DOCUMENTED = _documented_modules()


def _public(module: types.ModuleType) -> dict[str, Any]:
    return {name: getattr(module, name) for name in module.__all__}


def _namespace() -> dict[str, Any]:
    """What an annotation written under `TYPE_CHECKING` may name: the library's public names and the standard ones."""
    namespace: dict[str, Any] = {**vars(typing), **vars(collections.abc)}
    namespace |= {"datetime": dt.datetime, "timedelta": dt.timedelta, "tzinfo": dt.tzinfo}
    namespace |= {"Decimal": decimal.Decimal, "Path": pathlib.Path}
    for module in (servicetriage, *DOCUMENTED.values()):
        namespace |= _public(module)
    return namespace


NAMESPACE = _namespace()


def _hints(obj: Any) -> dict[str, Any]:
    """The resolved annotations of *obj*; an annotation that cannot be resolved fails the test, naming it."""
    try:
        return typing.get_type_hints(obj)
    except NameError:
        module = sys.modules[obj.__module__]
        namespace = {**NAMESPACE, **vars(module)}
        return typing.get_type_hints(obj, globalns=namespace, localns=_OutsideNames(namespace, **vars(builtins)))


class _Outside:
    """A name from an optional dependency imported only for type checking (`pa.RecordBatch`): not the library's."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return Any

    def __call__(self, *_args: object) -> None:  # typing accepts a callable as a type argument
        return None

    def __getitem__(self, _item: object) -> Any:
        return Any

    def __or__(self, _other: object) -> Any:
        return Any

    __ror__ = __or__


class _OutsideNames(dict[str, Any]):
    """The names an annotation may use, and an `_Outside` for any other."""

    def __missing__(self, key: str) -> Any:
        return _Outside()


def _classes(annotation: Any) -> Iterator[type]:
    """The library's classes named anywhere in *annotation* (inside unions, tuples, mappings, callables)."""
    if isinstance(annotation, list):  # several annotations, or the parameters of a Callable
        for item in annotation:
            yield from _classes(item)
        return
    if isinstance(annotation, type) and annotation.__module__.split(".")[0] == "servicetriage":
        yield annotation
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and origin.__module__.split(".")[0] == "servicetriage":
        yield origin
    for argument in typing.get_args(annotation):
        yield from _classes(argument)


def _inputs(obj: Any) -> Iterator[type]:
    """Classes one needs to call *obj*: its parameters, or the fields an attrs class is built from."""
    if inspect.isclass(obj):
        if attrs.has(obj):
            hints = _hints(obj)
            for field in attrs.fields(obj):
                if field.init:
                    yield from _classes(hints[field.name])
        elif "__init__" in vars(obj):
            yield from _classes([v for k, v in _hints(obj.__init__).items() if k != "return"])
    elif inspect.isfunction(obj):
        yield from _classes([v for k, v in _hints(obj).items() if k != "return"])


def _signature_classes(obj: Any) -> Iterator[type]:
    """Classes named by every public signature of *obj*: its inputs, its result, its public methods and properties."""
    yield from _inputs(obj)
    if inspect.isfunction(obj):
        yield from _classes(_hints(obj).get("return"))
    if not inspect.isclass(obj):
        return
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if inspect.isfunction(function):
            yield from _classes(list(_hints(function).values()))


def _reachable(start: Iterable[Any], step: Callable[[Any], Iterator[type]]) -> dict[type, str]:
    """Every class reached from *start* by *step*, each with the public name it was first reached from."""
    found: dict[type, str] = {}
    todo = [(obj, getattr(obj, "__qualname__", repr(obj))) for obj in start]
    seen: set[int] = set()
    while todo:
        obj, origin = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for cls in step(obj):
            if cls not in found:
                found[cls] = origin
                todo.append((cls, cls.__qualname__))
    return found


def _exported_classes() -> dict[type, list[str]]:
    exported: dict[type, list[str]] = {}
    for module_name, module in {"servicetriage": servicetriage, **DOCUMENTED}.items():
        for name, obj in _public(module).items():
            if isinstance(obj, type):
                exported.setdefault(obj, []).append(f"{module_name}.{name}")
    return exported


def test_every_documented_module_declares_its_public_names() -> None:
    """Each module with an API page has an `__all__`, and every name in it exists."""
    assert "servicetriage.model" in DOCUMENTED
    for name, module in DOCUMENTED.items():
        assert isinstance(getattr(module, "__all__", None), list), name
        missing = [public for public in module.__all__ if not hasattr(module, public)]
        assert missing == [], name
    assert [name for name in servicetriage.__all__ if not hasattr(servicetriage, name)] == []


def test_every_class_reachable_from_a_public_signature_is_exported_and_has_an_api_entry() -> None:
    """A class named by a public signature is in the `__all__` of a module with an API page (and so on that page)."""
    start = [obj for module in (servicetriage, *DOCUMENTED.values()) for obj in _public(module).values()]
    reachable = _reachable(start, _signature_classes)
    documented: set[type] = set()
    for module in DOCUMENTED.values():
        documented |= {obj for obj in _public(module).values() if isinstance(obj, type)}
    assert servicetriage.Ticket in reachable
    unlisted = sorted(
        f"{cls.__module__}.{cls.__qualname__} (from {origin})"
        for cls, origin in reachable.items()
        if cls not in documented
    )
    assert unlisted == []


def test_everything_needed_to_build_what_the_root_offers_is_importable_from_the_root() -> None:
    """A policy, request, playbook or report can be built from `servicetriage` alone."""
    root = {obj for obj in _public(servicetriage).values() if isinstance(obj, type)}
    needed = _reachable(_public(servicetriage).values(), _inputs)
    assert servicetriage.Ticket in needed
    missing = sorted(
        f"{cls.__module__}.{cls.__qualname__} (for {origin})"
        for cls, origin in needed.items()
        if cls not in root
    )
    assert missing == []


def test_each_public_class_name_means_one_thing() -> None:
    """No two public classes share a name: a name read anywhere in the API stands for one concept."""
    owners: dict[str, set[str]] = {}
    for cls, places in _exported_classes().items():
        owners.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__} (as {', '.join(places)})")
    assert {name: sorted(found) for name, found in owners.items() if len(found) > 1} == {}


def test_the_missing_names_of_the_issue_come_from_the_root() -> None:
    """The names a policy author reached for and could not import from the package are there."""
    for name in ("Limits", "Conditions", "Delegation", "Trigger", "Event"):
        assert name in servicetriage.__all__
