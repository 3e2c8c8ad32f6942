"""docs/cli.md and the real command line cannot drift apart: every command, argument, option name and
choice that `parity` accepts is mentioned in the command's section of docs/cli.md (or, for the options the
reporting commands share, in the table before the first section), and every command the doc describes exists.

The command tree is walked as click sees it (``typer.main.get_command``), so a new option fails here until
it is documented."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from parity.cli import app

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
ROOT = typer.main.get_command(app)
COMMANDS: dict[str, Any] = dict(getattr(ROOT, "commands", {}))


def _sections() -> tuple[str, dict[str, str]]:
    """The text before the first ``## `` heading (the common options), and each ``## parity NAME ...``
    section by command name."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    common, sections = parts[0], {}
    for part in parts[1:]:
        m = re.match(r"parity ([a-z][a-z-]*)\b", part)
        if m:
            assert m[1] not in sections, f"docs/cli.md has two sections for parity {m[1]}"
            sections[m[1]] = part
    return common, sections


COMMON, SECTIONS = _sections()


def _mentions(text: str, word: str) -> bool:
    """``word`` (an option like ``--env`` or ``-e``, a choice, an argument name) as a whole token."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _choices(param: Any) -> list[str]:
    """The accepted values of an option with a fixed set (an enum), as the help lists them."""
    choices = getattr(getattr(param, "type", None), "choices", None)  # plain click
    if choices:
        return [str(c) for c in choices]
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)  # typer's own
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    return []


def test_the_command_tree_was_found() -> None:
    assert {"scan", "diff", "drift", "history", "accept", "promote-check", "init"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_its_section(name: str) -> None:
    if COMMANDS[name].hidden:
        pytest.skip("hidden command")
    assert name in SECTIONS, f"`parity {name}` exists but docs/cli.md has no `## parity {name}` section"


def test_every_documented_command_exists() -> None:
    unknown = sorted(set(SECTIONS) - set(COMMANDS))
    assert unknown == [], f"docs/cli.md describes commands parity does not have: {unknown}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_argument_and_choice_is_documented(name: str) -> None:
    cmd = COMMANDS[name]
    if cmd.hidden or name not in SECTIONS:
        pytest.skip("no section (reported by test_every_command_has_its_section)")
    section = SECTIONS[name]
    missing: list[str] = []
    for param in cmd.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            # arguments are written in capitals in usage lines: parity diff ENV_A ENV_B
            if not _mentions(section, param.name.upper()):
                missing.append(param.name.upper())
            continue
        for opt in [*param.opts, *param.secondary_opts]:
            if not (_mentions(section, opt) or _mentions(COMMON, opt)):
                missing.append(opt)
        for choice in _choices(param):
            if not (_mentions(section, choice) or _mentions(COMMON, choice)):
                missing.append(f"{param.opts[0]} {choice}")
    assert missing == [], f"parity {name} takes {missing}, not mentioned in docs/cli.md"


def test_documented_defaults_of_the_shared_options_are_the_real_ones() -> None:
    """The common-options table states the config default and its environment variable."""
    scan = COMMANDS["scan"]
    config = next(p for p in scan.params if p.name == "config")
    assert str(config.default) == "parity.yaml" and f"`./{config.default}`" in COMMON
    assert config.envvar == "PARITY_CONFIG" and "$PARITY_CONFIG" in COMMON
    fmt = next(p for p in scan.params if p.name == "fmt")
    assert f"`{getattr(fmt.default, 'value', fmt.default)}` (default" in COMMON
