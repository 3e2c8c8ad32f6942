"""The config source: each format's parsed shape, pairing keys, excludes, redaction and errors."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from parity.config import ConfigFilesSource
from parity.errors import InputError
from parity.model import Resource, Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext, source_kinds
from parity.sources.config.collector import collect, env_key, excluded
from parity.sources.config.formats import format_of
from parity.sources.config.redaction import redact_text, redact_tree

DATA = Path(__file__).parent / "data" / "config"
TOKENS = {
    "staging": ("stg", "stage", "staging", "preprod", "pre-prod"),
    "production": ("prd", "prod", "production", "live"),
}


def _ctx(base: Path, redactor: Redactor, env: str = "staging") -> CollectContext:
    return CollectContext(
        environment=env, source_name="cfg", base_dir=base, redactor=redactor, role="declared", tokens=TOKENS
    )


def _snap(base: Path, redactor: Redactor, path: str | list[str], env: str = "staging", **kw: object) -> Snapshot:
    spec = ConfigFilesSource.model_validate({"kind": "config", "path": path, **kw})
    (snap,) = collect(spec, _ctx(base, redactor, env))
    return snap


def _one(base: Path, redactor: Redactor, path: str) -> Resource:
    (r,) = _snap(base, redactor, path).resources
    return r


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


def test_registered() -> None:
    assert source_kinds()["config"].collect is collect


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.yaml", "yaml"),
        ("a.YML", "yaml"),
        ("a.json", "json"),
        ("prod.tfvars.json", "json"),
        (".env", "env"),
        ("staging.env", "env"),
        (".env.production", "env"),
        ("a.tfvars", "tfvars"),
        ("main.tf", "hcl"),
        ("a.ini", "ini"),
        ("setup.cfg", "ini"),
        ("a.properties", "properties"),
        ("README.md", None),
        ("environment.py", None),
    ],
)
def test_format_by_name(name: str, fmt: str | None) -> None:
    assert format_of(name) == fmt


def test_folder_of_every_format(redactor: Redactor) -> None:
    snap = _snap(DATA, redactor, "formats")
    assert snap.kind == "config" and snap.role == "declared"
    got = {r.id: r.type for r in snap.resources}
    assert got == {
        ".env.staging": "config/env",
        "app.ini": "config/ini",
        "app.properties": "config/properties",
        "app.tfvars": "config/tfvars",
        "main.tf": "config/hcl",
        "settings.json": "config/json",
        "settings.yaml": "config/yaml",
        "vars.tfvars.json": "config/json",
    }
    assert "formats/README.md" not in snap.coverage.listed
    assert len(snap.coverage.listed) == 8
    for r in snap.resources:
        assert r.owner == "config"
        assert r.name == r.id
        assert r.origin == f"config:formats/{r.id}"
        assert r.location is not None and r.location.file == f"formats/{r.id}"
    # no raw secret value anywhere in the snapshot
    text = repr(snap)
    for n in ("1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999", "1010"):
        assert f"-{n}" not in text, n


def test_yaml(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/settings.yaml")
    assert r.attributes == {
        "service": {
            "name": "checkout",
            "replicas": 3,
            "released": "2024-05-01",  # a timestamp stays the string it was written as
            "feature_flags": ["new-cart", "fast-pay"],
            "db_password": redactor.redact("yaml-Pw-1111"),
            "nginx.conf": f"server {{\n  listen 80;\n  auth_token = {redactor.redact('yaml-Embedded-2222')}\n}}\n",
        },
        "database": {"host": "db.staging.internal", "port": 5432, "ssl": True, "timeout": None},
    }


def test_yaml_multi_document_and_non_mapping_shapes(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "multi.yaml", "a: 1\n---\n---\nb: 2\n")
    _write(tmp_path, "list.yaml", "- x\n- y\n")
    _write(tmp_path, "empty.yaml", "# nothing\n")
    _write(tmp_path, "tags.yaml", "Resources:\n  B:\n    Properties: {Name: !Ref Env, Arn: !GetAtt [B, Arn]}\n")
    rs = {r.id: r.attributes for r in _snap(tmp_path, redactor, ".").resources}
    assert rs["multi.yaml"] == {"documents": [{"a": 1}, {"b": 2}]}
    assert rs["list.yaml"] == {"value": ["x", "y"]}
    assert rs["empty.yaml"] == {}
    assert rs["tags.yaml"] == {
        "Resources": {"B": {"Properties": {"Name": {"!Ref": "Env"}, "Arn": {"!GetAtt": ["B", "Arn"]}}}}
    }


def test_json(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/settings.json")
    assert r.attributes == {
        "service": {"name": "checkout", "replicas": 3, "ratio": 0.5},
        "apiKey": redactor.redact("json-Key-3333"),
        "endpoints": ["https://a.example.com", "https://b.example.com"],
        "containerDefinitions": [
            {
                "environment": [
                    {"name": "SECRET_KEY", "value": redactor.redact("json-Env-4444")},
                    {"name": "MODE", "value": "fast"},
                ]
            }
        ],
    }
    assert _one(DATA, redactor, "formats/vars.tfvars.json").attributes == {"region": "eu-west-1", "instance_count": 2}


def test_dotenv(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/.env.staging")
    assert r.type == "config/env"
    assert r.attributes == {
        "APP_NAME": "checkout",
        "LOG_LEVEL": "debug",
        "EMPTY": "",
        "QUOTED": "hello world",
        "SINGLE": "keep $literal and \\n",
        "ESCAPED": 'line1\nline2 "q"',
        "URL": "https://example.com/#anchor",
        "UNQUOTED": "plain value",
        "MULTI": "first\nsecond",
        "DB_PASSWORD": redactor.redact("env-Pw-5555"),
    }


def test_tfvars(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/app.tfvars")
    assert r.attributes == {
        "region": "eu-west-1",
        "instance_count": 3,
        "enable_cdn": True,
        "tags": {"team": "payments", "env": "staging"},
        "azs": ["eu-west-1a", "eu-west-1b"],
        "db_password": redactor.redact("tfvars-Pw-6666"),
    }


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("v.yaml", "big: 123456789012345678901234567890\nmax: 18446744073709551615\nlow: -9223372036854775809\n"),
        ("v.json", '{"big": 123456789012345678901234567890, "max": 18446744073709551615, "low": -9223372036854775809}'),
        ("v.tfvars", "big = 123456789012345678901234567890\nmax = 18446744073709551615\nlow = -9223372036854775809\n"),
    ],
)
def test_integers_past_64_bits_are_kept_as_text(tmp_path: Path, redactor: Redactor, name: str, text: str) -> None:
    # The store and the comparison serialise with orjson, which writes 64-bit integers only.
    _write(tmp_path, name, text)
    r = _one(tmp_path, redactor, name)
    assert r.attributes == {
        "big": "123456789012345678901234567890",
        "max": 18446744073709551615,
        "low": "-9223372036854775809",
    }


def test_hcl_escapes_that_are_no_character_are_kept_as_written(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "x.tfvars", 'a = "\\ud800 \\U00110000 \\u00e9 \\U0001F600"\n')
    assert _one(tmp_path, redactor, "x.tfvars").attributes == {"a": "\\ud800 \\U00110000 \u00e9 \U0001f600"}


def test_hcl_blocks_become_nested_dicts(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/main.tf")
    assert r.attributes == {
        "terraform": {"required_version": ">= 1.5", "backend": {"s3": {"bucket": "tf-state-staging"}}},
        "locals": {"name": "checkout-${var.env}"},
        "resource": {
            "aws_instance": {
                "web": {
                    "ami": "ami-0abc",
                    "instance_type": "var.size",
                    "count": 2,
                    "ebs_block_device": [
                        {"device_name": "/dev/sdb", "volume_size": 50},
                        {"device_name": "/dev/sdc", "volume_size": 100},
                    ],
                    "lifecycle": [{"ignore_changes": ["tags"]}],
                    "user_data": f"#!/bin/sh\nexport API_TOKEN={redactor.redact('hcl-Heredoc-7777')}\necho started",
                }
            },
            "aws_db_instance": {"main": {"engine": "postgres", "password": redactor.redact("hcl-Pw-8888")}},
        },
    }


def test_hcl_merges_repeated_blocks_and_unquotes(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "x.tf",
        r"""
        locals { a = 1 }
        locals { b = "q\"x\\y" }
        resource "null_resource" "n" {
          provisioner "local-exec" { command = "one" }
          provisioner "local-exec" { command = "two" }
          triggers = { "key-with-dash" = lower("X"), n = 1e3 }
        }
        """,
    )
    assert _one(tmp_path, redactor, "x.tf").attributes == {
        "locals": {"a": 1, "b": 'q"x\\y'},
        "resource": {
            "null_resource": {
                "n": {
                    "provisioner": {"local-exec": [{"command": "one"}, {"command": "two"}]},
                    "triggers": {"key-with-dash": 'lower("X")', "n": 1000.0},
                }
            }
        },
    }


def test_ini(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/app.ini")
    assert r.attributes == {
        "DEFAULT": {"region": "eu-west-1"},
        "server": {"Host": "0.0.0.0", "port": "8080", "skip-name-resolve": None},
        "database": {"user": "app", "password": redactor.redact("ini-Pw-9999")},
    }


def test_properties(redactor: Redactor) -> None:
    r = _one(DATA, redactor, "formats/app.properties")
    assert r.attributes == {
        "server.port": "8080",
        "server.name": "checkout",
        "spring.datasource.url": "jdbc:postgresql://db:5432/app",
        "spring.datasource.password": redactor.redact("props-Pw-1010"),
        "greeting": "Hello World",
        "unicode": "café",
        "flag": "",
    }


@pytest.mark.parametrize(
    ("rel", "env", "key"),
    [
        ("docker-compose.staging.yml", "staging", "docker-compose.{env}.yml"),
        ("docker-compose.prod.yml", "production", "docker-compose.{env}.yml"),
        ("values-production.yaml", "production", "values-{env}.yaml"),
        ("values-staging.yaml", "staging", "values-{env}.yaml"),
        ("values-STG.yaml", "staging", "values-{env}.yaml"),
        (".env.staging", "staging", ".env.{env}"),
        ("staging/app_settings.json", "staging", "{env}/app_settings.json"),
        ("envs/pre-prod/app.tfvars", "staging", "envs/{env}/app.tfvars"),
        ("production-notes.yaml", "staging", "production-notes.yaml"),  # another environment's token stays
        ("prodigy.yaml", "production", "prodigy.yaml"),  # whole parts only
        ("liver/app.yaml", "production", "liver/app.yaml"),
    ],
)
def test_pairing_key_replaces_this_environments_tokens(rel: str, env: str, key: str) -> None:
    assert env_key(rel, (env, *TOKENS[env])) == key


def test_staging_and_production_files_share_a_key(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "stg/docker-compose.staging.yml", "services: {}\n")
    _write(tmp_path, "prd/docker-compose.prod.yml", "services: {}\n")
    (s,) = _snap(tmp_path / "stg", redactor, ".", env="staging").resources
    (p,) = _snap(tmp_path / "prd", redactor, ".", env="production").resources
    assert s.key == p.key == "docker-compose.{env}.yml"
    assert (s.id, p.id) == ("docker-compose.staging.yml", "docker-compose.prod.yml")


def test_exclude_globs(tmp_path: Path, redactor: Redactor) -> None:
    for name in ("app.yaml", "vendor/lib.yaml", "ci/a/b.json", "nested/secrets.env", "keep/x.ini"):
        _write(tmp_path, f"cfg/{name}", "a: 1\n" if name.endswith(".yaml") else "")
    (tmp_path / "cfg/ci/a/b.json").write_text("{}")
    (tmp_path / "cfg/keep/x.ini").write_text("[s]\na=1\n")
    snap = _snap(tmp_path, redactor, "cfg", exclude=["vendor/*", "**/b.json", "*.env"])
    assert sorted(r.id for r in snap.resources) == ["app.yaml", "keep/x.ini"]


@pytest.mark.parametrize(
    ("rel", "patterns", "result"),
    [
        ("a/b.yaml", ["a/*"], True),
        ("a/b/c.yaml", ["a/*"], True),
        ("a/b.yaml", ["b.yaml"], True),
        ("a/b.yaml", ["a/"], True),
        ("b.yaml", ["**/b.yaml"], True),
        ("a/b.yaml", ["c/*", "*.json"], False),
    ],
)
def test_excluded(rel: str, patterns: list[str], result: bool) -> None:
    assert excluded(rel, patterns) is result


def test_compose_environment_list_items_redacted(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "docker-compose.yml",
        """\
        services:
          api:
            environment:
              - DB_PASSWORD=compose-Pw-42
              - LOG_LEVEL=info
        """,
    )
    r = _one(tmp_path, redactor, "docker-compose.yml")
    assert r.attributes["services"]["api"]["environment"] == [
        f"DB_PASSWORD={redactor.redact('compose-Pw-42')}",
        "LOG_LEVEL=info",
    ]


def test_nothing_named_is_an_error(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "docs/README.md", "hi\n")
    with pytest.raises(InputError, match="holds no config file"):
        _snap(tmp_path, redactor, "docs")
    with pytest.raises(InputError, match="no such file"):
        _snap(tmp_path, redactor, "missing")
    with pytest.raises(InputError, match="not a config format"):
        _snap(tmp_path, redactor, "docs/README.md")


def test_same_relative_path_from_two_roots_is_a_duplicate(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "a/app.yaml", "x: 1\n")
    _write(tmp_path, "b/app.yaml", "x: 2\n")
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, ["a", "b"])
    assert ei.value.file == "b/app.yaml"
    assert ei.value.message == "same config key 'app.yaml' as a/app.yaml"


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n", 3),
        ("bad.yaml", "a: 1\n\tb: 2\n", 2),
        ("bad.json", '{\n  "a": 1,\n  "b": \n}\n', 4),
        ("bad.json", '{"a": NaN}', None),
        ("bad.json", '{"a": "x\\ud800"}', 1),  # a lone surrogate: valid JSON syntax, no Unicode text
        ("bad.json", '{"\\udc00": 1}', 1),
        (".env", "A=1\n# ok\nthis is not a setting\n", 3),
        (".env", 'A=1\nB="never closed\nC=3\n', 2),
        (".env", 'A="x" trailing\n', 1),
        ("bad.tfvars", 'a = "x"\nb = = 2\n', 2),
        ("bad.tf", 'resource "a" "b" {\n  x = 1\n', 3),
        ("bad.ini", "a = 1\n[s]\n", 1),
        ("bad.ini", "[s]\na = 1\na = 2\n", 3),
        ("bad.ini", "[s]\na = 1\n=nokey\n", 3),
        ("bad.properties", "a=1\nb=\\uZZZZ\n", 2),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, redactor: Redactor, name: str, text: str, line: int | None) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, name)
    assert ei.value.file == name
    assert ei.value.line == line
    assert "Traceback" not in str(ei.value)


def test_binary_file_is_an_input_error(tmp_path: Path, redactor: Redactor) -> None:
    (tmp_path / "blob.json").write_bytes(b'{"a": "\x00\x01"}')
    with pytest.raises(InputError, match="binary"):
        _snap(tmp_path, redactor, "blob.json")


def test_recursive_yaml_alias_is_an_input_error(tmp_path: Path, redactor: Redactor) -> None:
    (tmp_path / "loop.yaml").write_text("a: &x [*x]\n")
    with pytest.raises(InputError, match="refers to itself"):
        _snap(tmp_path, redactor, "loop.yaml")


def test_yaml_alias_bomb_is_an_input_error(tmp_path: Path, redactor: Redactor) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines))
    with pytest.raises(InputError, match="expands to more than"):
        _snap(tmp_path, redactor, "bomb.yaml")


# --- the redaction helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value", "kept"),
    [
        ("password = s3cr3t-A", "s3cr3t-A", "password = "),
        ("  password: s3cr3t-B  ", "s3cr3t-B", "  password: "),
        ("PASSWORD=s3cr3t-C", "s3cr3t-C", "PASSWORD="),
        ('export API_TOKEN="s3cr3t-D"', "s3cr3t-D", 'export API_TOKEN="'),
        ('  "client_secret": "s3cr3t-E",', "s3cr3t-E", '  "client_secret": "'),
        ("- DB_PASSWORD=s3cr3t-F", "s3cr3t-F", "- DB_PASSWORD="),
        ("spring.datasource.password: s3cr3t-G # note", "s3cr3t-G", "spring.datasource.password: "),
    ],
)
def test_redact_text_replaces_only_the_value(redactor: Redactor, line: str, value: str, kept: str) -> None:
    text = f"first line\n{line}\nlast: line"
    out = redact_text(text, redactor)
    assert value not in out
    (changed,) = [ln for ln in out.split("\n") if ln.startswith(kept)]
    assert "<redacted:" in changed
    assert out.startswith("first line\n") and out.endswith("\nlast: line")


def test_redact_text_leaves_other_lines_alone(redactor: Redactor) -> None:
    text = "user = admin\npasswordless_login = true\nport: 8080\npassword =\npassword = ''\n"
    assert redact_text(text, redactor) == text


def test_redact_text_yaml_block_scalar(redactor: Redactor) -> None:
    text = "db:\n  password: |\n    line-one-secret\n    line-two-secret\n  host: db\n"
    out = redact_text(text, redactor)
    assert "secret" not in out.replace("password", "")
    assert out.endswith("  host: db\n")


def test_redact_tree_rules(redactor: Redactor) -> None:
    tree = {
        "db_password": "p1",
        "ttl_seconds": 30,
        "apiKey": 12345,
        "tokenEnabled": True,
        "password": "",
        "secrets": ["s1", {"name": "X", "value": "s2"}],
        "env": [{"Name": "AUTH_TOKEN", "Value": "s3"}, {"key": "plain", "value": "v"}],
        "other": None,
    }
    assert redact_tree(tree, redactor) == {
        "db_password": redactor.redact("p1"),
        "ttl_seconds": 30,
        "apiKey": redactor.redact(12345),
        "tokenEnabled": True,
        "password": "",
        "secrets": [redactor.redact("s1"), {"name": redactor.redact("X"), "value": redactor.redact("s2")}],
        "env": [{"Name": "AUTH_TOKEN", "Value": redactor.redact("s3")}, {"key": "plain", "value": "v"}],
        "other": None,
    }


def test_everything_below_a_secret_key_is_hashed(redactor: Redactor) -> None:
    tree = {
        "secrets": {"stripe": "sk-1", "nested": {"deeper": ["sk-2", {"x": 3}]}},
        "db_password": {"prod": "pw-1"},
        "api_key": {"value": "ak-1", "enabled": True, "note": None},
        "plain": {"stripe": "visible"},
    }
    out = redact_tree(tree, redactor)
    for secret in ("sk-1", "sk-2", "pw-1", "ak-1"):
        assert secret not in str(out)
    assert out["secrets"]["nested"]["deeper"][1] == {"x": redactor.redact(3)}  # type: ignore[index,call-overload]
    assert out["api_key"] == {"value": redactor.redact("ak-1"), "enabled": True, "note": None}
    assert out["plain"] == {"stripe": "visible"}


def test_sensitive_terraform_variables_and_outputs_are_hashed(tmp_path: Path, redactor: Redactor) -> None:
    (tmp_path / "vars.tf").write_text(
        'variable "db_password" {\n  default = "hunter2"\n}\n'
        'variable "region_name" {\n  default   = "hidden-1"\n  sensitive = true\n}\n'
        'output "endpoint" {\n  value     = "hidden-2"\n  sensitive = true\n}\n'
        'variable "instance" {\n  default = "t3.small"\n}\n'
    )
    text = str(_one(tmp_path, redactor, "vars.tf").attributes)
    for secret in ("hunter2", "hidden-1", "hidden-2"):
        assert secret not in text
    assert "t3.small" in text


def test_json_text_flags_and_url_passwords_are_hashed(redactor: Redactor) -> None:
    tree = {
        "config.json": '{"db_password":"cj-1","port":5432}',
        "encoded": "%7B%22api_key%22%3A%22ue-1%22%7D",  # URL-encoded JSON, which canonicalisation decodes too
        "unchanged.json": '{ "port": 5432 }',
        "args": ["--db-password=ar-1", "--api-key", "ar-2", "--verbose", "kept", "--token", "--next"],
        "DATABASE_URL": "postgres://app:pw-1@db.internal:5432/app",
        "notes": "mirror at https://user:p@ss-2@mirror.example/x and mail me@example.com",
    }
    out = redact_tree(tree, redactor)
    text = str(out)
    for secret in ("cj-1", "ue-1", "ar-1", "ar-2", "pw-1", "p@ss-2"):
        assert secret not in text
    assert out["unchanged.json"] == tree["unchanged.json"]  # nothing to hide: kept as written
    assert '"port":5432' in str(out["config.json"])
    assert out["args"][3:] == ["--verbose", "kept", "--token", "--next"]  # type: ignore[index]
    assert str(out["DATABASE_URL"]).startswith("postgres://app:<redacted:")
    assert str(out["DATABASE_URL"]).endswith("@db.internal:5432/app")
    assert "me@example.com" in text


def test_roundtrip_helpers_read_what_json_and_yaml_dump(tmp_path: Path, redactor: Redactor) -> None:
    data = {"a": {"b": [1, 2.5, "x", None, True]}, "c": "multi\nline"}
    (tmp_path / "d.json").write_text(json.dumps(data))
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(data))
    rs = {r.id: r.attributes for r in _snap(tmp_path, redactor, ".").resources}
    assert rs == {"d.json": data, "d.yaml": data}


# --- properties (Hypothesis) -----------------------------------------------------------------------

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from parity.redact import looks_secret  # noqa: E402
from parity.sources.config.dotenv import parse_dotenv  # noqa: E402
from parity.sources.config.formats import read_ini, read_json, read_yaml  # noqa: E402
from parity.sources.config.hcl import parse_hcl  # noqa: E402
from parity.sources.config.properties import parse_properties  # noqa: E402

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIXED = Redactor(b"parity-tests-fixed-key-0123456789")

# Text that looks a little like config files, so the readers' branches are reached, plus anything.
_config_chars = st.sampled_from(list("abcXYZ_=:#!'\"\\ \t\n-[]{}|>&*.$u0123")) | st.characters()
config_like_text = st.text(_config_chars, max_size=200)


@pytest.mark.parametrize(
    "reader", [parse_dotenv, parse_properties, read_yaml, read_json, read_ini], ids=lambda f: f.__name__
)
@FAST
@given(text=config_like_text)
def test_readers_parse_or_raise_input_error(reader: object, text: str) -> None:
    assert callable(reader)
    try:
        result = reader(text, "fuzz.txt")
    except InputError as e:
        assert e.file == "fuzz.txt"
        return
    assert isinstance(result, dict)
    json.dumps(result)  # JSON-like, whatever came in


@settings(max_examples=40, deadline=None)
@given(text=config_like_text)
def test_hcl_reader_parses_or_raises_input_error(text: str) -> None:
    try:
        json.dumps(parse_hcl(text, "fuzz.tf"))
    except InputError as e:
        assert e.file == "fuzz.tf"


plain_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(lambda k: not looks_secret(k))
values = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


def _dotenv_line(key: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{key}="{escaped}"'


@FAST
@given(data=st.dictionaries(plain_keys, values, max_size=8))
def test_dotenv_round_trip(tmp_path: Path, data: dict[str, str]) -> None:
    (tmp_path / ".env").write_text("\n".join(_dotenv_line(k, v) for k, v in data.items()) + "\n")
    assert _one(tmp_path, FIXED, ".env").attributes == redact_tree(data, FIXED)


def _ints_as_read(v: object) -> object:
    """``v`` with integers past 64 bits as their decimal strings, as the sources keep them."""
    if isinstance(v, dict):
        return {k: _ints_as_read(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_ints_as_read(x) for x in v]
    if type(v) is int and not -(2**63) <= v < 2**64:
        return str(v)
    return v


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_keys, inner, max_size=3),
    max_leaves=10,
)


@FAST
@given(data=st.dictionaries(plain_keys, json_values, max_size=6))
def test_json_and_yaml_round_trip(tmp_path: Path, data: dict[str, object]) -> None:
    (tmp_path / "s.json").write_text(json.dumps(data))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    expected = redact_tree(_ints_as_read(data), FIXED)
    rs = {r.id: r.attributes for r in _snap(tmp_path, FIXED, ".").resources}
    assert rs == {"s.json": expected, "s.yaml": expected}


secret_keys = st.sampled_from(["password", "DB_PASSWORD", "api_key", "apiKey", "client-secret", "AUTH_TOKEN"])


@FAST
@given(key=secret_keys, value=st.text(min_size=1, max_size=30).filter(lambda v: v.strip() != "" and "\x00" not in v))
def test_secret_keys_are_redacted_in_every_format(tmp_path: Path, key: str, value: str) -> None:
    env_key_ = key.replace("-", "_")
    (tmp_path / ".env").write_text(_dotenv_line(env_key_, value) + "\n")
    (tmp_path / "s.json").write_text(json.dumps({"nested": {key: value}}))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"nested": {key: value}}))
    snap = _snap(tmp_path, FIXED, ".")
    by_id = {r.id: r.attributes for r in snap.resources}
    marker = FIXED.redact(value)
    assert by_id[".env"] == {env_key_: marker}
    assert by_id["s.json"] == by_id["s.yaml"] == {"nested": {key: marker}}


line_templates = st.sampled_from(
    ["{k} = {v}", "{k}: {v}", "{k}={v}", '{k}="{v}"', "export {k}={v}", '  "{k}": "{v}",', "- {k}={v}", "{k} ={v}  "]
)
secret_values = st.text(st.characters(codec="utf-8", exclude_characters="\n\x00"), min_size=1)
other_lines = st.lists(st.text(st.characters(exclude_characters="\n"), max_size=30), max_size=4)


@FAST
@given(key=secret_keys, value=secret_values, template=line_templates, before=other_lines, after=other_lines)
def test_redact_text_never_leaves_the_secret(
    key: str, value: str, template: str, before: list[str], after: list[str]
) -> None:
    assume(value.strip(" \t\r\f\v'\",;") != "")  # an empty (quoted) value has nothing to hide
    assume(not value.startswith("<redacted:"))
    assume(not ("{k}:" in template and value.strip().startswith(("|", ">"))))  # a YAML block indicator
    line = template.format(k=key, v=value)
    assume(all(value not in other for other in [*before, *after, template.format(k=key, v="")]))
    out = redact_text("\n".join([*before, line, *after]), FIXED)
    assert value not in re.sub(r"<redacted:[0-9a-f]+>", "", out)
    assert out.count("\n") == len(before) + len(after)
