"""The pipeline source: which jobs deploy where, keys that pair, normal form, resolution, bad input."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.config import PipelineSource
from parity.errors import InputError
from parity.model import Resource, Snapshot
from parity.pipelines.graph import FACT, Workflow
from parity.registry import CollectContext
from parity.sources.pipeline.collector import collect
from parity.sources.pipeline.yamlnodes import load
from pipeline_helpers import DATA, REDACTOR, inventories, project

TOKENS = {"staging": ("stg", "stage", "staging"), "production": ("prd", "prod", "production", "live")}


def snap(repo: Path, env: str, **spec: object) -> Snapshot:
    ctx = CollectContext(
        environment=env, source_name="ci", base_dir=repo.parent, redactor=REDACTOR, role="declared", tokens=TOKENS
    )
    (s,) = collect(PipelineSource(kind="pipeline", path=repo.name, **spec), ctx)  # type: ignore[arg-type]
    return s


def only(s: Snapshot) -> Resource:
    assert len(s.resources) == 1, [r.id for r in s.resources]
    return s.resources[0]


def test_each_environment_keeps_its_deploy_jobs_and_they_pair_by_key() -> None:
    stg, prod = only(snap(DATA / "clean", "staging")), only(snap(DATA / "clean", "production"))
    assert stg.id == ".github/workflows/deploy.yml#deploy-staging"
    assert prod.id == ".github/workflows/deploy.yml#deploy-production"
    assert stg.key == prod.key == ".github/workflows/deploy.yml#deploy-{env}"
    assert stg.type == prod.type == "pipeline/github-actions/job"
    assert stg.location is not None and stg.location.line == 15
    assert prod.location is not None and prod.location.line == 31
    assert stg.location.file == "clean/.github/workflows/deploy.yml"


def test_normal_form_makes_the_two_environments_equal() -> None:
    stg, prod = only(snap(DATA / "clean", "staging")), only(snap(DATA / "clean", "production"))
    assert stg.attributes == prod.attributes
    steps = stg.attributes["steps"]
    assert [s["name"] for s in steps] == ["uses actions/checkout", "Configure AWS credentials", "Deploy"]
    assert steps[1]["with"]["role-to-assume"] == "arn:aws:iam::{account}:role/deploy-{env}"
    assert steps[2]["run"] == "./scripts/deploy.sh {env} ${{ github.sha }}"
    assert all("line" not in s for s in steps)  # lines live in the graph, not in compared attributes
    assert stg.attributes["permissions"] == {"id-token": "write", "contents": "read"}
    assert stg.attributes["waits_for"] == ["build"] == prod.attributes["waits_for"]


def test_graph_facts_hold_every_job_and_the_step_lines() -> None:
    s = snap(DATA / "clean", "production")
    (raw,) = s.facts[FACT]
    wf = Workflow.from_json(raw)
    assert [(j.id, j.deploys) for j in wf.jobs] == [
        ("build", None),
        ("deploy-staging", "staging"),
        ("deploy-production", "production"),
    ]
    prod = wf.job("deploy-production")
    assert prod is not None and prod.needs == ("deploy-staging",)
    assert [(st.name, st.line) for st in prod.steps] == [
        ("uses actions/checkout", 41),
        ("Configure AWS credentials", 42),
        ("Deploy", 47),
    ]


def test_secret_references_stay_literal_values_are_redacted(tmp_path: Path) -> None:
    project(
        tmp_path,
        files={
            ".github/workflows/d.yml": "on: push\njobs:\n  deploy-prod:\n    runs-on: x\n    env:\n"
            "      AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"
            "      API_TOKEN: ${{ secrets.API_TOKEN }}\n    steps:\n      - run: echo hi\n"
        },
    )
    r = only(snap(tmp_path / "repo", "production"))
    env = r.attributes["env"]
    assert env["API_TOKEN"] == "${{ secrets.API_TOKEN }}"
    assert env["AWS_SECRET_ACCESS_KEY"].startswith("<redacted:")
    assert "wJalr" not in str(r.attributes)


def test_reusable_workflow_and_composite_action_are_resolved_with_inputs() -> None:
    stg, prod = only(snap(DATA / "reusable", "staging")), only(snap(DATA / "reusable", "production"))
    assert (stg.id, prod.id) == (".github/workflows/deploy.yml#staging", ".github/workflows/deploy.yml#production")
    assert stg.key == prod.key == ".github/workflows/deploy.yml#{env}"
    steps = {s["name"]: s for s in prod.attributes["steps"]}
    assert steps["_deploy.yml/Deploy"]["run"] == "helm upgrade shop ./chart --set replicas=2 -f values-{env}.yaml"
    assert steps["_deploy.yml/Migrate database"]["if"] == "false"
    post = steps["_deploy.yml/.github/actions/notify/Post"]
    assert post["run"] == './scripts/notify.sh "#deploys-{env}"'
    assert prod.attributes["environment"] == "{env}"  # ${{ inputs.environment }} resolved, then normalised
    assert prod.attributes["permissions"] == {"id-token": "write", "contents": "read"}
    assert stg.attributes["with"]["migrate"] is True and prod.attributes["with"]["migrate"] is False


def test_gitlab_include_anchors_and_multi_level_extends() -> None:
    r = only(snap(DATA / "gitlab", "production"))
    assert r.type == "pipeline/gitlab-ci/job" and r.id == ".gitlab-ci.yml#deploy-production"
    runs = [(s["section"], s["run"]) for s in r.attributes["steps"]]
    assert runs == [
        ("before_script", "kubectl config use-context $KUBE_CONTEXT"),  # from the anchor
        ("script", "./scripts/render.sh $CI_ENVIRONMENT_NAME"),  # .deploy's script replaces .base's
        ("script", "kubectl apply -f rendered/"),
    ]
    assert r.attributes["image"] == "bitnami/kubectl:1.29"
    assert r.attributes["manual"] is True
    assert r.attributes["waits_for"] == ["build"]  # deploy-staging's stage comes first, but is not compared
    stg = only(snap(DATA / "gitlab", "staging"))
    assert stg.attributes["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]  # inherited from .base
    assert stg.location is not None and stg.location.line == 19


def test_environment_action_stop_is_not_a_deploy(tmp_path: Path) -> None:
    project(
        tmp_path,
        files={
            ".gitlab-ci.yml": "deploy-prod:\n  script: [deploy]\n  environment: production\n"
            "stop-prod:\n  script: [stop]\n  environment: {name: production, action: stop}\n"
        },
    )
    assert [r.id for r in snap(tmp_path / "repo", "production").resources] == [".gitlab-ci.yml#deploy-prod"]


def test_classification_by_name_and_by_variables(tmp_path: Path) -> None:
    project(
        tmp_path,
        files={
            ".github/workflows/d.yml": "on: push\njobs:\n"
            "  release:\n    runs-on: x\n    with: {target: prod-eu}\n    uses: org/repo/.github/workflows/x.yml@v1\n"
            "  promote-staging-to-prod:\n    runs-on: x\n    steps: [{run: promote}]\n"
            "  test:\n    runs-on: x\n    steps: [{run: pytest}]\n"
        },
    )
    ids = sorted(r.id.split("#")[1] for r in snap(tmp_path / "repo", "production").resources)
    assert ids == ["promote-staging-to-prod", "release"]
    assert snap(tmp_path / "repo", "staging").resources == ()


MALFORMED = [
    (".github/workflows/d.yml", "on: push\njobs:\n  a: [\n", "d.yml:4:1", "invalid YAML"),
    (".github/workflows/d.yml", "on: push\njobs: [a, b]\n", "d.yml:2", "'jobs' must be a mapping"),
    (
        ".github/workflows/d.yml",
        "on: push\njobs:\n  deploy-prod:\n    needs: biuld\n    steps: [{run: x}]\n",
        "d.yml:4",
        "needs unknown job 'biuld'",
    ),
    (
        ".github/workflows/d.yml",
        "on: push\njobs:\n  deploy-prod:\n    steps:\n      - uses: ./.github/actions/nope\n",
        "d.yml:5",
        "has no action.yml",
    ),
    (".gitlab-ci.yml", "include:\n  - local: /ci/missing.yml\nj:\n  script: [x]\n", ".gitlab-ci.yml:2", "not found"),
    (
        ".gitlab-ci.yml",
        ".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: [x]\n",
        ".gitlab-ci.yml:",
        "extends cycle",
    ),
    (".gitlab-ci.yml", "j:\n  stage: deploy-eu\n  script: [x]\n", ".gitlab-ci.yml:2", "not in stages"),
    (".gitlab-ci.yml", "j:\n  script: [x]\n  needs: [nope]\n", ".gitlab-ci.yml:3", "needs unknown job 'nope'"),
]


@pytest.mark.parametrize(("rel", "text", "where", "what"), MALFORMED)
def test_malformed_input_names_the_file_and_line(tmp_path: Path, rel: str, text: str, where: str, what: str) -> None:
    project(tmp_path, files={rel: text})
    with pytest.raises(InputError) as e:
        snap(tmp_path / "repo", "production")
    assert where in str(e.value) and what in str(e.value)


def test_one_malformed_workflow_fails_the_source_not_silently_partial(tmp_path: Path) -> None:
    cfg = project(tmp_path, "clean", files={".github/workflows/broken.yml": "on: push\njobs: 3\n"})
    with pytest.raises(InputError, match=r"broken\.yml:2"):
        inventories(cfg)


def test_remote_includes_are_coverage_gaps(tmp_path: Path) -> None:
    project(
        tmp_path,
        files={
            ".gitlab-ci.yml": "include:\n  - remote: https://x/y.yml\n  - template: A.yml\nd-prod:\n  script: [x]\n"
        },
    )
    s = snap(tmp_path / "repo", "production")
    assert len(s.coverage.gaps) == 2 and all(g.kind == "unsupported" for g in s.coverage.gaps)


def test_no_ci_definitions_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    with pytest.raises(InputError, match="no CI definitions"):
        snap(tmp_path / "repo", "production")


def test_on_key_is_not_read_as_true() -> None:
    doc = load("on:\n  push: {}\nyes: 1\n", "f")
    assert list(doc) == ["on", "yes"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [*"ab:-[]{}&*<>!|\n '\"#$.,=?", "jobs:", "on:", "steps:", "needs:", "uses: ./x", "  ", "<<: ", "&a ", "*a"]
        ),
        max_size=60,
    ).map("".join)
)
def test_arbitrary_yamlish_text_parses_or_raises_input_error(tmp_path: Path, text: str) -> None:
    wf = tmp_path / "repo" / ".github" / "workflows" / "x.yml"
    wf.parent.mkdir(parents=True, exist_ok=True)
    wf.write_text(text)
    (tmp_path / "repo" / ".gitlab-ci.yml").write_text(text.replace("on:", "deploy-prod:"))
    with contextlib.suppress(InputError):
        snap(tmp_path / "repo", "production")
