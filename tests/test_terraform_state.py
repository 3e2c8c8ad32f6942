"""The terraform-state source over state files written by the tests: fields, redaction, errors, properties."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.config import TerraformStateSource
from parity.errors import InputError
from parity.model import Resource, Snapshot
from parity.redact import Redactor, looks_secret
from parity.registry import CollectContext, source_kinds
from parity.sources.terraform.state import collect_state

# Helpers -----------------------------------------------------------------------------------------

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'


def inst(attrs: dict[str, Any] | None = None, index_key: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"schema_version": 0, "attributes": attrs if attrs is not None else {}}
    if index_key is not None:
        out["index_key"] = index_key
    out.update(extra)
    return out


def res(
    type_: str,
    name: str,
    *instances: dict[str, Any],
    module: str | None = None,
    mode: str = "managed",
    provider: str = AWS,
) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": mode, "type": type_, "name": name, "provider": provider}
    if module:
        out["module"] = module
    out["instances"] = list(instances)
    return out


def state(*resources: dict[str, Any], version: Any = 4, tf: Any = "1.5.7") -> dict[str, Any]:
    return {
        "version": version,
        "terraform_version": tf,
        "serial": 3,
        "lineage": "l-1",
        "outputs": {},
        "resources": list(resources),
    }


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data, indent=2).encode())
    return path


def ctx_for(base: Path, redactor: Redactor, env: str = "staging") -> CollectContext:
    return CollectContext(
        environment=env, source_name="tf", base_dir=base, redactor=redactor, role="declared", tokens={}
    )


def collect(base: Path, path: str | list[str], redactor: Redactor) -> Snapshot:
    snaps = collect_state(TerraformStateSource(kind="terraform-state", path=path), ctx_for(base, redactor))
    assert len(snaps) == 1
    return snaps[0]


def by_address(snap: Snapshot) -> dict[str | None, Resource]:
    out = {r.address: r for r in snap.resources}
    assert len(out) == len(snap.resources), "addresses are unique within one file"
    return out


# Registration ------------------------------------------------------------------------------------


def test_both_terraform_kinds_are_registered() -> None:
    kinds = source_kinds()
    assert kinds["terraform-state"].collect is collect_state
    assert "terraform-plan" in kinds


# Resource fields ---------------------------------------------------------------------------------


def test_a_root_resource_gets_every_field(tmp_path: Path, redactor: Redactor) -> None:
    attrs = {
        "id": "logs-bucket-stg",
        "bucket": "logs-bucket-stg",
        "arn": "arn:aws:s3:::logs-bucket-stg",
        "tags": {"team": "core"},
    }
    write(tmp_path / "envs" / "terraform.tfstate", state(res("aws_s3_bucket", "logs", inst(dict(attrs)))))
    snap = collect(tmp_path, "envs/terraform.tfstate", redactor)

    assert (snap.environment, snap.source, snap.kind, snap.role) == ("staging", "tf", "terraform-state", "declared")
    assert snap.collected_at.utcoffset() is not None
    assert snap.coverage.listed == ("envs/terraform.tfstate",)
    assert snap.coverage.complete
    (r,) = snap.resources
    assert r.type == "aws_s3_bucket"
    assert r.address == r.key == "aws_s3_bucket.logs"
    assert r.id == attrs["id"]
    assert r.name == attrs["bucket"]
    assert r.tags == attrs["tags"]
    assert r.attributes == attrs  # tags are kept in attributes too
    assert r.owner == "terraform"
    assert r.origin == "terraform-state:envs/terraform.tfstate"
    assert r.location is not None and r.location.file == "envs/terraform.tfstate"


def test_modules_count_and_for_each_give_full_addresses(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "terraform.tfstate",
        state(
            res(
                "aws_s3_bucket",
                "logs",
                inst({"id": "b-eu"}, "eu"),
                inst({"id": "b-us"}, "us"),
                module="module.a.module.b",
            ),
            res("aws_instance", "web", inst({"id": "i-0"}, 0), inst({"id": "i-1"}, 1), module='module.a["x"]'),
            res("aws_vpc", "main", inst({"id": "vpc-1"})),
        ),
    )
    got = by_address(collect(tmp_path, "terraform.tfstate", redactor))
    assert set(got) == {
        'module.a.module.b.aws_s3_bucket.logs["eu"]',
        'module.a.module.b.aws_s3_bucket.logs["us"]',
        'module.a["x"].aws_instance.web[0]',
        'module.a["x"].aws_instance.web[1]',
        "aws_vpc.main",
    }
    assert got['module.a.module.b.aws_s3_bucket.logs["us"]'].id == "b-us"
    assert got['module.a["x"].aws_instance.web[1]'].id == "i-1"
    assert all(r.key == r.address for r in got.values())


def test_data_sources_are_skipped(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "terraform.tfstate",
        state(
            res("aws_ami", "linux", inst({"id": "ami-1"}), mode="data"),
            res("aws_instance", "web", inst({"id": "i-1", "ami": "ami-1"})),
        ),
    )
    snap = collect(tmp_path, "terraform.tfstate", redactor)
    assert [r.address for r in snap.resources] == ["aws_instance.web"]


@pytest.mark.parametrize(
    "provider",
    [
        "provider.aws",
        'provider["registry.terraform.io/hashicorp/aws"]',
        "module.x.provider.aws.west",
        'module.x.provider["registry.terraform.io/hashicorp/aws"].west',
        'provider["unterminated',
        "",
    ],
)
def test_every_provider_address_style_loads(tmp_path: Path, redactor: Redactor, provider: str) -> None:
    write(tmp_path / "terraform.tfstate", state(res("aws_vpc", "main", inst({"id": "vpc-1"}), provider=provider)))
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    assert r.id == "vpc-1"


def test_id_falls_back_to_the_address_and_name_to_tags_then_code(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "terraform.tfstate",
        state(
            res("aws_eip", "nat", inst({"id": "", "tags": {"Name": "nat-ip"}})),
            res("null_resource", "hook", inst({"triggers": None})),
            res("aws_db_instance", "db", inst({"id": "db-1", "identifier": "orders-db", "name": ""})),
            res(
                "aws_lambda_function",
                "fn",
                inst({"id": "fn", "function_name": "resize", "tags": {"Name": "x", "n": 1}}),
            ),
        ),
    )
    got = by_address(collect(tmp_path, "terraform.tfstate", redactor))
    eip = got["aws_eip.nat"]
    assert (eip.id, eip.name) == ("aws_eip.nat", "nat-ip")
    hook = got["null_resource.hook"]
    assert (hook.id, hook.name) == ("null_resource.hook", "hook")
    assert got["aws_db_instance.db"].name == "orders-db"  # an empty name does not win
    fn = got["aws_lambda_function.fn"]
    assert fn.name == "resize"
    assert fn.tags == {}  # a non-string tag value: not a tag map


def test_missing_resources_is_an_empty_snapshot(tmp_path: Path, redactor: Redactor) -> None:
    data = state()
    del data["resources"]
    write(tmp_path / "terraform.tfstate", data)
    snap = collect(tmp_path, "terraform.tfstate", redactor)
    assert snap.resources == ()
    assert snap.coverage.listed == ("terraform.tfstate",)


def test_deposed_objects_are_skipped(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "terraform.tfstate",
        state(res("aws_instance", "web", inst({"id": "i-new"}), inst({"id": "i-old"}, deposed="00000001"))),
    )
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    assert r.id == "i-new"


# Redaction ---------------------------------------------------------------------------------------


def test_sensitive_attributes_paths_are_redacted(tmp_path: Path, redactor: Redactor) -> None:
    secrets = {
        "top": "s3cr3t-top-value",
        "nested": "s3cr3t-nested-value",
        "mapval": "s3cr3t-map-value",
        "odd": "s3cr3t-odd",
    }
    attrs = {
        "id": "db-1",
        "master": secrets["top"],
        "settings": [{"engine": "postgres", "conn": secrets["nested"]}],
        "params": {"plain": "ok", "hidden": secrets["mapval"]},
        "weird": {"x": [secrets["odd"]]},
        "engine_version": "15.4",
    }
    sensitive = [
        [{"type": "get_attr", "value": "master"}],
        [
            {"type": "get_attr", "value": "settings"},
            {"type": "index", "value": {"value": 0, "type": "number"}},
            {"type": "get_attr", "value": "conn"},
        ],
        [{"type": "get_attr", "value": "params"}, {"type": "index", "value": {"value": "hidden", "type": "string"}}],
        # a step parity does not understand: the whole top-level attribute goes
        [{"type": "get_attr", "value": "weird"}, {"type": "splat", "value": None}],
        [{"type": "get_attr", "value": "not_there"}],
        "not a path",
        [],
    ]
    write(
        tmp_path / "terraform.tfstate",
        state(res("aws_db_instance", "db", inst(dict(attrs), sensitive_attributes=sensitive)), tf="1.3.7"),
    )
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    text = repr(r)
    for value in secrets.values():
        assert value not in text
    a = r.attributes
    assert a["master"] == redactor.redact(secrets["top"])
    assert a["settings"] == [{"engine": "postgres", "conn": redactor.redact(secrets["nested"])}]
    assert a["params"] == {"plain": "ok", "hidden": redactor.redact(secrets["mapval"])}
    assert a["weird"] == redactor.redact({"x": [secrets["odd"]]})
    assert a["engine_version"] == "15.4"


def test_secret_looking_keys_are_redacted_at_any_depth(tmp_path: Path, redactor: Redactor) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    attrs = {
        "id": "fn",
        "function_name": "resize",
        "environment": [{"variables": {"DB_PASSWORD": "pw-value-1", "LOG_LEVEL": "info", "apiKey": "key-value-2"}}],
        "master_password": "pw-value-3",
        "token": None,
        "policy": policy,
        "passwordless_login_enabled": True,
    }
    # a type parity knows nothing about: only the names decide (see the next test for secret-by-position)
    write(tmp_path / "terraform.tfstate", state(res("example_function", "fn", inst(dict(attrs)))))
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    text = repr(r)
    for value in ("pw-value-1", "key-value-2", "pw-value-3"):
        assert value not in text
    variables = r.attributes["environment"][0]["variables"]
    assert variables == {
        "DB_PASSWORD": redactor.redact("pw-value-1"),
        "LOG_LEVEL": "info",
        "apiKey": redactor.redact("key-value-2"),
    }
    assert r.attributes["token"] is None  # null hides nothing and stays "unset"
    assert r.attributes["policy"] == policy  # JSON strings are kept as strings
    assert r.attributes["passwordless_login_enabled"] is True


def test_values_secret_by_position_are_hashed(tmp_path: Path, redactor: Redactor) -> None:
    """A type may declare paths secret whatever their names (every Lambda environment value): the state's
    values there are hashed, as the live listing hashes them, so the two compare marker with marker."""
    attrs = {"id": "fn", "function_name": "resize", "environment": [{"variables": {"LOG_LEVEL": "info"}}]}
    write(tmp_path / "terraform.tfstate", state(res("aws_lambda_function", "fn", inst(dict(attrs)))))
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    assert r.attributes["environment"] == [{"variables": {"LOG_LEVEL": redactor.redact("info")}}]
    assert r.attributes["function_name"] == "resize"


def test_secret_looking_tag_values_do_not_leak_through_tags(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "terraform.tfstate",
        state(res("aws_instance", "web", inst({"id": "i-1", "tags": {"Name": "web", "deploy_token": "tok-value"}}))),
    )
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    assert "tok-value" not in repr(r)
    assert r.tags == {"Name": "web", "deploy_token": redactor.redact("tok-value")}


def test_attributes_flat_is_read_when_attributes_is_absent(tmp_path: Path, redactor: Redactor) -> None:
    flat = {
        "id": "sg-1",
        "name": "web-sg",
        "tags.%": "1",
        "tags.Name": "web",
        "ingress.#": "0",
        "db_password": "flat-pw",
    }
    instance = {"schema_version": 0, "attributes_flat": dict(flat)}
    write(tmp_path / "terraform.tfstate", state(res("aws_security_group", "web", instance), tf="0.12.0"))
    (r,) = collect(tmp_path, "terraform.tfstate", redactor).resources
    assert (r.id, r.name, r.tags) == ("sg-1", "web-sg", {"Name": "web"})
    assert r.attributes["ingress.#"] == "0"
    assert r.attributes["db_password"] == redactor.redact("flat-pw")


# Several files -------------------------------------------------------------------------------------


def test_a_folder_of_states_is_one_snapshot(tmp_path: Path, redactor: Redactor) -> None:
    write(tmp_path / "live" / "network" / "terraform.tfstate", state(res("aws_vpc", "main", inst({"id": "vpc-1"}))))
    write(tmp_path / "live" / "app" / "app.tfstate", state(res("aws_instance", "web", inst({"id": "i-1"}))))
    write(tmp_path / "live" / "app" / "notes.txt", b"not a state")
    write(tmp_path / "live" / ".terraform" / "terraform.tfstate", b"{ skipped tool folder")
    snap = collect(tmp_path, "live", redactor)
    assert sorted(snap.coverage.listed) == ["live/app/app.tfstate", "live/network/terraform.tfstate"]
    got = by_address(snap)
    assert set(got) == {"aws_vpc.main", "aws_instance.web"}
    assert got["aws_vpc.main"].origin == "terraform-state:live/network/terraform.tfstate"


def test_a_glob_and_a_list_of_paths(tmp_path: Path, redactor: Redactor) -> None:
    write(tmp_path / "a" / "terraform.tfstate", state(res("aws_vpc", "a", inst({"id": "vpc-a"}))))
    write(tmp_path / "b" / "terraform.tfstate", state(res("aws_vpc", "b", inst({"id": "vpc-b"}))))
    write(tmp_path / "c" / "other.tfstate", state(res("aws_vpc", "c", inst({"id": "vpc-c"}))))
    assert {r.id for r in collect(tmp_path, "*/terraform.tfstate", redactor).resources} == {"vpc-a", "vpc-b"}
    both = collect(tmp_path, ["a/terraform.tfstate", str(tmp_path / "c")], redactor)
    assert {r.id for r in both.resources} == {"vpc-a", "vpc-c"}


def test_an_address_in_two_files_gets_file_prefixed_keys_only_there(tmp_path: Path, redactor: Redactor) -> None:
    write(
        tmp_path / "one" / "terraform.tfstate",
        state(res("aws_s3_bucket", "logs", inst({"id": "logs-1"})), res("aws_vpc", "main", inst({"id": "vpc-1"}))),
    )
    write(tmp_path / "two" / "terraform.tfstate", state(res("aws_s3_bucket", "logs", inst({"id": "logs-2"}))))
    snap = collect(tmp_path, ["one", "two"], redactor)
    keys = {r.id: r.key for r in snap.resources}
    assert keys == {
        "logs-1": "one/terraform.tfstate#aws_s3_bucket.logs",
        "logs-2": "two/terraform.tfstate#aws_s3_bucket.logs",
        "vpc-1": "aws_vpc.main",
    }
    assert {r.address for r in snap.resources} == {"aws_s3_bucket.logs", "aws_vpc.main"}


# Errors ------------------------------------------------------------------------------------------------


def load_error(base: Path, path: str, redactor: Redactor) -> InputError:
    with pytest.raises(InputError) as e:
        collect(base, path, redactor)
    return e.value


def test_malformed_json_names_the_file_and_the_place(tmp_path: Path, redactor: Redactor) -> None:
    text = '{\n  "version": 4,\n  "terraform_version": "1.5.7",\n  "resources": [ oops ]\n}\n'
    (tmp_path / "bad.tfstate").write_text(text)
    err = load_error(tmp_path, "bad.tfstate", redactor)
    assert err.file == "bad.tfstate"
    assert (err.line, err.column) == (4, text.splitlines()[3].index("oops") + 1)
    assert "bad.tfstate:4:" in str(err)


@pytest.mark.parametrize("version", [1, 2, 3, 5])
def test_other_format_versions_are_refused(tmp_path: Path, redactor: Redactor, version: int) -> None:
    write(tmp_path / "terraform.tfstate", state(res("aws_vpc", "main", inst({"id": "vpc-1"})), version=version))
    err = load_error(tmp_path, "terraform.tfstate", redactor)
    assert f"unsupported state format version {version}" in err.message
    assert "version 4" in err.message and "0.12" in err.message


@pytest.mark.parametrize("version", ["4", None, True, 4.5])
def test_a_version_that_is_not_an_integer_is_refused(tmp_path: Path, redactor: Redactor, version: Any) -> None:
    write(tmp_path / "terraform.tfstate", state(version=version))
    assert "unsupported state format version" in load_error(tmp_path, "terraform.tfstate", redactor).message


def test_a_state_without_version_says_what_it_looks_like(tmp_path: Path, redactor: Redactor) -> None:
    write(tmp_path / "plan.tfstate", {"format_version": "1.2", "planned_values": {}})
    err = load_error(tmp_path, "plan.tfstate", redactor)
    assert "terraform-plan" in err.message


@pytest.mark.parametrize("tf", ["invalid", "", None, 12, "1.2"])
def test_an_unparseable_terraform_version_is_refused(tmp_path: Path, redactor: Redactor, tf: Any) -> None:
    write(tmp_path / "terraform.tfstate", state(tf=tf))
    assert "terraform_version" in load_error(tmp_path, "terraform.tfstate", redactor).message


@pytest.mark.parametrize("tf", ["0.10.26", "0.11.14"])
def test_a_v4_state_from_before_0_12_is_refused(tmp_path: Path, redactor: Redactor, tf: str) -> None:
    write(tmp_path / "terraform.tfstate", state(tf=tf))
    err = load_error(tmp_path, "terraform.tfstate", redactor)
    assert tf in err.message and "0.12" in err.message


@pytest.mark.parametrize("tf", ["0.12.0", "0.12.0-alpha4", "1.10.0-rc1", "v1.5.7"])
def test_supported_terraform_versions_load(tmp_path: Path, redactor: Redactor, tf: str) -> None:
    write(tmp_path / "terraform.tfstate", state(res("aws_vpc", "main", inst({"id": "vpc-1"})), tf=tf))
    assert len(collect(tmp_path, "terraform.tfstate", redactor).resources) == 1


def test_missing_file_and_empty_glob_are_errors(tmp_path: Path, redactor: Redactor) -> None:
    assert "no such file" in load_error(tmp_path, "nope.tfstate", redactor).message
    assert "matches no file" in load_error(tmp_path, "*/terraform.tfstate", redactor).message
    (tmp_path / "empty").mkdir()
    assert ".tfstate" in load_error(tmp_path, "empty", redactor).message


def test_binary_and_oversized_files_are_refused(
    tmp_path: Path, redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "bin.tfstate", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    assert "binary" in load_error(tmp_path, "bin.tfstate", redactor).message
    write(tmp_path / "big.tfstate", state(res("aws_vpc", "main", inst({"id": "vpc-1"}))))
    monkeypatch.setenv("PARITY_MAX_INPUT_BYTES", "64")
    err = load_error(tmp_path, "big.tfstate", redactor)
    assert err.file == "big.tfstate" and "PARITY_MAX_INPUT_BYTES" in err.message


@pytest.mark.parametrize(
    ("resources", "where"),
    [
        ([42], "resources[0]"),
        ([{"mode": "managed", "name": "x", "instances": []}], "resources[0]"),
        (
            [res("aws_vpc", "main", inst({"id": "v"})), {"mode": "managed", "type": "aws_vpc", "name": 7}],
            "resources[1]",
        ),
        ([{**res("aws_vpc", "main"), "instances": {"id": "v"}}], "aws_vpc.main"),
        ([{**res("aws_vpc", "main"), "module": ["module.a"]}], "resources[0]"),
        ([{**res("aws_vpc", "main"), "mode": "weird"}], "aws_vpc.main"),
        ([res("aws_vpc", "main", "an instance")], "aws_vpc.main"),  # type: ignore[arg-type]
        ([res("aws_vpc", "main", inst(None, 0, attributes=["id"]))], "aws_vpc.main[0]"),
        ([res("aws_vpc", "main", inst({"id": "v"}, [1]))], "aws_vpc.main"),
        ([res("aws_vpc", "main", inst({"id": "v"}, True))], "aws_vpc.main"),
        ([res("aws_vpc", "main", inst({"id": "v"}, sensitive_attributes={"id": True}))], "aws_vpc.main"),
        ([res("aws_vpc", "main", inst({"id": "a"}, 0), inst({"id": "b"}, 0))], "aws_vpc.main[0]"),
        ([res("aws_vpc", "main", inst({"id": "a"})), res("aws_vpc", "main", inst({"id": "b"}))], "aws_vpc.main"),
    ],
)
def test_resources_of_the_wrong_shape_name_the_file_and_address(
    tmp_path: Path, redactor: Redactor, resources: list[Any], where: str
) -> None:
    write(tmp_path / "terraform.tfstate", state(*resources))
    err = load_error(tmp_path, "terraform.tfstate", redactor)
    assert err.file == "terraform.tfstate"
    assert err.message.startswith(f"resource {where}:"), err.message


@pytest.mark.parametrize("top", [[], "state", None, {"version": 4, "terraform_version": "1.0.0", "resources": {}}])
def test_a_top_level_of_the_wrong_shape_is_an_input_error(tmp_path: Path, redactor: Redactor, top: Any) -> None:
    write(tmp_path / "terraform.tfstate", top)
    assert load_error(tmp_path, "terraform.tfstate", redactor).file == "terraform.tfstate"


def test_a_hugely_nested_secret_is_an_input_error(tmp_path: Path, redactor: Redactor) -> None:
    deep: Any = "x"
    for _ in range(400):
        deep = [deep]
    write(tmp_path / "terraform.tfstate", state(res("aws_vpc", "main", inst({"id": "v", "secret": deep}))))
    assert "nested too deeply" in load_error(tmp_path, "terraform.tfstate", redactor).message


# Properties ---------------------------------------------------------------------------------------------

_SCRATCH = Path(tempfile.mkdtemp(prefix="parity-tfstate-"))
_KEY = Redactor(b"parity-tests-fixed-key-0123456789")

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_leaf,
    # nested keys never look secret, so generated attributes read back unredacted (redaction has its own tests)
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(st.text(max_size=6).filter(lambda k: not looks_secret(k)), kids, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["mode", "type", "name", "module", "instances", "index_key", "attributes", "attributes_flat",
     "sensitive_attributes", "deposed", "provider", "id", "tags"]
)  # fmt: skip
shaped = st.recursive(
    json_leaf | st.sampled_from(["managed", "data", "aws_vpc", "main", "module.a"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(field_names, kids, max_size=6),
    max_leaves=30,
)
fuzz_inputs = st.one_of(
    json_value.map(lambda v: orjson.dumps(v)),
    st.builds(lambda r: orjson.dumps(state(tf="1.0.0") | {"resources": r}), json_value),
    st.builds(lambda r: orjson.dumps(state(tf="1.0.0") | {"resources": r}), st.lists(shaped, max_size=4)),
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
)


def _load(data: bytes) -> Snapshot:
    f = _SCRATCH / "fuzz.tfstate"
    f.write_bytes(data)
    return collect(_SCRATCH, "fuzz.tfstate", _KEY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_inputs)
def test_any_input_loads_or_is_an_input_error(data: bytes) -> None:
    try:
        snap = _load(data)
    except InputError as e:
        assert e.file == "fuzz.tfstate"
        return
    assert all(isinstance(r, Resource) for r in snap.resources)


ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
index_key = st.none() | st.integers(0, 50) | st.from_regex(r"[A-Za-z0-9 ._-]{0,6}", fullmatch=True)
module_path = st.lists(st.tuples(ident, index_key), max_size=3)
plain_attrs = st.dictionaries(ident.filter(lambda k: not looks_secret(k)), json_value, max_size=5)


def _key_suffix(key: Any) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else "[" + json.dumps(key, ensure_ascii=False) + "]"


@st.composite
def generated_states(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A valid state and, for each managed instance, its expected address and attributes."""
    resources: list[dict[str, Any]] = []
    expected: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str, str]] = set()
    for _ in range(draw(st.integers(0, 6))):
        module = ".".join(f"module.{n}{_key_suffix(k)}" for n, k in draw(module_path))
        type_, name = "t_" + draw(ident), draw(ident)
        if (module, type_, name) in seen:
            continue
        seen.add((module, type_, name))
        mode = draw(st.sampled_from(["managed", "managed", "data"]))
        keys = draw(
            st.one_of(st.just([None]), st.lists(index_key.filter(lambda k: k is not None), unique=True, max_size=4))
        )
        instances = []
        for k in keys:
            attrs = draw(plain_attrs)
            instances.append(inst(attrs, k))
            if mode == "managed":
                base = f"{module}.{type_}.{name}" if module else f"{type_}.{name}"
                expected[base + _key_suffix(k)] = json.loads(json.dumps(attrs))
        resources.append(res(type_, name, *instances, module=module or None, mode=mode))
    return state(*resources, tf=draw(st.sampled_from(["0.12.31", "0.15.5", "1.5.7"]))), expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_states())
def test_generated_states_round_trip(generated: tuple[dict[str, Any], dict[str, dict[str, Any]]]) -> None:
    data, expected = generated
    snap = _load(orjson.dumps(data))
    addresses = [r.address for r in snap.resources]
    assert sorted(a or "" for a in addresses) == sorted(expected)  # each managed instance exactly once
    for r in snap.resources:
        assert r.address is not None and r.key == r.address
        assert dict(r.attributes) == expected[r.address]


def test_type_aliases_take_the_canonical_name(tmp_path: Path) -> None:
    """aws_alb is another name of aws_lb: the resource says aws_lb, the address keeps what the code said."""
    body = state(res("aws_alb", "web", inst({"id": "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/w/1"})))
    (tmp_path / "a.tfstate").write_text(json.dumps(body))
    (r,) = collect(tmp_path, "a.tfstate", _KEY).resources
    assert r.type == "aws_lb" and r.address == "aws_alb.web"


def test_integers_past_64_bits_keep_every_digit(tmp_path: Path, redactor: Redactor) -> None:
    big, other = 123456789012345678901234567890, 123456789012345678901234567891  # one float for orjson
    body = json.dumps(state(res("aws_x", "a", inst({"id": "a", "n": big, "small": 7, "f": 1.5}))))
    write(tmp_path / "a.tfstate", body.encode())
    write(tmp_path / "b.tfstate", body.replace(str(big), str(other)).encode())
    a = by_address(collect(tmp_path, "a.tfstate", redactor))["aws_x.a"].attributes
    b = by_address(collect(tmp_path, "b.tfstate", redactor))["aws_x.a"].attributes
    assert (a["n"], a["small"], a["f"]) == (str(big), 7, 1.5)
    assert b["n"] == str(other)


def test_a_state_with_long_digits_and_a_nan_is_still_an_input_error(tmp_path: Path, redactor: Redactor) -> None:
    body = '{"version": 4, "terraform_version": "1.5.7", "serial": 12345678901234567890123, "x": NaN}'
    write(tmp_path / "a.tfstate", body.encode())
    with pytest.raises(InputError, match="not valid JSON"):
        collect(tmp_path, "a.tfstate", redactor)
