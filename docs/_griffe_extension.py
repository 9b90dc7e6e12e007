"""How the API pages read the library's docstrings and classes (a Griffe extension, used by the docs build only).

Two things a reader needs that the source does not spell out the way the
documentation generator expects:

- **Examples render as code.** The docstrings hold doctest examples
  (``>>>`` lines and their output), which the tests run; in Markdown a line
  starting with ``>`` is a quotation, so each run of example lines is fenced
  as a ``pycon`` code block.
- **No reST leftovers.** The pages are Markdown: a reST role
  (``:class:`X```), a reST link (```X <y>`_``) or a ``::`` literal marker
  would show raw, so the build fails on one, naming the object.
- **An attrs class shows what to pass.** ``@attrs.frozen`` writes the class's
  ``__init__`` at run time, so the static reader sees none; one is added,
  with a parameter per field (annotation and default), keyword-only where
  the class says so.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_PROMPT = re.compile(r"^\s*>>> ")
_FENCE = re.compile(r"^\s*(```|~~~)")
_REST = re.compile(r":[a-z]+:`|`[^`]+ <[^>`]+>`_?|::\s*$", re.MULTILINE)
_ATTRS_DECORATORS = {"attrs.frozen", "attrs.define", "attrs.mutable", "attr.s", "attrs.frozen()", "attrs.define()"}


def fence_examples(text: str) -> str:
    """Wrap every run of doctest lines (a ``>>>`` line up to the next blank line) in a ``pycon`` fence."""
    lines = text.split("\n")
    out: list[str] = []
    index, fenced = 0, False
    while index < len(lines):
        line = lines[index]
        if _FENCE.match(line):
            fenced = not fenced
        if fenced or not _PROMPT.match(line):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        block = []
        while index < len(lines) and lines[index].strip():
            block.append(lines[index])
            index += 1
        out += [f"{indent}```pycon", *block, f"{indent}```"]
    return "\n".join(out)


def _is_attrs_class(cls: griffe.Class) -> tuple[bool, bool]:
    """Whether *cls* is an attrs class, and whether its fields are keyword-only."""
    for decorator in cls.decorators:
        text = str(decorator.value)
        name = text.split("(", 1)[0]
        if name in {d.split("(", 1)[0] for d in _ATTRS_DECORATORS}:
            return True, "kw_only=True" in text
    return False, False


def _default(value: str | None) -> str | None:
    """The default of a field from its class-body value (``None``: required)."""
    if value is None:
        return None
    try:
        node = ast.parse(value, mode="eval").body
    except SyntaxError:
        return value
    if isinstance(node, ast.Call) and ast.unparse(node.func) in {"attrs.field", "attr.ib", "field"}:
        for keyword in node.keywords:
            if keyword.arg == "default":
                return ast.unparse(keyword.value)
            if keyword.arg == "factory":
                return ast.unparse(keyword.value) + "()"
        return None
    return value


def _init_false(value: str | None) -> bool:
    return value is not None and "init=False" in value.replace(" ", "")


class ServicetriageDocs(griffe.Extension):
    """Fence doctest examples and give attrs classes their ``__init__`` signature."""

    def on_instance(self, *, obj: griffe.Object, **_kwargs: Any) -> None:
        if obj.docstring is not None:
            leftover = _REST.search(obj.docstring.value)
            if leftover is not None:
                msg = f"{obj.path}: reST markup {leftover.group()!r} in a docstring; write Markdown"
                raise ValueError(msg)
            obj.docstring.value = fence_examples(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **_kwargs: Any) -> None:
        is_attrs, kw_only = _is_attrs_class(cls)
        if not is_attrs or "__init__" in cls.members:
            return
        parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
        for member in cls.members.values():
            if member.is_alias or not member.is_attribute or member.annotation is None:
                continue
            annotation = str(member.annotation)
            value = None if member.value is None else str(member.value)
            if annotation.startswith(("ClassVar", "typing.ClassVar")) or _init_false(value):
                continue
            parameters.append(
                griffe.Parameter(
                    member.name.lstrip("_"),
                    annotation=member.annotation,
                    kind=griffe.ParameterKind.keyword_only if kw_only else griffe.ParameterKind.positional_or_keyword,
                    default=_default(value),
                )
            )
        init = griffe.Function("__init__", parameters=griffe.Parameters(*parameters), returns="None")
        cls.set_member("__init__", init)
