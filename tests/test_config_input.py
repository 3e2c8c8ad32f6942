"""parity.yaml that is hostile or merely odd: every case is one ConfigError naming the file and line, never a
hang, a traceback or a value the store would refuse later."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.config import MAX_NAME_LENGTH, parse_config
from parity.errors import ConfigError

TWO = "environments:\n  staging: {}\n  production: {}\n"


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, "conf/parity.yaml")
    assert ei.value.file == "conf/parity.yaml"
    return ei.value


# --- YAML the loader must refuse before anything walks it (bug: hang, RecursionError, TypeError) ----------


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    lines += ["environments: {staging: {}}"]
    e = _error("\n".join(lines) + "\n")  # it hung: no timing assert (the suite has none), a hang fails CI
    assert "expands to more than" in e.message and "YAML aliases" in e.message
    assert e.line is not None and 1 <= e.line <= 8


def test_shared_anchors_below_the_limit_still_load() -> None:
    text = (
        "environments:\n  staging:\n    sources: [&src {kind: config, path: cfg}]\n  production:\n    sources: [*src]\n"
    )
    c = parse_config(text, "p.yaml")
    assert c.environments["production"].sources == c.environments["staging"].sources


def test_recursive_alias_is_refused() -> None:
    e = _error("environments: &a {staging: *a}\n")
    assert "refers to itself" in e.message and e.line == 1


@pytest.mark.parametrize("depth", [150, 5000])
def test_deep_nesting_is_refused(depth: int) -> None:
    e = _error("environments: " + "[" * depth + "]" * depth + "\n")
    assert "nested more than" in e.message and e.line == 1


def test_complex_key_is_refused() -> None:
    e = _error("environments:\n  {? [a, b] : {}}\n")
    assert "a key must be a plain value" in e.message and e.line == 2


def test_control_character_names_its_line() -> None:
    e = _error('environments:\n  staging: {}\nstore: "\x01"\n')
    assert "invalid YAML" in e.message and e.line == 3


# --- values PyYAML's constructors reject with ValueError/KeyError (bug: internal error) -----------------


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("2026-02-30", "'2026-02-30' is not a valid date"),
        ("2026-13-45", "'2026-13-45' is not a valid date"),
        ("!!bool maybe", "'maybe' is not a valid boolean"),
        ("!!int abc", "'abc' is not a valid integer"),
        ("!!float abc", "'abc' is not a valid number"),
    ],
)
def test_value_its_tag_cannot_hold_names_path_and_line(value: str, said: str) -> None:
    text = TWO + f"ignore:\n  - kind: differs\n    owner: a\n    reason: b\n    expires: {value}\n"
    e = _error(text)
    assert e.line == 8
    assert e.message == f"ignore[0].expires: {said}"


# --- durations past what timedelta holds (bug: OverflowError) -----------------------------------------------


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ("promotion_rules: {backport_delay: 99999999999w}", "promotion_rules.backport_delay"),
        ("attribution: {lookback: 99999999999999999999d}", "attribution.lookback"),
    ],
)
def test_huge_duration_is_a_validation_error(section: str, where: str) -> None:
    e = _error(TWO + section + "\n")
    assert e.message.startswith(f"{where}: ") and "too long a duration" in e.message
    assert e.line == 4


# --- paths that cannot be expanded (bug: RuntimeError later, during the scan) ------------------------------


@pytest.mark.parametrize("path", ['"~nouser-parity-test/x"', '[cfg, "~nouser-parity-test/x"]'])
def test_home_of_unknown_user_is_a_validation_error(path: str) -> None:
    text = "environments:\n  staging:\n    sources:\n      - kind: config\n        path: " + path + "\n"
    e = _error(text)
    assert e.message.startswith("environments.staging.sources[0].path: ")
    assert "no home folder for user 'nouser-parity-test'" in e.message and e.line == 5


def test_a_key_set_twice_is_refused() -> None:
    # YAML keeps the last: the first staging (and its sources) silently vanished
    text = "environments:\n  staging: {}\n  production: {}\n  staging:\n    sources: []\n"
    e = _error(text)
    assert e.line == 4 and "'staging' is set twice" in e.message and "line 2" in e.message


def test_a_merge_key_may_be_overridden() -> None:
    text = (
        "environments:\n  staging: &s {sources: [{kind: config, path: a}]}\n"
        "  production:\n    <<: *s\n    sources: []\n"
    )
    assert parse_config(text, "p.yaml").environments["production"].sources == []


# --- source names (bug: duplicates caught late, without a line) ----------------------------------------


def _sources(*lines: str) -> str:
    return (
        "environments:\n  staging:\n    sources:\n" + "".join(f"      - {ln}\n" for ln in lines) + "  production: {}\n"
    )


def test_duplicate_source_name_is_refused() -> None:
    e = _error(_sources("{kind: config, path: a, name: a}", "{kind: config, path: b, name: a}"))
    assert str(e) == "conf/parity.yaml:5: environments.staging.sources[1].name: duplicate source name 'a'"


def test_name_taking_a_default_name_is_refused() -> None:
    e = _error(_sources("{kind: config, path: a, name: 'config[1]'}", "{kind: config, path: b}"))
    assert e.line == 5
    assert e.message.startswith("environments.staging.sources[1]: its default name 'config[1]'")


def test_same_names_in_two_environments_are_fine() -> None:
    text = _sources("{kind: config, path: a, name: a}").replace(
        "  production: {}", "  production:\n    sources: [{kind: config, path: b, name: a}]"
    )
    assert parse_config(text, "p.yaml").environments["production"].sources[0].name == "a"


# --- names the PostgreSQL store could not hold (bug: worked on SQLite only) -------------------------------


def test_long_or_control_source_name_is_refused() -> None:
    e = _error(_sources("{kind: config, path: a, name: " + "n" * (MAX_NAME_LENGTH + 1) + "}"))
    assert e.message.startswith("environments.staging.sources[0].name: ") and e.line == 4
    e = _error(_sources('{kind: config, path: a, name: "x\\0y"}'))
    assert e.message == "environments.staging.sources[0].name: 'x\\x00y' holds a control character"
    assert parse_config(_sources("{kind: config, path: a, name: " + "n" * MAX_NAME_LENGTH + "}"), "p")


def test_long_or_control_environment_name_is_refused() -> None:
    e = _error("environments:\n  staging: {}\n  " + "p" * (MAX_NAME_LENGTH + 1) + ": {}\n")
    assert f"environment name longer than {MAX_NAME_LENGTH} characters" in e.message and e.line == 3
    assert len(str(e)) < 200  # the name is shortened in the message
    e = _error('environments:\n  staging: {}\n  "prod\\x01": {}\n')
    assert e.message == "environments: environment name 'prod\\x01' holds a control character" and e.line == 3
    e = _error('environments:\n  staging: {}\n  "prod\\0": {}\n')
    assert "control character" in e.message
    assert parse_config("environments:\n  " + "p" * MAX_NAME_LENGTH + ": {}\n", "p")


# --- environment lists that name no environment, repeated stages (bug: a typo disabled the rule) -----------


@pytest.mark.parametrize("section", ["expected", "ignore"])
def test_rule_naming_an_unknown_environment_is_refused(section: str) -> None:
    rule = "{reason: r, environments: [staging, prodution]}"
    if section == "ignore":
        rule = "{owner: o, reason: r, expires: 2030-01-01, environments: [staging, prodution]}"
    e = _error(TWO + f"{section}:\n  - {rule}\n")
    assert e.line == 5
    assert e.message == (f"{section}[0].environments[1]: unknown environment 'prodution' (known: production, staging)")


def test_repeated_promotion_stage_is_refused() -> None:
    e = _error(TWO + "promotion: [staging, production, staging]\n")
    assert e.line == 4
    assert e.message == "promotion[2]: 'staging' is listed twice (also promotion[0]): each stage once"


def test_load_config_alias_bomb_file(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    p = tmp_path / "parity.yaml"
    p.write_text("\n".join([*lines, "environments: {staging: {}}"]) + "\n")
    from parity.config import load_config

    with pytest.raises(ConfigError, match="expands to more than"):
        load_config(p)


@pytest.mark.parametrize("path", ["[]", '""', '["a", " "]'])
def test_a_source_path_naming_nothing_is_refused(path: str) -> None:
    e = _error(f"environments:\n  staging:\n    sources:\n      - {{kind: config, path: {path}}}\n")
    assert "names no file" in e.message and e.line == 4
