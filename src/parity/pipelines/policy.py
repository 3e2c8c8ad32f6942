"""``policy_violation`` for the pipeline rules of ``parity.yaml`` (``rules:``), over deploy-job Resources.

- ``pipeline_protected_environment`` (high). GitHub: the job names an ``environment:``; required
  reviewers, wait timers and branch policies are attached to it in the repository settings, which a
  file cannot show, so naming it is what the file can prove. GitLab: ``environment:`` *and* a manual
  gate (``when: manual`` on the job or in one of its rules), GitLab's in-file form of an approval.
- ``pipeline_no_static_cloud_keys`` (high): no long-lived cloud key in the job's or a step's ``env``,
  ``with``, ``variables`` or ``secrets``: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, the
  ``aws-access-key-id`` / ``aws-secret-access-key`` inputs of aws-actions/configure-aws-credentials,
  GCP ``credentials_json`` / ``service_account_key`` / ``GOOGLE_CREDENTIALS`` / ``GCP_SA_KEY`` /
  ``GCLOUD_SERVICE_KEY``, Azure ``AZURE_CLIENT_SECRET`` / ``ARM_CLIENT_SECRET`` / ``client-secret`` /
  ``creds``. The message names OIDC as the fix. (GitLab project-level CI/CD variables live in the
  settings and are invisible here.)
- ``pipeline_pinned_actions`` (medium): every ``uses:`` of a step, and of a job calling a remote
  reusable workflow, pinned to a full 40-hex commit SHA; local ``./`` actions and
  ``docker://...@sha256:`` images are fine (an unpinned ``docker://`` image is told to pin its digest,
  not a commit); ``actions/*`` must be pinned too unless ``allow`` says so.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from parity.config import (
    PipelineNoStaticCloudKeysRule,
    PipelinePinnedActionsRule,
    PipelineProtectedEnvironmentRule,
)
from parity.model import Json, Location, Resource, Severity

_SHA = re.compile(r"^[0-9a-f]{40}$")
STATIC_KEYS = frozenset(
    k.lower()
    for k in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id", "aws-secret-access-key",
        "credentials_json", "service_account_key", "GOOGLE_CREDENTIALS", "GCP_SA_KEY", "GCLOUD_SERVICE_KEY",
        "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET", "client-secret", "creds",
    )
)  # fmt: skip
_OIDC = (
    "use OIDC instead: aws-actions/configure-aws-credentials with role-to-assume and `permissions: id-token: "
    "write` (GCP workload_identity_provider, Azure federated credentials; GitLab id_tokens)"
)


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: Resource
    detail: str  # identity inside the job: the step name, or "job"
    message: str
    severity: Severity
    step: str | None = None  # the step's stable name, to find its line


def _steps(r: Resource) -> list[Mapping[str, Json]]:
    steps = r.attributes.get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _label(r: Resource) -> str:
    return f"job {r.id.rsplit('#', 1)[-1]!r} ({r.location.file if r.location else r.id})"


def protected_environment(rule: PipelineProtectedEnvironmentRule, env: str, r: Resource) -> Iterator[Violation]:
    a = r.attributes
    has_env = bool(a.get("environment"))
    if r.type.startswith("pipeline/gitlab-ci/"):
        if has_env and a.get("manual"):
            return
        missing = "an environment: and a manual gate (when: manual)" if not has_env else "a manual gate (when: manual)"
    else:
        if has_env:
            return
        missing = "an environment: (required reviewers and branch rules attach to it)"
    msg = f"{_label(r)} deploys to {env} without {missing} [rule {rule.rule}]"
    yield Violation(rule.rule, r, "job", msg, "high")


def _keys(value: Json, where: str) -> Iterator[tuple[str, Json, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v, where


def static_keys(rule: PipelineNoStaticCloudKeysRule, env: str, r: Resource) -> Iterator[Violation]:
    places: list[tuple[str | None, str, Json]] = [
        (None, k, r.attributes.get(k)) for k in ("env", "with", "variables", "secrets")
    ]
    for s in _steps(r):
        places += [(str(s.get("name")), k, s.get(k)) for k in ("env", "with")]
    for step, where, value in places:
        for key, v, _ in _keys(value, where):
            if key.lower() not in STATIC_KEYS:
                continue
            at = f"step {step!r}" if step else f"the job's {where}"
            msg = (
                f"{_label(r)} deploys to {env} with a long-lived cloud key: {where}.{key} = {v!s} in {at}; "
                f"{_OIDC} [rule {rule.rule}]"
            )
            yield Violation(rule.rule, r, f"{step or where}:{key}", msg, "high", step)


def pinned(rule: PipelinePinnedActionsRule, env: str, r: Resource) -> Iterator[Violation]:
    uses: list[tuple[str | None, str]] = []
    job_uses = r.attributes.get("uses")
    if isinstance(job_uses, str):
        uses.append((None, job_uses))
    uses += [(str(s.get("name")), str(s["uses"])) for s in _steps(r) if isinstance(s.get("uses"), str)]
    for step, ref in uses:
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" in ref:
                continue
        else:
            name, _, version = ref.partition("@")
            if _SHA.match(version) or any(fnmatch.fnmatchcase(name, g) for g in rule.allow):
                continue
        at = f"step {step!r}" if step else "the job"
        if ref.startswith("docker://"):
            image = ref.removeprefix("docker://").split("@", 1)[0]
            msg = (
                f"{_label(r)} deploys to {env} with a container image not pinned to a digest: uses {ref} in {at}; "
                f"pin it to its digest, docker://{image}@sha256:<digest> (a tag can be moved) [rule {rule.rule}]"
            )
        else:
            msg = (
                f"{_label(r)} deploys to {env} with an action not pinned to a commit SHA: uses {ref} in {at}; "
                f"pin it to the full 40-character commit (a tag can be moved) [rule {rule.rule}]"
            )
        yield Violation(rule.rule, r, step or "job", msg, "medium", step)


def check(rule: object, env: str, resources: Sequence[Resource]) -> list[Violation]:
    """The violations of one rule among one environment's deploy jobs; rules of other families give none."""
    out: list[Violation] = []
    for r in resources:
        if isinstance(rule, PipelineProtectedEnvironmentRule):
            out += protected_environment(rule, env, r)
        elif isinstance(rule, PipelineNoStaticCloudKeysRule):
            out += static_keys(rule, env, r)
        elif isinstance(rule, PipelinePinnedActionsRule):
            out += pinned(rule, env, r)
    return out


def location(v: Violation, steps: Mapping[tuple[str, str], Location]) -> Location | None:
    if v.step is not None and (v.resource.id, v.step) in steps:
        return steps[(v.resource.id, v.step)]
    return v.resource.location
