"""Hostile input to the promotion path: wrong shapes in what artifacts are read from (a scan never crashes on
them, it notes them), plans of the wrong shape (one clear error naming the file and the place), image
references the Docker grammar refuses (a note, never a tracked artifact), and a promote-check that found
nothing to check (it says so; --strict exits 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.cli import main
from parity.errors import InputError
from parity.model import Resource
from parity.normalize.placeholders import Placeholders
from parity.promotion import artifacts_of, parse_image
from parity.promotion.check import from_plan, images_from_lines
from parity.promotion.reference import reference_problem, split_reference

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"
PH = Placeholders(["staging"], ["310987654321"])
HYPO = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def deployment(containers: Any, kind: str = "apps/v1/Deployment", field: str = "containers") -> Resource:
    attrs = {"metadata": {"name": "api", "namespace": "shop-staging"},
             "spec": {"template": {"spec": {field: containers}}}}  # fmt: skip
    return Resource(kind, "shop-staging/api", f"{kind}/shop-staging/api", attrs, name="api")


# ------------------------------------------------------------------ 1. wrong shapes in artifact extraction


@pytest.mark.parametrize("field", ["containers", "initContainers"])
@pytest.mark.parametrize(
    ("containers", "said"),
    [
        ({"api": {"name": "api", "image": "nginx:1"}}, " is a mapping, expected a list"),
        ("nginx:1", " is a string, expected a list"),
        (5, " is a number, expected a list"),  # crashed: 'int' object is not iterable
        (True, " is a boolean, expected a list"),
        ([5, "nginx:1", ["x"]], "[0] is a number, expected a mapping (a container)"),
        ([{"name": "api", "image": 7}], "[api].image is a number, not an image reference"),
        ([{"name": {"x": 1}, "image": ["nginx"]}], "[0].image is a list, not an image reference"),
    ],
)
def test_wrong_container_shapes_are_noted_not_fatal(field: str, containers: Any, said: str) -> None:
    notes: list[str] = []
    assert artifacts_of(deployment(containers, field=field), PH, notes=notes) == []
    assert any(f"spec.template.spec.{field}{said}" in n for n in notes), notes
    assert all(n.startswith("apps/v1/Deployment shop-staging/api: ") for n in notes)


def test_the_good_containers_beside_bad_ones_are_still_read() -> None:
    notes: list[str] = []
    got = artifacts_of(deployment([7, {"name": "api", "image": "ghcr.io/acme/api:1.0"}]), PH, notes=notes)
    assert [a.shown for a in got] == ["ghcr.io/acme/api:1.0"]
    assert len(notes) == 1


def test_ecs_and_lambda_shapes() -> None:
    def ecs(defs: Any) -> Resource:
        return Resource(
            "aws_ecs_task_definition", "web", "aws_ecs_task_definition.web", {"container_definitions": defs}
        )

    for defs, said in [
        ("{not json", "container_definitions is not valid JSON"),
        ("[" * 5000 + "]" * 5000, "container_definitions is not valid JSON"),  # too deep for json.loads
        (json.dumps({"web": {"image": "nginx"}}), "container_definitions is a mapping, expected a list"),
        (json.dumps(["nginx"]), "container_definitions[0] is a string, expected a mapping"),
        (json.dumps([{"name": "web", "image": "nginx:::latest"}]), "container_definitions[web].image 'nginx:::latest'"),
    ]:
        notes: list[str] = []
        assert artifacts_of(ecs(defs), PH, notes=notes) == []
        assert any(said in n for n in notes), (defs[:40], notes)

    fn = Resource("aws_lambda_function", "f", "aws_lambda_function.f", {"image_uri": "", "source_code_hash": "AA="})
    notes = []
    assert [a.kind for a in artifacts_of(fn, PH, notes=notes)] == ["lambda_code"] and notes == []  # a .zip function
    fn = Resource("aws_lambda_function", "f", "aws_lambda_function.f", {"image_uri": {"uri": 1}})
    assert artifacts_of(fn, PH, notes=notes) == [] and "image_uri is a mapping" in notes[0]


def test_no_notes_about_artifacts_not_followed() -> None:
    notes: list[str] = []
    bad = deployment([{"name": "api", "image": "nginx:::latest"}])
    assert artifacts_of(bad, PH, frozenset({"helm_chart", "config_value"}), notes) == [] and notes == []
    assert artifacts_of(bad, PH, frozenset({"image"}), notes) == [] and len(notes) == 1


def test_notes_per_resource_are_bounded() -> None:
    notes: list[str] = []
    artifacts_of(deployment(list(range(1000))), PH, notes=notes)
    assert len(notes) == 6 and notes[-1].endswith("… and 995 more such places")


_KEYS = st.sampled_from(
    ["spec", "template", "jobTemplate", "containers", "initContainers", "image", "name", "metadata", "labels",
     "helm.sh/chart", "container_definitions", "image_uri", "source_code_hash", "dependencies", "version",
     "module", "source", "repository", "tag", "digest", "values", "x"]
)  # fmt: skip
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["nginx", "nginx:::latest", "UPPER/case", "ghcr.io/a/b:1", "a@sha256:" + "f" * 64, "", " x"])
)
JSONISH = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=8), inner, max_size=5),
    max_leaves=40,
)
_TYPES = st.sampled_from(
    ["apps/v1/Deployment", "batch/v1/CronJob", "v1/Pod", "batch/v1/Job", "apps/v1/StatefulSet", "v1/ConfigMap",
     "aws_ecs_task_definition", "aws_lambda_function", "config/yaml", "config/hcl", "aws_s3_bucket"]
)  # fmt: skip


def _wrapped(value: Any, kind: str) -> Any:
    """``value`` where the extractor of ``kind`` looks (the pod spec, the ECS definitions), or as it is."""
    if kind.endswith("/CronJob"):
        return {"spec": {"jobTemplate": {"spec": {"template": {"spec": value}}}}}
    if kind.endswith("/Pod"):
        return {"spec": value}
    if "/" in kind and not kind.startswith("config/"):
        return {"spec": {"template": {"spec": value}}, "metadata": {"labels": value}}
    if kind == "aws_ecs_task_definition":
        return {"container_definitions": value if not isinstance(value, list) else json.dumps(value, default=str)}
    return value


@HYPO
@given(kind=_TYPES, value=JSONISH, wrap=st.booleans(), chart=st.booleans())
def test_extraction_never_raises_on_any_shape(kind: str, value: Any, wrap: bool, chart: bool) -> None:
    attrs = _wrapped(value, kind) if wrap else value
    if not isinstance(attrs, dict):
        attrs = {"spec": attrs, "container_definitions": attrs, "image_uri": attrs, "module": attrs}
    rid = "charts/Chart.yaml" if chart else "shop-staging/api"
    notes: list[str] = []
    for a in artifacts_of(Resource(kind, rid, f"{kind}/{rid}", attrs), PH, notes=notes):
        if a.kind == "image":  # nothing the grammar refuses is ever tracked as an image
            assert reference_problem(a.shown) is None, a.shown
    assert all("\n" not in n for n in notes)


# ------------------------------------------------------------------ 3. the image reference grammar


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("nginx:::latest", "more than one ':'"),
        ("UPPER/case", "upper-case"),
        ("ghcr.io/Acme/api:1", "upper-case"),
        ("", "empty"),
        (" ", "whitespace"),
        (" nginx", "whitespace"),
        ("nginx\t", "whitespace"),
        ("ng\x00inx", "control character"),
        ("ngïnx", "not ASCII"),
        ("nginx:", "malformed tag"),
        ("nginx:-1", "malformed tag"),
        ("nginx:" + "a" * 129, "malformed tag"),
        ("nginx@sha256:abc", "malformed digest"),
        ("nginx@", "malformed digest"),
        (":1.0", "no repository name"),
        ("-nginx", "malformed repository path"),
        ("acme//api", "malformed repository path"),
        ("acme/api/", "malformed repository path"),
        ("a___b", "malformed repository path"),
        ("bad_host.io:port/x", "malformed registry host or port"),
        ("a" * 256, "longer than 255"),
        ("f" * 64, "image id"),
        ("${IMAGE}", "unexpanded variable"),
        ("ghcr.io/acme/api:{{ .Values.tag }}", "unexpanded variable"),
    ],
)
def test_bad_references_are_refused_with_a_reason(ref: str, why: str) -> None:
    problem = reference_problem(ref)
    assert problem is not None and why in problem
    notes: list[str] = []
    assert artifacts_of(deployment([{"name": "api", "image": ref}]), PH, notes=notes) == []
    if ref:
        assert len(notes) == 1 and "is not a valid image reference" in notes[0]


@pytest.mark.parametrize(
    "ref",
    [
        "nginx",
        "nginx:1.25-alpine",
        "library/nginx:latest",
        "docker.io/library/nginx",
        "ghcr.io/acme/api:3.1.0",
        "ghcr.io/acme/api@sha256:" + "a" * 64,
        "ghcr.io/acme/api:3.1.0@sha256:" + "A" * 64,
        "localhost/x",
        "localhost:5000/team/x:v2",
        "[::1]:5000/x:1",
        "310987654321.dkr.ecr.eu-west-1.amazonaws.com/shop-staging/api:7",
        "Registry.Example.com/a/b",  # the registry host may be upper case
        "a__b/c--d/e.f_g:T_1.0-rc",
        "docker.io/" + "f" * 64,  # a hex repository under a registry is a repository
    ],
)
def test_good_references_pass(ref: str) -> None:
    assert reference_problem(ref) is None
    assert parse_image(ref) is not None
    got = artifacts_of(deployment([{"name": "api", "image": ref}]), PH)
    assert [a.shown for a in got] == [ref]


_COMPONENT = st.from_regex(r"\A[a-z0-9]{1,8}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,6}){0,2}\Z")
_PLAIN = st.from_regex(r"\A[a-z0-9]{1,8}(?:(?:_|__|-{1,2})[a-z0-9]{1,6}){0,2}\Z")  # no ".": not a host
_HOST = st.from_regex(r"\A(?:[a-zA-Z0-9]{1,6}(?:-[a-zA-Z0-9]{1,4})?\.){1,3}[a-z]{2,4}(?::[0-9]{1,5})?\Z")


@st.composite
def _valid_refs(draw: st.DrawFn) -> str:
    """References of the grammar: [host[:port]/]path[:tag][@digest] (a first component with a "." and no
    host before it would be taken for a host)."""
    host = draw(st.none() | _HOST | st.just("localhost:5000"))
    path = [draw(_COMPONENT if host else _PLAIN), *draw(st.lists(_COMPONENT, max_size=2))]
    ref = (f"{host}/" if host else "") + "/".join(path)
    ref += draw(st.sampled_from(["", ":latest", ":1.0", ":T_1-rc.2", ":" + "v" * 128]))
    return ref + draw(st.sampled_from(["", "@sha256:" + "0" * 64, "@sha512:" + "Ab" * 64]))


_VALID = _valid_refs()


@HYPO
@given(ref=_VALID)
def test_every_reference_of_the_grammar_is_accepted(ref: str) -> None:
    assert reference_problem(ref) is None, ref
    assert parse_image(ref) is not None


@HYPO
@given(ref=st.text(max_size=40) | _VALID.map(lambda r: r.upper()) | _VALID.map(lambda r: r + ":x:y"))
def test_the_checker_and_the_parser_agree(ref: str) -> None:
    """Anything the grammar accepts parses; what parses is the grammar but for letter case."""
    if reference_problem(ref) is None:
        assert parse_image(ref) is not None
    if parse_image(ref) is not None:
        problem = reference_problem(ref)
        assert problem is None or "upper-case" in problem
        assert not isinstance(split_reference(ref, fold_case=True), str)


def test_image_lists_refuse_bad_lines_naming_the_line() -> None:
    with pytest.raises(InputError) as e:
        images_from_lines("ghcr.io/acme/api:1\n\nnginx:::latest\n", "images.txt", PH)
    assert str(e.value).startswith("images.txt:3: 'nginx:::latest' is not an image reference")
    with pytest.raises(InputError, match=r"images\.txt:1: 'UPPER/case' .*upper-case"):
        images_from_lines("UPPER/case # a comment\n", "images.txt", PH)


# ------------------------------------------------------------------ 2. plans of the wrong shape


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        ([], "is a list, not `terraform show -json` output of a plan"),
        ("plan", "is a string, not"),
        ({}, "has no planned_values"),
        ({"planned_values": []}, "planned_values is a list, expected an object"),
        ({"planned_values": {"root_module": 3}}, "planned_values.root_module is a number, expected an object"),
        ({"planned_values": {"root_module": {"resources": {}}}}, "planned_values.root_module.resources is a mapping"),
        ({"planned_values": {"root_module": {"resources": [1]}}}, "resources[0] is a number, expected an object"),
        ({"planned_values": {"root_module": {"resources": [{}]}}}, 'resources[0] has no "type"'),
        ({"planned_values": {"root_module": {"resources": [{"type": "aws_lambda_function", "values": []}]}}},
         "resources[0].values is a list, expected an object"),
        ({"planned_values": {"root_module": {"resources": [{"type": "x", "address": 3}]}}},
         "resources[0].address is a number, expected a string"),
        ({"planned_values": {"root_module": {"child_modules": {}}}}, "root_module.child_modules is a mapping"),
        ({"planned_values": {"root_module": {"child_modules": [[]]}}},
         "child_modules[0] is a list, expected an object"),
        ({"planned_values": {}, "configuration": []}, "configuration is a list, expected an object"),
        ({"planned_values": {}, "configuration": {"root_module": {"module_calls": []}}},
         "configuration.root_module.module_calls is a list, expected an object"),
        ({"planned_values": {}, "configuration": {"root_module": {"module_calls": {"vpc": "x"}}}},
         "module_calls.vpc is a string, expected an object"),
        ({"planned_values": {}, "configuration": {"root_module": {"module_calls": {"vpc": {"source": "s",
          "version_constraint": {"v": 1}}}}}}, "module_calls.vpc.version_constraint is a mapping, expected a string"),
        ({"planned_values": {}, "configuration": {"root_module": {"module_calls": {"vpc": {"module": 1}}}}},
         "module_calls.vpc.module is a number, expected an object"),
    ],
)  # fmt: skip
def test_plans_of_the_wrong_shape_are_one_clear_error(plan: Any, said: str) -> None:
    with pytest.raises(InputError) as e:
        from_plan(plan, "plan.json", PH)
    assert str(e.value).startswith("plan.json: ") and said in str(e.value), str(e.value)


def test_deep_module_trees_are_read_without_recursion() -> None:
    mod: dict[str, Any] = {"resources": [{"type": "aws_lambda_function", "address": "deep", "values":
                                          {"source_code_hash": "AA="}}]}  # fmt: skip
    calls: dict[str, Any] = {}
    for _ in range(3000):
        mod = {"child_modules": [mod]}
        calls = {"module_calls": {"m": {"source": "s", "version_constraint": "1", "module": calls}}}
    got = from_plan({"planned_values": {"root_module": mod}, "configuration": {"root_module": calls}}, "p", PH)
    assert sum(c.artifact.kind == "module" for c in got) == 3000
    assert [c.artifact.shown for c in got if c.artifact.kind == "lambda_code"] == ["AA="]


_PLAN_KEYS = st.sampled_from(
    ["planned_values", "root_module", "resources", "child_modules", "type", "address", "values", "mode",
     "configuration", "module_calls", "source", "version_constraint", "module", "image_uri", "source_code_hash",
     "container_definitions"]
)  # fmt: skip
PLANISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(
        ["aws_lambda_function", "aws_ecs_task_definition", "data", "nginx:1", "Bad Ref"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_PLAN_KEYS, inner, max_size=5),
    max_leaves=30,
)  # fmt: skip


@HYPO
@given(data=PLANISH | st.fixed_dictionaries({"planned_values": PLANISH}, optional={"configuration": PLANISH}))
def test_any_json_is_a_plan_or_one_input_error(data: Any) -> None:
    notes: list[str] = []
    try:
        got = from_plan(data, "plan.json", PH, notes)
    except InputError as e:
        assert e.file == "plan.json" and "\n" not in str(e)
        return
    assert all(c.artifact.kind in ("image", "lambda_code", "module") for c in got)
    assert all(reference_problem(c.artifact.shown) is None for c in got if c.artifact.kind == "image")


# ------------------------------------------------------------------ through the CLI


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    d = tmp_path / "demo"
    shutil.copytree(EXAMPLE, d, ignore=shutil.ignore_patterns(".parity"))
    return d


def _scan(demo: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["scan", "-c", str(demo / "parity.yaml"), "--format", "json", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 2, err
    doc: dict[str, Any] = json.loads(out)
    return doc


BAD_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: odd, namespace: greenflash-staging}
spec:
  template:
    spec:
      initContainers: {setup: {image: busybox}}
      containers: 3
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd2, namespace: greenflash-staging}
spec:
  template:
    spec:
      containers: [{name: web, image: "nginx:::latest"}]
"""


def test_a_scan_notes_wrong_shapes_and_bad_references_instead_of_crashing(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo / "kubernetes" / "staging" / "odd.yaml").write_text(BAD_DEPLOYMENT)
    notes = [n for n in _scan(demo, capsys)["notes"] if "odd.yaml" in n]
    assert notes == [
        "staging: kubernetes/staging/odd.yaml:1 apps/v1/Deployment greenflash-staging/odd: "
        "spec.template.spec.initContainers is a mapping, expected a list; not followed along the promotion path",
        "staging: kubernetes/staging/odd.yaml:1 apps/v1/Deployment greenflash-staging/odd: "
        "spec.template.spec.containers is a number, expected a list; not followed along the promotion path",
        "staging: kubernetes/staging/odd.yaml:10 apps/v1/Deployment greenflash-staging/odd2: "
        "spec.template.spec.containers[web].image 'nginx:::latest' is not a valid image reference: it has more "
        "than one ':' (a tag is written once, after the last '/'); not followed along the promotion path",
    ]


def _check(demo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_promote_check_notes_bad_manifests_and_says_when_nothing_was_checked(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _scan(demo, capsys)
    rendered = demo / "rendered.yaml"
    rendered.write_text(BAD_DEPLOYMENT.replace("staging", "production"))
    code, out, err = _check(demo, capsys, "--manifest", str(rendered), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["verdict"], doc["checked"], doc["complete"], doc["artifacts"], doc["exit_code"]) == (
        "nothing checked", 0, False, [], 0)  # fmt: skip
    assert len(doc["notes"]) == 3 and all(n.startswith(f"{rendered}:") for n in doc["notes"])
    assert "'nginx:::latest' is not a valid image reference" in doc["notes"][2]

    code, out, _ = _check(demo, capsys, "--manifest", str(rendered))
    assert code == 0
    assert "nothing was checked: the input holds no image, Lambda code, Helm chart or module" in out
    assert "every artifact ran" not in out and "no artifact was checked" in out
    code, out, _ = _check(demo, capsys, "--manifest", str(rendered), "--format", "markdown")
    assert code == 0 and "**nothing checked**" in out
    assert _check(demo, capsys, "--manifest", str(rendered), "--strict")[0] == 3

    only_config = demo / "config-only.yaml"
    only_config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: greenflash-production}\n"
                           "data: {A: b}\n")  # fmt: skip
    code, out, _ = _check(demo, capsys, "--manifest", str(only_config), "--format", "json")
    doc = json.loads(out)
    assert (code, doc["verdict"], doc["notes"], doc["complete"]) == (0, "nothing checked", [], False)
    assert _check(demo, capsys, "--manifest", str(only_config), "--strict")[0] == 3

    # a good artifact beside a skipped one: checked, and --strict says something was skipped
    mixed = demo / "mixed.yaml"
    prod = (demo / "kubernetes" / "production" / "greenflash.yaml").read_text()
    mixed.write_text(prod + "\n---\n" + BAD_DEPLOYMENT.replace("staging", "production"))
    code, out, _ = _check(demo, capsys, "--manifest", str(mixed))
    assert code == 0 and "every artifact checked ran in staging (some were skipped: see the notes)" in out
    assert _check(demo, capsys, "--manifest", str(mixed), "--strict")[0] == 3
    assert _check(demo, capsys, "--manifest", str(prod_file(demo)), "--strict")[0] == 0


def prod_file(demo: Path) -> Path:
    return demo / "kubernetes" / "production" / "greenflash.yaml"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[1, 2]", "is a list, not `terraform show -json` output of a plan"),
        ('{"planned_values": {"root_module": {"resources": {"a": 1}}}}',
         "planned_values.root_module.resources is a mapping, expected a list"),
        ('{"planned_values": {}, "configuration": {"root_module": {"module_calls": {"m": 5}}}}',
         "configuration.root_module.module_calls.m is a number, expected an object"),
        ("{not json", "is not valid JSON"),
        ("[" * 3000 + "]" * 3000, "JSON"),
    ],
)  # fmt: skip
def test_a_plan_of_the_wrong_shape_exits_1_with_one_line(
    demo: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    _scan(demo, capsys)
    plan = demo / "plan.json"
    plan.write_text(text)
    code, out, err = _check(demo, capsys, "--plan", str(plan))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"parity: error: {plan}") and said in err, err
    assert "Traceback" not in err and "internal error" not in err


def test_a_bad_image_in_a_plan_is_a_note(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _scan(demo, capsys)
    plan = demo / "plan.json"
    defs = json.dumps([{"name": "web", "image": "ghcr.io/greenflash/api:3.1.0"}, {"name": "x", "image": "Bad Ref"}])
    plan.write_text(json.dumps({"planned_values": {"root_module": {"resources": [
        {"address": "aws_ecs_task_definition.web", "type": "aws_ecs_task_definition",
         "values": {"container_definitions": defs}}]}}}))  # fmt: skip
    code, out, _ = _check(demo, capsys, "--plan", str(plan), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and [a["artifact"] for a in doc["artifacts"]] == ["ghcr.io/greenflash/api:3.1.0"]
    assert doc["notes"] == [
        f"{plan} aws_ecs_task_definition aws_ecs_task_definition.web: container_definitions[x].image 'Bad Ref' is "
        "not a valid image reference: it contains whitespace, a control character or a character that is not "
        "ASCII; not checked"
    ]
