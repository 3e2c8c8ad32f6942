"""Shared helpers for the pipeline tests: a parity.yaml with both environments on one repository."""

from __future__ import annotations

import shutil
from pathlib import Path

from parity.compare import Inventory
from parity.config import LoadedConfig, load_config
from parity.model import Finding
from parity.pipeline import analyse, collect
from parity.redact import Redactor

DATA = Path(__file__).parent / "data" / "pipelines"
REDACTOR = Redactor(b"parity-tests-fixed-key-0123456789")


def project(tmp: Path, fixture: str | None = None, rules: str = "", files: dict[str, str] | None = None) -> Path:
    """A folder holding parity.yaml and repo/ (a copy of ``fixture`` plus ``files``); returns the config."""
    repo = tmp / "repo"
    if fixture is not None:
        shutil.copytree(DATA / fixture, repo)
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    cfg = tmp / "parity.yaml"
    cfg.write_text(
        "store: sqlite:///.parity/parity.db\n"
        "environments:\n"
        "  staging: {sources: [{kind: pipeline, path: repo}]}\n"
        "  production: {sources: [{kind: pipeline, path: repo}]}\n"
        "promotion: [staging, production]\n" + rules
    )
    return cfg


def inventories(cfg: Path) -> tuple[LoadedConfig, dict[str, Inventory]]:
    loaded = load_config(cfg)
    return loaded, collect(loaded, ["staging", "production"], REDACTOR)


def findings(cfg: Path) -> list[Finding]:
    loaded, invs = inventories(cfg)
    return analyse(loaded, invs, mirrors=[("staging", "production")], references=True, pipelines=True).findings


ALL_RULES = """rules:
  - {rule: pipeline_protected_environment, environments: [production]}
  - {rule: pipeline_no_static_cloud_keys, environments: [production]}
  - {rule: pipeline_pinned_actions, environments: [production]}
"""
