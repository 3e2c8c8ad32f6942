"""Which names count as secret, and what a redaction marker reveals."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.errors import ParityError
from parity.redact import Redactor, is_redacted, looks_secret, redact_secret_keyed, redact_secret_keys_in_place


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "DB_PASSWORD",
        "apiKey",
        "api-key",
        "client_secret",
        "clientSecret",
        "GITHUB_TOKEN",
        "private_key_pem",
        "privateKey",
        "aws_secret_access_key",
        "AWS_SESSION_TOKEN",
        "connectionString",
        "master_password",
        "webhook_url",
        "sas_token",
        "secret",
        "STRIPE_API_KEY",
    ],
)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "password_policy",
        "secret_arn",
        "token_expiry",
        "kms_key_id",
        "passwordless_login",
        "LOG_LEVEL",
        "instance_class",
        "secrets_manager_arn",
        "name",
        "tokenizer",
        "keyboard",
        "image_tag",
        "public_key",
    ],
)
def test_names_about_secrets_are_not_secret(name: str) -> None:
    assert not looks_secret(name)


def test_marker_is_keyed_and_stable(tmp_path: Path) -> None:
    a = Redactor(b"k" * 32)
    b = Redactor(b"j" * 32)
    assert a.redact("hunter2") == a.redact("hunter2")
    assert a.redact("hunter2") != a.redact("hunter3")
    assert a.redact("hunter2") != b.redact("hunter2")  # another installation's key gives another marker
    assert is_redacted(a.redact("hunter2")) and "hunter2" not in a.redact("hunter2")
    assert a.redact(a.redact("x")) == a.redact("x")  # redacting twice changes nothing


def test_key_file_created_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_HASH_KEY", raising=False)
    r1 = Redactor.for_state_dir(tmp_path / ".parity")
    key = tmp_path / ".parity" / "hash.key"
    assert key.stat().st_mode & 0o077 == 0
    assert Redactor.for_state_dir(tmp_path / ".parity").redact("v") == r1.redact("v")
    monkeypatch.setenv("PARITY_HASH_KEY", "an-explicit-key-of-enough-length")
    assert Redactor.for_state_dir(tmp_path / ".parity").redact("v") != r1.redact("v")


@given(st.text(min_size=1, max_size=40))
def test_marker_never_contains_the_value(value: str) -> None:
    marker = Redactor(b"k" * 32).redact(value)
    assert is_redacted(marker)
    if len(value) >= 8:  # a shorter value could turn up in 12 hex digits by chance
        assert value not in marker


def test_redact_paths_by_position_and_inside_json_strings() -> None:
    import json

    from parity.redact import redact_paths

    r = Redactor(b"k" * 32)
    attrs = {
        "environment": [{"variables": {"A": "1", "B": "two"}}],
        "container_definitions": json.dumps([{"name": "web", "environment": [{"name": "X", "value": "s3cr3t"}]}]),
        "runtime": "python3.12",
    }
    out = redact_paths(attrs, ("environment[].variables.*", "container_definitions[].environment[].value"), r)
    assert out["environment"] == [{"variables": {"A": r.redact("1"), "B": r.redact("two")}}]
    assert json.loads(out["container_definitions"])[0]["environment"] == [{"name": "X", "value": r.redact("s3cr3t")}]
    assert out["runtime"] == "python3.12" and "s3cr3t" not in str(out)
    assert redact_paths(out, ("environment[].variables.*",), r) == out  # idempotent


@pytest.mark.parametrize(
    ("content", "words"),
    [("zz", "not a hash key"), ("", "shorter than 16 bytes"), ("abcd", "shorter than 16 bytes")],
)
def test_an_unusable_key_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, words: str
) -> None:
    monkeypatch.delenv("PARITY_HASH_KEY", raising=False)
    (tmp_path / "hash.key").write_text(content)
    with pytest.raises(ParityError, match=words) as ei:
        Redactor.for_state_dir(tmp_path)
    assert "hash.key" in str(ei.value)


def test_a_key_file_that_is_a_folder_or_a_short_env_key_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_HASH_KEY", raising=False)
    (tmp_path / "hash.key").mkdir()
    with pytest.raises(ParityError, match="cannot use the hash key file"):
        Redactor.for_state_dir(tmp_path)
    monkeypatch.setenv("PARITY_HASH_KEY", "short")
    with pytest.raises(ParityError, match="PARITY_HASH_KEY"):
        Redactor.for_state_dir(tmp_path)


def test_values_under_secret_keys_on_an_example() -> None:
    r = Redactor(b"k" * 32)
    marker = r.redact("earlier")
    attrs: dict[str, Any] = {
        "name": "db",
        "DB_PASSWORD": "hunter2",
        "password_policy": "strict",  # about a secret, not one
        "token": None,  # null stays null: "unset" stays visible
        "tags": OrderedDict({"apiKey": {"nested": [1]}, "Name": "x"}),  # a whole object becomes one marker
        "rules": [{"client-secret": 5}, "s", [{"sas_token": marker}]],  # an existing marker stays as it is
        7: "not a name",
    }
    expected = {
        "name": "db",
        "DB_PASSWORD": r.redact("hunter2"),
        "password_policy": "strict",
        "token": None,
        "tags": {"apiKey": r.redact({"nested": [1]}), "Name": "x"},
        "rules": [{"client-secret": r.redact(5)}, "s", [{"sas_token": marker}]],
        7: "not a name",
    }
    out = redact_secret_keyed(attrs, r)
    assert out == expected and type(out["tags"]) is dict
    assert attrs["DB_PASSWORD"] == "hunter2" and attrs["tags"]["apiKey"] == {"nested": [1]}  # the input is kept
    plain = {**attrs, "tags": dict(attrs["tags"])}  # the in-place walk descends plain dicts (what parsers make)
    assert redact_secret_keys_in_place(plain, r) and plain == expected
    unchanged = {"tags": {"Name": "x"}, "rules": [{"sas_token": marker, "token": None}]}
    assert redact_secret_keyed(unchanged, r) is unchanged
    assert not redact_secret_keys_in_place(unchanged, r)


def test_redaction_walks_nesting_deeper_than_the_recursion_limit() -> None:
    deep: Any = {"password": "x"}
    for _ in range(5000):
        deep = [deep]
    assert redact_secret_keys_in_place(deep, Redactor(b"k" * 32))
