"""parity.yaml: validation with file:line errors, interpolation, derived views, JSON Schema."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.config import ParityConfig, json_schema, load_config, parse_config
from parity.errors import ConfigError

GOOD = """\
store: sqlite:///.parity/parity.db
environments:
  staging:
    sources:
      - kind: terraform-state
        path: tf/staging.tfstate
  production:
    accounts: ["742113698250"]
    sources:
      - kind: config
        path: [cfg/prod]
promotion: [staging, production]
expected:
  - {type: aws_db_instance, path: instance_class, reason: sized for load}
ignore:
  - {kind: only_in, key: "aws_sqs_queue.*", owner: ana, reason: backfill, expires: 2027-01-31}
"""


def test_good_config_loads_and_derives_pairs_and_tokens() -> None:
    c = parse_config(GOOD, "parity.yaml")
    assert list(c.environments) == ["staging", "production"]
    assert c.mirror_pairs() == [("staging", "production")]
    assert "prod" in c.tokens_for("production") and "prd" in c.tokens_for("production")
    assert "stg" in c.tokens_for("staging")
    assert c.ignore[0].expires == dt.date(2027, 1, 31)
    assert c.expected[0].matches("aws_db_instance", "aws_db_instance.main", "instance_class", ("a", "b"))
    assert not c.expected[0].matches("aws_db_instance", "aws_db_instance.main", "engine_version", ("a", "b"))


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, "conf/parity.yaml")
    return ei.value


def test_typo_in_key_names_file_line_and_suggestion() -> None:
    e = _error(GOOD.replace("        path: tf/staging.tfstate", "        paht: tf/staging.tfstate"))
    assert e.file == "conf/parity.yaml"
    assert e.line == 6
    assert "unknown key 'paht'" in str(e) and "did you mean 'path'" in str(e)


def test_unknown_source_kind_is_named_with_its_line() -> None:
    e = _error(GOOD.replace("kind: config", "kind: cfg"))
    assert e.line == 10
    assert "unknown source kind 'cfg'" in e.message


def test_unknown_environment_in_promotion_points_at_promotion() -> None:
    e = _error(GOOD.replace("promotion: [staging, production]", "promotion: [staging, prod]"))
    assert e.line == 12
    assert "unknown environment 'prod'" in e.message


def test_missing_required_key() -> None:
    line = "  - {type: aws_db_instance, path: instance_class, reason: sized for load}"
    e = _error(GOOD.replace(line, "  - {type: x}"))
    assert "missing required key 'reason'" in e.message
    assert e.line == 14


def test_bad_date_and_bad_account() -> None:
    assert "expires" in _error(GOOD.replace("2027-01-31", "someday")).message
    e = _error(GOOD.replace('"742113698250"', '"74211369"'))
    assert "12 digits" in e.message and e.line == 8


def test_invalid_yaml_names_the_line() -> None:
    e = _error("environments:\n  staging:\n    sources: [\n  oops: 1\n")
    assert e.line is not None and e.line >= 3
    assert "invalid YAML" in e.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just a string\n"])
def test_empty_or_wrong_top_level(text: str) -> None:
    _error(text)


def test_interpolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARITY_TEST_DB", "postgresql+psycopg://u@h/db")
    c = parse_config(GOOD.replace("sqlite:///.parity/parity.db", "${PARITY_TEST_DB}"), "p.yaml")
    assert c.store == "postgresql+psycopg://u@h/db"
    c = parse_config(GOOD.replace("tf/staging.tfstate", "${PARITY_NOPE:-tf/default.tfstate}"), "p.yaml")
    assert c.environments["staging"].sources[0].path == "tf/default.tfstate"  # type: ignore[union-attr]
    monkeypatch.delenv("PARITY_NOPE", raising=False)
    e = _error(GOOD.replace("tf/staging.tfstate", "${PARITY_NOPE}"))
    assert "PARITY_NOPE is not set" in e.message and e.line == 6


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("${PARITY_NOPE:-sqlite:///${PARITY_TEST_DIR}/p.db}", "sqlite:////data/p.db"),  # a default holds ${...}
        ("${PARITY_NOPE:-${PARITY_NOPE2:-sqlite:///x.db}}", "sqlite:///x.db"),
        ("sqlite:///$${PARITY_TEST_DIR}.db", "sqlite:///${PARITY_TEST_DIR}.db"),  # $$ is a literal $
        ("sqlite:///a$b.db", "sqlite:///a$b.db"),  # a $ before anything else stays
    ],
)
def test_interpolation_nests_defaults_and_escapes(monkeypatch: pytest.MonkeyPatch, written: str, expected: str) -> None:
    monkeypatch.setenv("PARITY_TEST_DIR", "/data")
    monkeypatch.delenv("PARITY_NOPE", raising=False)
    monkeypatch.delenv("PARITY_NOPE2", raising=False)
    c = parse_config(GOOD.replace("sqlite:///.parity/parity.db", f'"{written}"'), "p.yaml")
    assert c.store == expected


@pytest.mark.parametrize(
    ("written", "words"), [("${", "variable name"), ("${X", "not closed"), ("${X:-a", "not closed")]
)
def test_malformed_interpolation_is_an_error(written: str, words: str) -> None:
    e = _error(GOOD.replace("sqlite:///.parity/parity.db", f'"{written}"'))
    assert words in e.message and e.line == 1


def test_mirrors_default_and_explicit() -> None:
    three = GOOD.replace("promotion: [staging, production]", "promotion: [staging, production]").replace(
        "environments:\n", "environments:\n  dev:\n    sources: []\n"
    )
    c = parse_config(three.replace("promotion: [staging, production]", "promotion: [dev, staging, production]"), "p")
    assert c.mirror_pairs() == [("dev", "staging"), ("staging", "production")]
    c = parse_config(three + "mirrors: [[dev, production]]\n", "p")
    assert c.mirror_pairs() == [("dev", "production")]
    assert "mirror itself" in _error(three + "mirrors: [[dev, dev]]\n").message


def test_load_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01\x02environments")
    with pytest.raises(ConfigError, match="binary"):
        load_config(binary)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("store: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(latin)
    good = tmp_path / "parity.yaml"
    good.write_text(GOOD)
    loaded = load_config(good)
    assert loaded.store_url() == f"sqlite:///{tmp_path.resolve() / '.parity/parity.db'}"
    assert loaded.source_name("staging", 0) == "terraform-state[0]"


def test_json_schema_describes_sources() -> None:
    schema = json_schema()
    text = str(schema)
    for kind in ("terraform-state", "terraform-plan", "kubernetes-manifests", "config"):
        assert kind in text
    assert schema["title"] == "parity.yaml"
    assert set(ParityConfig.model_fields) <= set(schema["properties"])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_parse_config_only_raises_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_config(text, "fuzz.yaml")


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
        max_leaves=12,
    )
)
def test_fuzz_structures_only_raise_config_error(value: object) -> None:
    import yaml

    with contextlib.suppress(ConfigError):
        parse_config(yaml.safe_dump({"environments": value}), "fuzz.yaml")
