"""One finding per thing wrong, each with its own id.

A finding's id is a fingerprint of its kind, type, key, environments and detail
(:func:`parity.model.fingerprint`). Two findings can share it in two ways:

- the **same object seen twice** (two sources of one environment hold it: a Terraform state and a plan
  of it, a manifest folder given twice): the findings name the same resources, and are one finding;
  the first in a stable order (by location, then message) is kept;
- **two objects sharing a key** (two Terraform states of one environment, each with an
  ``aws_s3_bucket.logs`` for a different bucket): each is its own finding, and they are told apart by
  adding the resources' native ids to ``detail`` (``@staging=logs-a``), so each has its own id, its own
  lifecycle and can be accepted on its own. A key that is unique keeps its id unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from parity.model import Finding


def _order(f: Finding) -> tuple[str, int, str]:
    loc = f.location
    return (loc.file if loc else "", (loc.line or 0) if loc else 0, f.message)


def resources_label(f: Finding) -> str:
    return ",".join(f"{env}={f.resources[env]}" for env in sorted(f.resources))


def tell_apart(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` with duplicates of one object dropped and findings of distinct objects that share an id
    given distinct ids (see the module docstring). Order is kept; a list without shared ids is returned as is."""
    ids = [f.id for f in findings]
    if len(set(ids)) == len(ids):
        return list(findings)
    groups: dict[str, list[Finding]] = {}
    for fid, f in zip(ids, findings, strict=True):
        groups.setdefault(fid, []).append(f)
    out: list[Finding] = []
    for fid, f in zip(ids, findings, strict=True):
        group = groups.get(fid)
        if group is None:
            continue  # emitted with the first of its group
        del groups[fid]
        if len(group) == 1:
            out.append(f)
            continue
        by_resources: dict[str, Finding] = {}
        for g in sorted(group, key=_order):
            by_resources.setdefault(resources_label(g), g)
        if len(by_resources) == 1:
            out.extend(by_resources.values())
            continue
        for label, g in sorted(by_resources.items()):
            out.append(dataclasses.replace(g, detail=f"{g.detail}@{label}"))
    return out
