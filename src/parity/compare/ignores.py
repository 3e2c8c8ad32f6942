"""The ``ignore`` rules: known divergences tolerated with an owner, a reason and an expiry.

A rule matches a finding when its ``kind``, ``type`` and ``key`` globs match and, if it names
``environments``, the finding's environments are among them. One Kubernetes object paired across two
API versions is one ``differs`` under the left side's type and key; a rule naming either side's matches
it. ``type``, ``key`` and ``path`` are matched as :mod:`parity.globs` says: brackets match themselves
(``aws_vpc.main[0]``, ``containers[web].image``), and a path covers the paths beneath it.

- An active rule (``Rules.today <= expires``) without ``path`` suppresses the whole finding.
- An active rule with ``path`` suppresses just the changes whose path matches the glob; a finding
  left with no changes is suppressed whole. For a ``cross_env_reference`` (one path per finding, in
  ``detail``) the glob is matched against that path.
- An expired rule suppresses nothing: the finding stays and gets the note
  "ignore rule expired on DATE (owner: X, reason: Y)" — the finding comes back, with its history.

Suppressed changes and wholly ignored findings carry :class:`~parity.model.Suppressed` entries
(rule ``ignore``, with owner and expiry) so the report can list them. When changes were removed the
finding's severity is recomputed from what is left.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from parity.compare.mirrors import API_VERSION_PATH
from parity.compare.pairing import api_version, kube_group_kind
from parity.compare.severity import change_severity
from parity.compare.types import Rules
from parity.config import Ignore
from parity.globs import path_match, rule_matches
from parity.model import Finding, Suppressed


@dataclass(frozen=True)
class IgnoreResult:
    kept: tuple[Finding, ...]  # findings still reported (possibly with fewer changes, or expiry notes)
    ignored: tuple[Finding, ...]  # findings suppressed whole; their `suppressed` names the rule
    notes: tuple[str, ...]  # one line per expired rule that matched something


def _identities(f: Finding) -> list[tuple[str, str]]:
    """The (type, key) pairs a rule may name ``f`` by: its own, and for one Kubernetes object paired across
    two API versions (a ``differs`` with a change at ``apiVersion``, shown or already suppressed) each
    version's, as ``expected`` rules match either side's type and key (:mod:`parity.compare.mirrors`)."""
    out = [(f.type, f.key)]
    if f.kind != "differs" or kube_group_kind(f.type) is None:
        return out
    changes = [*f.changes, *(s.change for s in f.suppressed if s.change is not None)]
    for c in changes:
        if c.path == API_VERSION_PATH and c.left == api_version(f.type) and isinstance(c.right, str):
            kind = f.type.rpartition("/")[2]
            for version in (c.left, c.right):
                type_ = f"{version}/{kind}"
                key = type_ + f.key[len(f.type) :] if f.key.startswith(f.type + "/") else f.key
                if (type_, key) not in out:
                    out.append((type_, key))
            break
    return out


def _matches(rule: Ignore, f: Finding) -> bool:
    return fnmatch.fnmatchcase(f.kind, rule.kind) and any(
        rule_matches(rule.type, rule.key, None, rule.environments, type_, key, None, f.environments)
        for type_, key in _identities(f)
    )


def _suppressed(rule: Ignore, change: object = None) -> Suppressed:
    return Suppressed(
        rule="ignore",
        reason=rule.reason,
        change=change,  # type: ignore[arg-type]
        owner=rule.owner,
        expires=rule.expires.isoformat(),
    )


def expiry_note(rule: Ignore) -> str:
    return f"ignore rule expired on {rule.expires.isoformat()} (owner: {rule.owner}, reason: {rule.reason})"


def apply_ignores(findings: Sequence[Finding], rules: Rules) -> IgnoreResult:
    """Apply ``rules.ignore`` to ``findings`` (see the module docstring)."""
    kept: list[Finding] = []
    ignored: list[Finding] = []
    notes: dict[str, None] = {}
    for f in findings:
        current = f
        whole: Ignore | None = None
        for rule in rules.ignore:
            if not _matches(rule, current):
                continue
            if rule.expired(rules.today):
                note = expiry_note(rule)
                notes[note] = None
                if note not in current.notes:
                    current = dataclasses.replace(current, notes=(*current.notes, note))
                continue
            if rule.path is None:
                whole = rule
                break
            if current.changes:
                hit = [c for c in current.changes if path_match(c.path, rule.path)]
                if not hit:
                    continue
                left = tuple(c for c in current.changes if c not in hit)
                current = dataclasses.replace(
                    current,
                    changes=left,
                    suppressed=(*current.suppressed, *(_suppressed(rule, c) for c in hit)),
                )
                if not left:
                    whole = rule
                    break
                if current.kind in ("differs", "changed"):
                    current = dataclasses.replace(current, severity=change_severity(current.kind, current.type, left))
            elif current.kind == "cross_env_reference" and path_match(current.detail, rule.path):
                whole = rule
                break
        if whole is not None:
            ignored.append(dataclasses.replace(current, suppressed=(*current.suppressed, _suppressed(whole))))
        else:
            kept.append(current)
    return IgnoreResult(tuple(kept), tuple(ignored), tuple(notes))
