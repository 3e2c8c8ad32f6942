"""Hostile CI definitions: inputs that multiply, loop, reach outside the repository or collide. Each must
give one clear error naming the file and place (exit 1, no traceback) or a correct answer, never a hang.

Hangs are tested by their bound (the budget or cap reached, an error raised) or by counting work, with
inputs that would hang or blow up without the bound, kept small enough to finish fast with it."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from parity.cli import main
from parity.config import PipelinePinnedActionsRule, PipelineSource
from parity.errors import InputError
from parity.model import CoverageGap, Location, Resource, Snapshot
from parity.pipelines import bypass, graphview, policy, promotion_graph
from parity.pipelines.graph import GITHUB, GraphJob, Workflow, workflows_of
from parity.pipelines.graphview import mermaid_ids, render_mermaid, render_text
from parity.registry import CollectContext
from parity.sources import files
from parity.sources.pipeline import collector, github, gitlab
from parity.sources.pipeline.yamlnodes import MAX_VALUES
from pipeline_helpers import REDACTOR, findings, project

TOKENS = {"staging": ("stg", "staging"), "production": ("prod", "production")}


def write(root: Path, tree: dict[str, str]) -> Path:
    for rel, text in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def gitlab_error(repo: Path) -> InputError:
    with pytest.raises(InputError) as e:
        gitlab.read(repo, repo.parent)
    return e.value


def github_error(repo: Path) -> InputError:
    with pytest.raises(InputError) as e:
        github.read(repo, repo.parent)
    return e.value


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[Path]:
    """Counts every file the pipeline readers read (by resolved path)."""
    seen: Counter[Path] = Counter()
    real = files.read_text

    def counting(path: Path, shown: str) -> str:
        seen[Path(path).resolve()] += 1
        return real(path, shown)

    monkeypatch.setattr(files, "read_text", counting)
    return seen


def collect_snapshot(repo: Path, env: str) -> Snapshot:
    ctx = CollectContext(
        environment=env, source_name="ci", base_dir=repo.parent, redactor=REDACTOR, role="declared", tokens=TOKENS
    )
    (s,) = collector.collect(PipelineSource(kind="pipeline", path=repo.name), ctx)
    return s


GL_DEPLOY = "deploy-staging: {stage: deploy, environment: staging, script: [./deploy.sh]}\n"


# 1. GitLab !reference: a budget, and errors that name the file the reference is written in ----------------


def test_reference_repeated_at_every_level_hits_the_budget_instead_of_hanging(tmp_path: Path) -> None:
    # ten references to the level below, eight levels: 2 * 10^8 values without a budget
    lines = [".r0: {script: [echo one, echo two]}"]
    for i in range(1, 9):
        lines.append(f".r{i}: {{script: [{', '.join([f'!reference [.r{i - 1}, script]'] * 10)}]}}")
    lines.append("deploy-staging: {stage: deploy, environment: staging, script: [!reference [.r8, script]]}")
    repo = write(tmp_path / "repo", {".gitlab-ci.yml": "\n".join(lines) + "\n"})
    e = gitlab_error(repo)
    assert e.file == "repo/.gitlab-ci.yml" and e.line is not None and 2 <= e.line <= 10
    assert f"expands to more than {MAX_VALUES:,} values (nested or repeated)" in e.message
    assert e.message.startswith("!reference [")


def test_reference_error_names_the_included_file_it_is_written_in(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            ".gitlab-ci.yml": "include: [ci/deploy.yml]\n",
            "ci/deploy.yml": "x: 1\n" + GL_DEPLOY.replace("[./deploy.sh]", "[!reference [.missing, script]]"),
        },
    )
    e = gitlab_error(repo)
    assert (e.file, e.line) == ("repo/ci/deploy.yml", 2) and "names nothing" in e.message


def test_reference_bomb_through_the_cli_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [".r0: {script: [a, b]}"]
    for i in range(1, 9):
        lines.append(f".r{i}: {{script: [{', '.join([f'!reference [.r{i - 1}, script]'] * 10)}]}}")
    cfg = project(tmp_path, files={".gitlab-ci.yml": "\n".join(lines) + "\n" + GL_DEPLOY})
    code, out, err = cli(capsys, "pipeline", "-c", str(cfg))
    assert code == 1 and out == ""
    assert err.startswith("parity: error: repo/.gitlab-ci.yml:") and "expands to more than" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# 2. GitLab include: each file read once, 150 includes in all (GitLab's limit), cycles only when they are -----


def test_repeated_includes_read_each_file_once_and_stop_at_gitlabs_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each file includes the next twice: 2^30 includes without memo and cap
    tree = {".gitlab-ci.yml": "include: [ci/f0.yml]\n" + GL_DEPLOY, "ci/f30.yml": "x: {script: [y]}\n"}
    for i in range(30):
        tree[f"ci/f{i}.yml"] = f"include: [ci/f{i + 1}.yml, ci/f{i + 1}.yml]\n"
    repo = write(tmp_path / "repo", tree)
    seen = reads(monkeypatch)
    e = gitlab_error(repo)
    assert "more than 150 includes" in e.message and "GitLab's limit" in e.message and "cycle" not in e.message
    assert e.file.startswith("repo/ci/f") and e.line == 1
    assert seen and max(seen.values()) == 1  # every file read once


def test_a_file_included_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = write(
        tmp_path / "repo",
        {
            ".gitlab-ci.yml": "include: [ci/a.yml, ci/b.yml]\n" + GL_DEPLOY,
            "ci/a.yml": "include: [ci/shared.yml]\n",
            "ci/b.yml": "include: [ci/shared.yml]\n",
            "ci/shared.yml": "lint: {stage: test, script: [make lint]}\n",
        },
    )
    seen = reads(monkeypatch)
    wf, gaps = gitlab.read(repo, repo.parent)
    assert wf is not None and {j.id for j in wf.jobs} == {"lint", "deploy-staging"} and gaps == []
    assert seen[(repo / "ci" / "shared.yml").resolve()] == 1


def test_deep_nesting_is_not_a_cycle(tmp_path: Path) -> None:
    # 11 or more nested includes (no cycle) used to read as "include cycle"
    tree = {".gitlab-ci.yml": "include: [ci/f0.yml]\n" + GL_DEPLOY, "ci/f40.yml": "deepest: {script: [y]}\n"}
    tree |= {f"ci/f{i}.yml": f"include: [ci/f{i + 1}.yml]\n" for i in range(40)}
    wf, _ = gitlab.read(write(tmp_path / "repo", tree), tmp_path)
    assert wf is not None and "deepest" in {j.id for j in wf.jobs}


def test_nesting_past_150_is_the_include_limit_not_a_cycle(tmp_path: Path) -> None:
    def chain(n: int) -> dict[str, str]:
        tree = {".gitlab-ci.yml": "include: [ci/f1.yml]\n" + GL_DEPLOY, f"ci/f{n}.yml": "deepest: {script: [y]}\n"}
        return tree | {f"ci/f{i}.yml": f"include: [ci/f{i + 1}.yml]\n" for i in range(1, n)}

    wf, _ = gitlab.read(write(tmp_path / "ok", chain(150)), tmp_path)
    assert wf is not None and "deepest" in {j.id for j in wf.jobs}
    e = gitlab_error(write(tmp_path / "repo", chain(151)))
    assert "more than 150 includes" in e.message and "cycle" not in e.message


def test_more_than_150_includes_side_by_side_is_an_error(tmp_path: Path) -> None:
    def flat(n: int) -> dict[str, str]:
        tree = {".gitlab-ci.yml": "include:\n" + "".join(f"  - ci/j{i}.yml\n" for i in range(n)) + GL_DEPLOY}
        return tree | {f"ci/j{i}.yml": f"j{i}: {{script: [x]}}\n" for i in range(n)}

    wf, _ = gitlab.read(write(tmp_path / "ok", flat(150)), tmp_path)
    assert wf is not None and len(wf.jobs) == 151
    e = gitlab_error(write(tmp_path / "repo", flat(151)))
    assert (e.file, e.line) == ("repo/.gitlab-ci.yml", 152) and "more than 150 includes" in e.message


def test_a_real_include_cycle_is_still_a_cycle_with_its_chain(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            ".gitlab-ci.yml": "include: [ci/a.yml]\n" + GL_DEPLOY,
            "ci/a.yml": "include: [ci/b.yml]\n",
            "ci/b.yml": "include: [ci/a.yml]\n",
        },
    )
    e = gitlab_error(repo)
    assert (e.file, e.line) == ("repo/ci/b.yml", 1)
    assert "include cycle" in e.message and "repo/ci/a.yml -> repo/ci/b.yml -> repo/ci/a.yml" in e.message


def test_extends_deeper_than_gitlabs_limit_is_not_called_a_cycle(tmp_path: Path) -> None:
    def chain(n: int) -> str:
        parents = "".join(f".p{i}: {{extends: .p{i + 1}}}\n" for i in range(n))
        return parents + f".p{n}: {{script: [x]}}\n" + GL_DEPLOY.replace("script: [./deploy.sh]", "extends: .p0")

    wf, _ = gitlab.read(write(tmp_path / "ok", {".gitlab-ci.yml": chain(10)}), tmp_path)  # 11 levels: allowed
    assert wf is not None
    e = gitlab_error(write(tmp_path / "repo", {".gitlab-ci.yml": chain(11)}))
    assert "more than 11 levels deep" in e.message and "cycle" not in e.message
    loop = ".a: {extends: .b}\n.b: {extends: .a}\n" + GL_DEPLOY.replace("script: [./deploy.sh]", "extends: .a")
    assert "extends cycle" in gitlab_error(write(tmp_path / "loop", {".gitlab-ci.yml": loop})).message


def test_many_jobs_extending_a_large_job_hit_the_budget(tmp_path: Path) -> None:
    # 300 jobs x 1,000 inherited script lines: 300,000 steps copied without a budget
    text = ".big:\n  script:\n" + "".join(f"    - echo {i}\n" for i in range(1000))
    text += "".join(f"job{j}: {{extends: .big}}\n" for j in range(300))
    e = gitlab_error(write(tmp_path / "repo", {".gitlab-ci.yml": text}))
    assert f"more than {gitlab.MAX_JOB_VALUES:,} steps and values" in e.message and e.line is not None


# 3. needs: cycles are errors; a long chain is linear work ------------------------------------------------


GH_HEAD = "on: {push: {branches: [main]}}\njobs:\n"


def gh_job(jid: str, needs: str | None = None, env: str | None = None) -> str:
    out = f"  {jid}:\n    runs-on: ubuntu-latest\n"
    out += f"    needs: {needs}\n" if needs else ""
    out += f"    environment: {env}\n" if env else ""
    return out + "    steps: [{run: ./go.sh}]\n"


def test_github_needs_cycle_is_an_error_naming_the_file_and_jobs(tmp_path: Path) -> None:
    text = GH_HEAD + gh_job("build", "test") + gh_job("test", "[lint, build]") + gh_job("lint")
    e = github_error(write(tmp_path / "repo", {".github/workflows/ci.yml": text}))
    assert (e.file, e.line) == ("repo/.github/workflows/ci.yml", 5)
    assert "needs cycle: 'build' -> 'test' -> 'build'" in e.message


def test_github_job_needing_itself_is_an_error(tmp_path: Path) -> None:
    text = GH_HEAD + gh_job("deploy-staging", "deploy-staging", "staging")
    e = github_error(write(tmp_path / "repo", {".github/workflows/ci.yml": text}))
    assert (e.file, e.line) == ("repo/.github/workflows/ci.yml", 5) and "'deploy-staging' needs itself" in e.message


def test_github_needs_cycle_through_the_cli_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GH_HEAD + gh_job("a", "b") + gh_job("b", "a") + gh_job("deploy-staging", None, "staging")
    code, _, err = cli(capsys, "pipeline", "-c", str(project(tmp_path, files={".github/workflows/ci.yml": text})))
    assert code == 1 and err.startswith("parity: error: repo/.github/workflows/ci.yml:5: needs cycle")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("jobs", "what"),
    [
        ("a: {stage: test, needs: [b], script: [x]}\nb: {stage: test, needs: [a], script: [x]}\n", "needs cycle"),
        ("a: {stage: test, needs: [a], script: [x]}\n", "'a' needs itself"),
        ("a: {stage: build, needs: [b], script: [x]}\nb: {stage: test, script: [x]}\n", "runs in a later stage"),
    ],
    ids=["cycle", "itself", "later-stage"],
)
def test_gitlab_needs_cycles_and_needs_on_later_stages_are_errors(tmp_path: Path, jobs: str, what: str) -> None:
    e = gitlab_error(write(tmp_path / "repo", {".gitlab-ci.yml": jobs + GL_DEPLOY}))
    assert e.file == "repo/.gitlab-ci.yml" and e.line == 1 and what in e.message


def chain_workflow(n: int) -> Workflow:
    """deploy-staging <- j0 <- j1 <- ... <- j{n-1} <- deploy-production, as the graph facts hold it."""
    jobs = [GraphJob("deploy-staging", "deploy-staging", "f", 1, deploys="staging")]
    prev = "deploy-staging"
    for i in range(n):
        jobs.append(GraphJob(f"j{i}", f"j{i}", "f", i + 2, needs=(prev,), has_needs=True))
        prev = f"j{i}"
    jobs.append(GraphJob("deploy-production", "deploy-production", "f", n + 2, "production", None, (prev,), True))
    return Workflow(
        GITHUB, "repo", "f", ".github/workflows/d.yml", "d", {"push": {"branches": ["main"]}}, jobs=tuple(jobs)
    )


def test_graph_of_a_long_chain_looks_each_needs_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # closures per job with a linear job lookup was cubic: ~n^3/6 lookups for this chain
    n = 60
    calls = Counter[str]()
    real = Workflow.job

    def counting(self: Workflow, job_id: str) -> GraphJob | None:
        calls[job_id] += 1
        return real(self, job_id)

    monkeypatch.setattr(Workflow, "job", counting)
    graph = promotion_graph([chain_workflow(n)], ["staging", "production"])
    assert not graph.has_bypass
    assert sum(calls.values()) <= n + 2  # once per needs edge


def test_two_thousand_jobs_in_a_chain(tmp_path: Path) -> None:
    n = 2000
    graph = promotion_graph([chain_workflow(n)], ["staging", "production"])
    (edge,) = graph.repos[0].edges
    assert edge.source.endswith("#deploy-staging") and edge.target.endswith("#deploy-production")
    assert edge.via == "needs via " + ", ".join(f"j{i}" for i in reversed(range(n)))
    # and the same chain read from a file: the cycle check and waits_for are linear and not recursive
    text = GH_HEAD + gh_job("deploy-staging", None, "staging")
    text += "".join(gh_job(f"j{i}", f"j{i - 1}" if i else "deploy-staging") for i in range(n))
    text += gh_job("deploy-production", f"j{n - 1}", "production")
    repo = write(tmp_path / "repo", {".github/workflows/d.yml": text})
    snap = collect_snapshot(repo, "production")
    (prod,) = snap.resources
    assert len(prod.attributes["waits_for"]) == n  # every job between, not the staging deploy
    (wf,) = workflows_of([snap])
    assert [e.via.count(",") for e in promotion_graph([wf], ["staging", "production"]).repos[0].edges] == [n - 1]


def test_gitlab_stage_order_closure_matches_the_definition() -> None:
    # stage order: a job waits for every job of the earlier stages that may not fail
    jobs = (
        GraphJob("build", "build", "f", 1, stage="build"),
        GraphJob("flaky", "flaky", "f", 2, stage="build", allow_failure=True),
        GraphJob("test", "test", "f", 3, stage="test"),
        GraphJob("deploy-staging", "deploy-staging", "f", 4, deploys="staging", stage="deploy"),
        GraphJob("deploy-production", "deploy-production", "f", 5, deploys="production", stage=".post"),
    )
    wf = Workflow(
        "gitlab-ci", "repo", "f", ".gitlab-ci.yml", "ci", stages=(".pre", "build", "test", "deploy", ".post"), jobs=jobs
    )
    prod = jobs[-1]
    assert [j.id for j in bypass.closure(wf, prod)] == ["build", "test", "deploy-staging"]
    assert bypass.reach(wf).waiters(jobs[0]) == {"test", "deploy-staging", "deploy-production"}
    (edge,) = promotion_graph([wf], ["staging", "production"]).repos[0].edges
    assert edge.via == "stage order"


# 4. parity pipeline --strict and coverage gaps ---------------------------------------------------------


GL_GAP = (
    "include: [{remote: 'https://example.com/ci.yml'}]\n"
    "stages: [deploy-staging, deploy-production]\n"
    "deploy-staging: {stage: deploy-staging, environment: staging, script: [./d.sh]}\n"
    "deploy-production:\n  stage: deploy-production\n  environment: production\n  script: [./d.sh]\n"
    "  rules: [{if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH}]\n"
)


def test_pipeline_lists_coverage_gaps_and_strict_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(project(tmp_path, files={".gitlab-ci.yml": GL_GAP}))
    code, out, _ = cli(capsys, "pipeline", "-c", cfg)
    assert code == 0 and "no path skips a stage" in out
    assert "coverage incomplete: 1 gap(s)" in out and "repo/.gitlab-ci.yml:1: include" in out
    code, _, _ = cli(capsys, "pipeline", "-c", cfg, "--strict")
    assert code == 3
    code, out, err = cli(capsys, "pipeline", "-c", cfg, "--strict", "-f", "json")
    doc = json.loads(out)
    assert code == 3 and doc["bypass"] is False and "coverage incomplete" in err
    assert doc["coverage"]["complete"] is False
    assert doc["coverage"]["gaps"] == [
        {
            "scope": "repo/.gitlab-ci.yml:1",
            "type": None,
            "kind": "unsupported",
            "reason": "include {'remote': 'https://example.com/ci.yml'} not read",
        }
    ]
    code, out, _ = cli(capsys, "pipeline", "-c", cfg, "-f", "mermaid")
    assert code == 0 and "  %% coverage gap: repo/.gitlab-ci.yml:1: include" in out


def test_pipeline_strict_bypass_wins_over_gap_and_complete_strict_is_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bypassing = GL_GAP.replace("stage: deploy-production\n", "stage: deploy-production\n  needs: []\n")
    code, _, _ = cli(
        capsys, "pipeline", "-c", str(project(tmp_path / "a", files={".gitlab-ci.yml": bypassing})), "--strict"
    )
    assert code == 2
    whole = GL_GAP.split("\n", 1)[1]
    code, out, _ = cli(
        capsys, "pipeline", "-c", str(project(tmp_path / "b", files={".gitlab-ci.yml": whole})), "--strict"
    )
    assert code == 0 and "coverage" not in out
    code, out, _ = cli(
        capsys,
        "pipeline",
        "-c",
        str(project(tmp_path / "c", files={".gitlab-ci.yml": whole})),
        "--strict",
        "-f",
        "json",
    )
    assert code == 0 and json.loads(out)["coverage"] == {"complete": True, "gaps": []}


# 5. Mermaid node ids are unique and stable --------------------------------------------------------------


COLLIDING = GH_HEAD + gh_job("deploy-staging", None, "staging")
COLLIDING += gh_job("deploy-production", "deploy-staging", "production")
COLLIDING += gh_job("deploy_production", "deploy-staging", "production")


def mermaid_nodes(text: str) -> dict[str, str]:
    """Node id -> its label text."""
    return {m.group(1): m.group(2) for m in re.finditer(r'^    (\w+)\["([^"]*)"\]', text, re.M)}


def test_mermaid_ids_do_not_collide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = project(tmp_path, files={".github/workflows/d.yml": COLLIDING})
    code, out, _ = cli(capsys, "pipeline", "-c", str(cfg), "-f", "mermaid")
    assert code == 0
    nodes = mermaid_nodes(out)
    assert len(nodes) == 3
    by_label = {label.split("<br/>")[0]: mid for mid, label in nodes.items()}
    assert by_label["deploy-staging"] == "_github_workflows_d_yml_deploy_staging"  # no collision: as before
    assert by_label["deploy-production"] != by_label["deploy_production"]
    targets = {line.rsplit(" ", 1)[1] for line in out.splitlines() if "-->|needs|" in line}
    assert targets == {by_label["deploy-production"], by_label["deploy_production"]}


def test_mermaid_ids_are_stable_whatever_the_job_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = project(tmp_path / "a", files={".github/workflows/d.yml": COLLIDING})
    first = mermaid_nodes(cli(capsys, "pipeline", "-c", str(cfg), "-f", "mermaid")[1])
    head, *jobs = re.split(r"(?m)^(?=  \S)", COLLIDING)
    cfg = project(tmp_path / "b", files={".github/workflows/d.yml": head + "".join(reversed(jobs))})
    second = mermaid_nodes(cli(capsys, "pipeline", "-c", str(cfg), "-f", "mermaid")[1])
    assert first == second


def test_mermaid_ids_differ_for_the_same_workflow_in_two_repositories() -> None:
    rid = ".github/workflows/d.yml#deploy-production"
    ids = mermaid_ids([("repo-a", rid), ("repo-b", rid), ("repo-a", ".github/workflows/d.yml#deploy-staging")])
    assert len(set(ids.values())) == 3
    assert ids[("repo-a", ".github/workflows/d.yml#deploy-staging")] == "_github_workflows_d_yml_deploy_staging"
    wf_a, wf_b = chain_workflow(0), chain_workflow(0)
    wf_b = dataclasses.replace(wf_b, repo="other")  # the same files in another repository
    text = render_mermaid(promotion_graph([wf_a, wf_b], ["staging", "production"]))
    assert len(mermaid_nodes(text)) == 4


def test_mermaid_labels_cannot_break_out(tmp_path: Path) -> None:
    job = GraphJob('deploy|"x"\nproduction', "n", "f", 1, deploys="production")
    wf = Workflow("gitlab-ci", "repo", "f", ".gitlab-ci.yml", "ci", stages=("test",), jobs=(job,))
    text = render_mermaid(promotion_graph([wf], ["production"]))
    (label,) = mermaid_nodes(text).values()
    assert "|" not in label and '"' not in label and "\n" not in label


# 6. branches: a string is one branch ---------------------------------------------------------------------


def test_branch_filter_given_as_a_string_is_one_branch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "on: {push: {branches: main}}\njobs:\n" + gh_job("deploy-staging", None, "staging")
    text += gh_job("deploy-production", "deploy-staging", "production")
    code, out, _ = cli(capsys, "pipeline", "-c", str(project(tmp_path, files={".github/workflows/d.yml": text})))
    assert code == 0 and "on push (main)" in out and "m, a, i, n" not in out
    wf = Workflow(GITHUB, "r", "f", "f", "w", {"push": {"branches": "release"}})
    assert graphview._triggers(wf) == ("push (release)",)


# 7. nothing outside the repository is read ---------------------------------------------------------------


OUTSIDE_WORKFLOW = "on: {workflow_call: {}}\njobs:\n  leak:\n    runs-on: x\n    steps: [{run: cat /etc/hostname}]\n"


@pytest.mark.parametrize(
    ("workflow", "what"),
    [
        (GH_HEAD + "  deploy-staging: {uses: ./../../etc/hostname}\n", "calls ./../../etc/hostname, which is outside"),
        (GH_HEAD + "  deploy-staging: {uses: ./../outside.yml}\n", "calls ./../outside.yml, which is outside"),
        (GH_HEAD + "  deploy-staging: {runs-on: x, steps: [{uses: ./../evil}]}\n", "uses ./../evil, which is outside"),
    ],
    ids=["job-uses-file", "job-uses-workflow", "step-uses-action"],
)
def test_local_uses_outside_the_repository_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workflow: str, what: str
) -> None:
    write(tmp_path, {"outside.yml": OUTSIDE_WORKFLOW})
    write(tmp_path, {"evil/action.yml": "runs: {using: composite, steps: [{run: cat /etc/shadow, shell: bash}]}\n"})
    repo = write(tmp_path / "repo", {".github/workflows/d.yml": workflow})
    seen = reads(monkeypatch)
    e = github_error(repo)
    assert (e.file, e.line) == ("repo/.github/workflows/d.yml", 3) and what in e.message
    assert all(p.is_relative_to(repo.resolve()) for p in seen)


def test_gitlab_include_outside_the_repository_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"secrets.yml": "leak: {script: [cat /etc/hostname]}\n"})
    repo = write(tmp_path / "repo", {".gitlab-ci.yml": "include: [../secrets.yml]\n" + GL_DEPLOY})
    seen = reads(monkeypatch)
    e = gitlab_error(repo)
    assert (e.file, e.line) == ("repo/.gitlab-ci.yml", 1) and "outside the repository" in e.message
    assert all(p.is_relative_to(repo.resolve()) for p in seen)
    write(repo, {".gitlab-ci.yml": "include: ['../*.yml']\n" + GL_DEPLOY})
    assert "matches no file in the repository" in gitlab_error(repo).message
    write(repo, {".gitlab-ci.yml": "include: ['ci/**x.yml']\n" + GL_DEPLOY})  # not a glob Python takes
    e = gitlab_error(repo)
    assert (e.file, e.line) == ("repo/.gitlab-ci.yml", 1) and "is not valid" in e.message


def test_a_nul_character_in_a_local_path_is_an_input_error(tmp_path: Path) -> None:
    step = '  a: {runs-on: x, steps: [{uses: "./a\\0b"}]}\n'  # YAML "\0" is a NUL character
    gh = write(tmp_path / "gh", {".github/workflows/d.yml": GH_HEAD + step})
    e = github_error(gh)
    assert (e.file, e.line) == ("gh/.github/workflows/d.yml", 3) and "not a valid path" in e.message
    gh = write(tmp_path / "gh2", {".github/workflows/d.yml": GH_HEAD + '  a: {uses: "./x\\0.yml"}\n'})
    assert "not a valid path" in github_error(gh).message
    gl = write(tmp_path / "gl", {".gitlab-ci.yml": 'include: ["ci/a\\0.yml"]\n' + GL_DEPLOY})
    e = gitlab_error(gl)
    assert (e.file, e.line) == ("gl/.gitlab-ci.yml", 1) and "not a valid path" in e.message


def test_symlinked_workflow_pointing_outside_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"outside.yml": GH_HEAD + gh_job("deploy-staging", None, "staging")})
    repo = write(tmp_path / "repo", {".github/workflows/ok.yml": GH_HEAD + gh_job("build")})
    (repo / ".github/workflows/link.yml").symlink_to(tmp_path / "outside.yml")
    seen = reads(monkeypatch)
    e = github_error(repo)
    assert e.file == "repo/.github/workflows/link.yml" and "outside the repository" in e.message
    assert all(p.is_relative_to(repo.resolve()) for p in seen)


def test_local_actions_used_repeatedly_hit_the_step_budget(tmp_path: Path) -> None:
    # seven levels of an action using the next ten times: 10^6 steps without a budget
    tree = {".github/workflows/d.yml": GH_HEAD + "  deploy-staging:\n    runs-on: x\n    steps: [{uses: ./a0}]\n"}
    for i in range(7):
        steps = "".join(f"    - uses: ./a{i + 1}\n" for _ in range(10)) if i < 6 else "    - run: echo\n"
        tree[f"a{i}/action.yml"] = f"runs:\n  using: composite\n  steps:\n{steps}"
    e = github_error(write(tmp_path / "repo", tree))
    assert e.file.startswith("repo/a") and e.line is not None
    assert f"more than {github.MAX_STEPS:,} steps" in e.message


def test_deeply_nested_local_actions_are_not_called_a_cycle(tmp_path: Path) -> None:
    def tree(depth: int) -> dict[str, str]:
        out = {".github/workflows/d.yml": GH_HEAD + "  deploy-staging:\n    runs-on: x\n    steps: [{uses: ./a0}]\n"}
        for i in range(depth):
            step = f"{{uses: ./a{i + 1}}}" if i < depth - 1 else "{run: echo, shell: bash}"
            out[f"a{i}/action.yml"] = f"runs: {{using: composite, steps: [{step}]}}\n"
        return out

    (wf,) = github.read(write(tmp_path / "ok", tree(github.MAX_DEPTH)), tmp_path)
    assert [s.data.get("run") for s in wf.jobs[0].steps] == ["echo"]
    e = github_error(write(tmp_path / "repo", tree(github.MAX_DEPTH + 1)))
    assert f"nested more than {github.MAX_DEPTH} deep" in e.message and "cycle" not in e.message
    loop = {".github/workflows/d.yml": tree(1)[".github/workflows/d.yml"]}
    loop["a0/action.yml"] = "runs: {using: composite, steps: [{uses: ./a0}]}\n"
    assert "composite action cycle" in github_error(write(tmp_path / "loop", loop)).message


# 8. docker:// images are told to pin a digest ------------------------------------------------------------


def test_unpinned_docker_image_hint_is_a_digest() -> None:
    r = Resource(
        type="pipeline/github-actions/job",
        id=".github/workflows/d.yml#deploy-production",
        key="k",
        attributes={"steps": [{"name": "uses docker://alpine:3.19", "uses": "docker://alpine:3.19"}]},
        location=Location("repo/.github/workflows/d.yml", 3),
    )
    rule = PipelinePinnedActionsRule(rule="pipeline_pinned_actions", environments=["production"])
    (v,) = policy.pinned(rule, "production", r)
    assert "docker://alpine:3.19@sha256:<digest>" in v.message and "not pinned to a digest" in v.message
    assert "commit" not in v.message


def test_unpinned_docker_image_hint_end_to_end(tmp_path: Path) -> None:
    text = GH_HEAD + gh_job("deploy-staging", None, "staging") + "  deploy-production:\n    runs-on: x\n"
    text += "    needs: deploy-staging\n    environment: production\n    steps: [{uses: 'docker://ghcr.io/o/tool:1'}]\n"
    rules = "rules:\n  - {rule: pipeline_pinned_actions, environments: [production]}\n"
    fs = [
        f
        for f in findings(project(tmp_path, None, rules, {".github/workflows/d.yml": text}))
        if f.kind == "policy_violation"
    ]
    (f,) = fs
    assert "pin it to its digest, docker://ghcr.io/o/tool:1@sha256:<digest>" in f.message


def test_text_output_shows_control_characters_from_files_harmlessly() -> None:
    job = GraphJob("deploy\x1b[2J-production", "n", "f", 1, deploys="production")
    wf = Workflow("gitlab-ci", "repo", "f", ".gitlab-ci.yml", "ci", stages=("test",), jobs=(job,))
    graph = promotion_graph([wf], ["production"], [CoverageGap("x\x1b[31m", "r")])
    text = render_text(graph)
    assert "\x1b" not in text
