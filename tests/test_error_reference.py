"""The error reference is true: every error class has an example in docs/reference/errors.md that raises it."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from servicetriage import errors

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "reference" / "errors.md").read_text(encoding="utf-8")
_SECTION = re.compile(r"^### `(\w+)`\n(.*?)(?=^##|\Z)", re.MULTILINE | re.DOTALL)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

#: Each error section of the reference: the class it names and its code blocks.
SECTIONS = {name: _BLOCK.findall(body) for name, body in _SECTION.findall(DOC)}
CLASSES = sorted(
    name
    for name, value in vars(errors).items()
    if inspect.isclass(value)
    and issubclass(value, errors.ServiceTriageError)
    and value is not errors.ServiceTriageError
)


def test_every_error_class_has_a_section_with_an_example() -> None:
    assert sorted(errors.__all__[i] for i, n in enumerate(errors.__all__) if n != "ServiceTriageError") == CLASSES
    missing = [name for name in CLASSES if not SECTIONS.get(name)]
    assert not missing, f"errors.md has no example for {missing}"


@pytest.mark.parametrize(
    ("name", "index"), [(name, i) for name in sorted(SECTIONS) for i in range(len(SECTIONS[name]))]
)
def test_every_example_raises_the_error_it_names(name: str, index: int, tmp_path: Path) -> None:
    namespace: dict[str, object] = {"tmp_path": tmp_path}
    cwd = Path.cwd()
    os.chdir(ROOT)  # the examples read examples/ as the docs tests do
    try:
        exec(SECTIONS[name][index], namespace)
    finally:
        os.chdir(cwd)
    assert type(namespace["error"]).__name__ == name
