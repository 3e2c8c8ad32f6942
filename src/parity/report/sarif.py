"""SARIF 2.1.0 output, for code-scanning tools (GitHub code scanning, GitLab, Azure DevOps).

One run, one result per finding: ``ruleId`` is the finding kind (every kind of the vocabulary is a
``tool.driver.rules`` entry, so ``ruleIndex`` is stable), the level comes from the severity, the finding id
is the ``partialFingerprints`` entry that lets a code-scanning service track a result across runs, and the
location is the Terraform state / manifest / workflow file and line where the finding's ``location`` is
known (relative to the config folder, which CI tools resolve against the checkout when parity.yaml sits at
the repository root). Accepted findings carry an external suppression; the lifecycle status is mapped to
``baselineState``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson

from parity import __version__
from parity.model import FINDING_KINDS, Finding
from parity.report.model import Report, sort_findings
from parity.serialize import attribution_to_dict, change_to_dict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "parityFindingId/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
BASELINE = {"new": "new", "recurring": "new", "open": "unchanged", "accepted": "unchanged"}

# One line per finding kind: what it means (the rule's short description) and what to do (its help).
RULES: dict[str, tuple[str, str]] = {
    "only_in": (
        "A resource exists in one mirrored environment and not the other.",
        "Create the resource in the other environment, remove it, or declare the difference with an ignore rule.",
    ),
    "differs": (
        "Mirrored resources differ beyond the declared expected differences.",
        "Align the environments, or declare the intended difference under `expected:` in parity.yaml.",
    ),
    "unmanaged": (
        "A live resource has no declaration in code.",
        "Import it into Terraform / the manifests, or delete it if it should not exist.",
    ),
    "missing": (
        "A declared resource is not live.",
        "Apply the code, or remove the declaration.",
    ),
    "changed": (
        "A live resource differs from its declaration.",
        "Re-apply the code, or bring the change into code (backport the hotfix).",
    ),
    "permission_gap": (
        "A principal may do more in one mirrored environment than in the other.",
        "Scope the wider grant down, or declare the difference.",
    ),
    "elevated_grant": (
        "A broad or privileged grant exists outside code, or is older than allowed.",
        "Revoke the grant or move it into code with an expiry.",
    ),
    "promotion_bypass": (
        "Something can reach a later stage without passing the earlier stage.",
        "Route the change through the promotion path (staging before production).",
    ),
    "not_backported": (
        "A later-stage change that the earlier stage still lacks after the allowed delay.",
        "Backport the change to the earlier stage.",
    ),
    "cross_env_reference": (
        "A resource or setting in one environment names another environment's account, host or name.",
        "Point the setting at the environment's own resources.",
    ),
    "policy_violation": (
        "A declared rule of parity.yaml is broken.",
        "Fix the violation, or change the rule.",
    ),
}


def _rule_name(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))


def _rules() -> list[dict[str, Any]]:
    out = []
    for kind in FINDING_KINDS:
        short, help_text = RULES.get(kind, (kind.replace("_", " "), ""))
        out.append(
            {
                "id": kind,
                "name": _rule_name(kind),
                "shortDescription": {"text": short},
                "fullDescription": {"text": short},
                "help": {"text": help_text or short},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"tags": ["drift", kind]},
            }
        )
    return out


_DRIVE = re.compile(r"^[A-Za-z]:/")


def artifact_uri(file: str) -> str:
    """A SARIF URI reference for ``file``: relative paths stay relative (percent-encoded), absolute become file:.

    Windows paths too: ``C:\\tf\\main.tf`` is ``file:///C:/tf/main.tf`` (it was the relative reference
    ``C%3A/tf/main.tf``, resolved against the checkout), a UNC path ``\\\\host\\share\\x`` is ``file://host/share/x``.
    """
    path = file.replace("\\", "/")
    if _DRIVE.match(path):
        return "file:///" + path[:2] + quote(path[2:], safe="/")
    if path.startswith("//") and not path.startswith("///"):
        host, _, rest = path[2:].partition("/")
        return f"file://{quote(host, safe='')}/{quote(rest, safe='/')}"
    if path.startswith("/"):
        return "file://" + quote(path, safe="/")
    return quote(path, safe="/")


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.kind,
        "ruleIndex": index[f.kind],
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f.message or f"{f.kind}: {f.key}"},
        "partialFingerprints": {FINGERPRINT_KEY: f.id},
        "properties": {
            "id": f.id,
            "severity": f.severity,
            "status": f.status,
            "type": f.type,
            "key": f.key,
            "environments": list(f.environments),
            "resources": dict(f.resources),
            "changes": [change_to_dict(c) for c in f.changes],
        },
    }
    if f.notes:  # what could not be checked about it (an unreadable policy, a lookup that failed)
        out["properties"]["notes"] = list(f.notes)
    if f.attribution is not None:  # who made the out-of-band change, as the JSON report gives it
        out["properties"]["attribution"] = attribution_to_dict(f.attribution)
    if f.location is not None and f.location.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(f.location.file)}}
        if f.location.line is not None and f.location.line >= 1:
            physical["region"] = {"startLine": f.location.line}
        out["locations"] = [{"physicalLocation": physical}]
    if f.status in BASELINE:
        out["baselineState"] = BASELINE[f.status]
    if f.status == "accepted":
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": "; ".join(f.notes)}]
    return out


def to_dict(report: Report, strict: bool = False) -> dict[str, Any]:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "parity",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "endTimeUtc": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "exitCode": report.exit_code(strict),
            }
        ],
        "results": [_result(f, index) for f in sort_findings(report.findings)],
        "columnKind": "unicodeCodePoints",
        "properties": {"title": report.title, "summary": report.summary(strict)},
    }
    if report.scan_id is not None:
        # No automationDetails: GitHub takes a run's category from its id when present, ignoring the
        # upload's `category:`, and a per-scan id made every scan its own category, so alerts of earlier
        # scans were never closed. The scan is named in the run's properties instead.
        run["properties"]["scan_id"] = report.scan_id
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    return orjson.dumps(to_dict(report, strict), option=orjson.OPT_INDENT_2).decode() + "\n"
