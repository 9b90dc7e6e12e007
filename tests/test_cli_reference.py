"""The command-line reference shows every command's usage exactly as the parser prints it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from servicetriage.cli import build_parser

PAGE = Path(__file__).parent.parent / "docs" / "reference" / "cli.md"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _documented_usages() -> list[str]:
    blocks = re.findall(r"```text\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)
    usages: list[str] = []
    for block in blocks:
        usages.extend("usage: " + part.strip() for part in block.split("usage: ")[1:])
    return usages


def _parser_for(usage: str) -> argparse.ArgumentParser:
    words = usage.split()[2:]  # after "usage: servicetriage"
    parser = build_parser()
    for word in words:
        children = _subparsers(parser)
        if word not in children:
            break
        parser = children[word]
    return parser


def test_every_top_level_command_is_documented() -> None:
    documented = {usage.split()[2] for usage in _documented_usages()}
    assert set(_subparsers(build_parser())) <= documented


@pytest.mark.parametrize("usage", _documented_usages(), ids=lambda u: " ".join(u.split()[1:4]))
def test_documented_usage_matches_the_parser(usage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert _parser_for(usage).format_usage().strip() == usage
