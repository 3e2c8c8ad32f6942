"""Findings on the deploy path: differs between deploy jobs, promotion_bypass, pipeline policy rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.model import Finding
from pipeline_helpers import ALL_RULES, findings, project

GH = ".github/workflows/d.yml"


def kinds(fs: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.kind, f.detail) for f in fs)


def one(fs: list[Finding], kind: str, detail: str = "") -> Finding:
    got = [f for f in fs if f.kind == kind and f.detail.startswith(detail)]
    assert len(got) == 1, kinds(fs)
    return got[0]


def test_clean_chain_has_no_findings_even_with_every_rule(tmp_path: Path) -> None:
    assert findings(project(tmp_path, "clean", ALL_RULES)) == []


def test_extra_manual_step_in_production_is_differs_at_the_step_line(tmp_path: Path) -> None:
    fs = findings(project(tmp_path, "manual-step"))
    f = one(fs, "differs")
    assert f.key == ".github/workflows/deploy.yml#deploy-{env}"
    (c,) = f.changes
    assert c.path == "steps[Apply hotfix manifests]" and c.left is None
    assert c.right == {"name": "Apply hotfix manifests", "run": "kubectl apply -f k8s/hotfix/ --context {env}"}
    assert f.location is not None
    assert (f.location.file, f.location.line) == ("repo/.github/workflows/deploy.yml", 49)
    assert "only in production: kubectl apply -f k8s/hotfix/" in f.message
    assert f.resources == {
        "staging": ".github/workflows/deploy.yml#deploy-staging",
        "production": ".github/workflows/deploy.yml#deploy-production",
    }


def test_workflow_dispatch_production_deploy_is_a_bypass(tmp_path: Path) -> None:
    fs = findings(project(tmp_path, "hotfix"))
    b = one(fs, "promotion_bypass", "separate_trigger")
    assert b.severity == "critical" and b.environments == ("staging", "production")
    assert "workflow_dispatch" in b.message and "hotfix-production" in b.message
    assert b.location is not None and (b.location.file, b.location.line) == ("repo/.github/workflows/hotfix.yml", 9)
    branch = one(fs, "promotion_bypass", "branch")
    assert branch.severity == "high" and "workflow_dispatch from any branch" in branch.message
    assert one(fs, "only_in").key == ".github/workflows/hotfix.yml#hotfix-{env}"


def test_reusable_workflow_with_different_inputs_differs(tmp_path: Path) -> None:
    f = one(findings(project(tmp_path, "reusable")), "differs")
    assert {c.path: (c.left, c.right) for c in f.changes} == {
        "steps[_deploy.yml/Migrate database].if": ("true", "false"),
        "with.migrate": (True, False),
    }
    assert f.location is not None and f.location.file.endswith("_deploy.yml") and f.location.line == 17


def test_gitlab_manual_gate_only_in_production_differs_and_stage_order_is_a_path(tmp_path: Path) -> None:
    fs = findings(project(tmp_path, "gitlab"))
    assert kinds(fs) == [("differs", "")]
    assert {c.path for c in fs[0].changes} == {"environment.url", "manual", "rules[0].when"}


def _gh(jobs: str, on: str = "push:\n    branches: [main]") -> dict[str, str]:
    return {GH: f"on:\n  {on}\njobs:\n{jobs}"}


STG = "  deploy-staging:\n    environment: staging\n    steps: [{run: deploy staging}]\n"


@pytest.mark.parametrize(
    ("prod", "reason"),
    [
        ("  deploy-prod:\n    environment: production\n    steps: [{run: deploy prod}]\n", "no_path"),
        (
            "  deploy-prod:\n    needs: deploy-staging\n    if: always()\n    environment: production\n"
            "    steps: [{run: deploy prod}]\n",
            "no_path",
        ),
        ("  deploy-prod:\n    needs: deploy-staging\n    environment: production\n    steps: [{run: x}]\n", None),
        (
            "  smoke:\n    needs: deploy-staging\n    steps: [{run: smoke}]\n"
            "  deploy-prod:\n    needs: smoke\n    environment: production\n    steps: [{run: x}]\n",
            None,
        ),
    ],
)
def test_same_workflow_needs_path(tmp_path: Path, prod: str, reason: str | None) -> None:
    fs = [f for f in findings(project(tmp_path, files=_gh(STG + prod))) if f.kind == "promotion_bypass"]
    assert [f.detail for f in fs] == ([reason] if reason else [])


WF_STG = "name: deploy staging\non:\n  push:\n    branches: [main]\njobs:\n" + STG


@pytest.mark.parametrize(
    ("cond", "reason"),
    [("", "runs_after_failure"), ("    if: github.event.workflow_run.conclusion == 'success'\n", None)],
)
def test_workflow_run_chain_must_check_success(tmp_path: Path, cond: str, reason: str | None) -> None:
    prod = (
        "on:\n  workflow_run:\n    workflows: [deploy staging]\n    types: [completed]\njobs:\n"
        f"  deploy-prod:\n{cond}    environment: production\n    steps: [{{run: x}}]\n"
    )
    cfg = project(tmp_path, files={".github/workflows/a.yml": WF_STG, ".github/workflows/b.yml": prod})
    fs = [f for f in findings(cfg) if f.kind == "promotion_bypass"]
    assert [f.detail for f in fs] == ([reason] if reason else [])


def test_push_to_a_release_branch_is_a_branch_bypass(tmp_path: Path) -> None:
    b = one(findings(project(tmp_path, "branches")), "promotion_bypass")
    assert b.detail == "branch" and "release/**" in b.message


@pytest.mark.parametrize(("guard", "expected"), [("", ["branch"]), ("    if: github.ref == 'refs/heads/main'\n", [])])
def test_workflow_dispatch_needs_a_default_branch_guard(tmp_path: Path, guard: str, expected: list[str]) -> None:
    jobs = (
        STG
        + f"  deploy-prod:\n    needs: deploy-staging\n{guard}    environment: production\n    steps: [{{run: x}}]\n"
    )
    fs = findings(project(tmp_path, files=_gh(jobs, on="workflow_dispatch: {}")))
    assert [f.detail for f in fs if f.kind == "promotion_bypass"] == expected


GL_STAGES = "stages: [build, deploy-staging, deploy-production]\n"
GL_STG = "deploy-staging:\n  stage: deploy-staging\n  environment: staging\n  script: [deploy]\n"
GL_RULES = "  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"


@pytest.mark.parametrize(
    ("stg_manual", "prod", "expected"),
    [
        (False, "  when: manual\n  needs: []\n" + GL_RULES, ["manual_no_dependency"]),
        (False, "  needs: [deploy-staging]\n" + GL_RULES, []),
        (False, "  needs: [deploy-staging]\n", ["branch"]),
        (False, "  needs: [deploy-staging]\n  only: [main]\n", []),
        (False, GL_RULES, []),  # stage order through the staging deploy
        # stage order through a manual staging job (allow_failure by default) does not count
        (True, GL_RULES, ["no_path"]),
    ],
)
def test_gitlab_bypasses(tmp_path: Path, stg_manual: bool, prod: str, expected: list[str]) -> None:
    stg = GL_STG.replace("  script", "  when: manual\n  script") if stg_manual else GL_STG
    text = GL_STAGES + stg + "deploy-production:\n  stage: deploy-production\n  environment: production\n"
    text += "  script: [deploy]\n" + prod
    fs = findings(project(tmp_path, files={".gitlab-ci.yml": text}))
    assert [f.detail for f in fs if f.kind == "promotion_bypass"] == expected


def test_static_keys_name_the_job_step_and_oidc(tmp_path: Path) -> None:
    fs = findings(project(tmp_path, "policy", ALL_RULES))
    keys = [f for f in fs if f.detail.startswith("pipeline_no_static_cloud_keys")]
    assert sorted(f.detail for f in keys) == [
        "pipeline_no_static_cloud_keys:Configure AWS credentials:aws-access-key-id",
        "pipeline_no_static_cloud_keys:Configure AWS credentials:aws-secret-access-key",
    ]
    f = keys[0]
    assert f.kind == "policy_violation" and f.severity == "high" and f.environments == ("production",)
    assert "deploy-production" in f.message and "Configure AWS credentials" in f.message and "OIDC" in f.message
    assert f.location is not None and f.location.line == 24


def test_protected_environment_and_pinning(tmp_path: Path) -> None:
    fs = findings(project(tmp_path, "policy", ALL_RULES))
    prot = one(fs, "policy_violation", "pipeline_protected_environment")
    assert prot.location is not None and prot.location.line == 19
    pins = sorted(f.detail for f in fs if f.detail.startswith("pipeline_pinned_actions"))
    assert pins == [
        "pipeline_pinned_actions:Configure AWS credentials",
        "pipeline_pinned_actions:uses actions/checkout",
    ]


def test_pinning_allow_list_docker_digest_and_local_actions(tmp_path: Path) -> None:
    rules = "rules:\n  - {rule: pipeline_pinned_actions, environments: [production], allow: ['actions/*']}\n"
    jobs = (
        "  deploy-prod:\n    environment: production\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: docker://alpine@sha256:" + "a" * 64 + "\n"
        "      - uses: docker://alpine:3.19\n"
        "      - uses: ./.github/actions/local\n"
    )
    files = _gh(jobs) | {".github/actions/local/action.yml": "runs: {using: node20, main: x.js}\n"}
    fs = [f for f in findings(project(tmp_path, files=files, rules=rules)) if f.kind == "policy_violation"]
    assert [f.detail for f in fs] == ["pipeline_pinned_actions:uses docker://alpine:3.19"]


@pytest.mark.parametrize(("manual", "violations"), [("  when: manual\n", 0), ("", 1)])
def test_gitlab_protected_environment_needs_a_manual_gate(tmp_path: Path, manual: str, violations: int) -> None:
    rules = "rules:\n  - {rule: pipeline_protected_environment, environments: [production]}\n"
    text = f"deploy-prod:\n  environment: production\n{manual}  script: [deploy]\n"
    fs = findings(project(tmp_path, files={".gitlab-ci.yml": text}, rules=rules))
    assert len([f for f in fs if f.kind == "policy_violation"]) == violations


def test_rules_apply_only_to_their_environments(tmp_path: Path) -> None:
    rules = "rules:\n  - {rule: pipeline_pinned_actions, environments: [staging]}\n"
    fs = findings(project(tmp_path, "policy", rules))
    assert not [f for f in fs if f.kind == "policy_violation"]


def test_finding_ids_are_stable_across_runs(tmp_path: Path) -> None:
    cfg = project(tmp_path, "hotfix", ALL_RULES)
    assert [f.id for f in findings(cfg)] == [f.id for f in findings(cfg)]
