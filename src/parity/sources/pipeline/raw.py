"""What the GitHub and GitLab readers produce: jobs as written (reusable workflows, composite actions,
includes, ``extends`` and anchors already resolved), before classification and normalisation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.model import Json

_INPUT = re.compile(r"\$\{\{\s*inputs\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")


@dataclass
class RawStep:
    data: dict[str, Json]  # the step as written (plain data), inputs substituted
    file: str
    line: int
    prefix: str = ""  # "deploy.yml/" or "actions/setup/" for steps pulled in from elsewhere


@dataclass
class RawJob:
    id: str
    name: str
    file: str
    line: int
    environment: str | None = None
    environment_action: str | None = None  # GitLab environment:action (stop, prepare, ...)
    needs: list[str] = field(default_factory=list)
    has_needs: bool = False
    steps: list[RawStep] = field(default_factory=list)
    # compared settings, as written (plain data): runs_on, permissions, if, uses, with, env, stage, when,
    # rules, only, except, variables, ...
    settings: dict[str, Json] = field(default_factory=dict)
    manual: bool = False
    allow_failure: bool = False


@dataclass
class RawWorkflow:
    provider: str
    file: str  # as shown
    rel: str  # relative to the repository folder (for keys)
    name: str
    jobs: list[RawJob]
    triggers: dict[str, Json] = field(default_factory=dict)
    workflow_rules: Json = None
    stages: list[str] = field(default_factory=list)


def substitute_inputs(value: Any, inputs: dict[str, Json]) -> Any:
    """``value`` with plain ``${{ inputs.x }}`` references replaced by the inputs given (deep)."""
    if not inputs:
        return value
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in inputs:
                return m.group(0)
            v = inputs[name]
            return ("true" if v else "false") if isinstance(v, bool) else str(v)

        return _INPUT.sub(sub, value)
    if isinstance(value, dict):
        return {k: substitute_inputs(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_inputs(v, inputs) for v in value]
    return value


def str_list(value: Json) -> list[str]:
    """A string or list of strings (needs:, extends:, branches:) as a list; anything else is empty."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def needs_cycle(needs: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle among jobs (job id -> the ids it needs) as ``[a, b, ..., a]`` (``[a, a]``: ``a`` needs itself),
    or None. Needs naming no job here are skipped. Iterative, so a chain of thousands of jobs is fine."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in needs:
        if start in state:
            continue
        path = [start]
        todo = [iter(needs[start])]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif nxt in needs:
                seen = state.get(nxt)
                if seen == 1:
                    return [*path[path.index(nxt) :], nxt]
                if seen is None:
                    state[nxt] = 1
                    path.append(nxt)
                    todo.append(iter(needs[nxt]))
    return None


def inside(root: Path, path: Path) -> bool:
    """True when ``path``, with ``..`` and symlinks resolved, is ``root`` or under it (a file outside the
    repository is never read: ``uses: ./../../etc/passwd``, ``include: ../secrets.yml``, a symlink out)."""
    return path.resolve().is_relative_to(root.resolve())
