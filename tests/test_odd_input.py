"""Odd input through `parity diff`, end to end: each either works or gives one line naming the file, exit 1
(never "internal error"). Every case here was an internal error, a hang or a leaked secret once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from parity.cli import main

CONFIG = """\
store: sqlite:///.parity/parity.db
environments:
  staging:
    sources: [{{kind: {kind}, path: s}}]
  production:
    sources: [{{kind: {kind}, path: p}}]
mirrors: [[staging, production]]
"""


def setup(tmp_path: Path, files: dict[str, str | bytes], kind: str = "config") -> Path:
    """A two-environment project: `s/NAME` for staging and `p/NAME` for production, the same file in both
    unless NAME starts with `s/` or `p/`."""
    for side in ("s", "p"):
        (tmp_path / side).mkdir(exist_ok=True)
    for name, body in files.items():
        targets = [tmp_path / name] if name[:2] in ("s/", "p/") else [tmp_path / "s" / name, tmp_path / "p" / name]
        for t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
            t.write_bytes(body if isinstance(body, bytes) else body.encode())
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(CONFIG.format(kind=kind))
    return cfg


def diff(capsys: pytest.CaptureFixture[str], cfg: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["diff", "staging", "production", "-c", str(cfg), "--no-progress", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: 1\nb: !!bool maybe\n", ["app.yaml:2:4", "'maybe'"]),
        ("a: !!float abc\n", ["app.yaml:1", "abc"]),
        ("data: {x: !!int abc}\n", ["app.yaml:1", "abc"]),
    ],
)
def test_a_value_its_yaml_tag_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: list[str]
) -> None:
    cfg = setup(tmp_path, {"app.yaml": text})
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, *words)


@pytest.mark.parametrize("depth", [260, 700])
def test_json_nested_past_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int) -> None:
    cfg = setup(tmp_path, {"app.json": '{"a":' * depth + "1" + "}" * depth})
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.json", "nested more than 200 levels")


def test_a_json_document_in_a_string_counts_where_it_sits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = '{"a":' * 150 + "1" + "}" * 150  # fine alone, too deep under 100 more levels
    doc: object = inner
    for _ in range(100):
        doc = {"b": doc}
    cfg = setup(tmp_path, {"app.json": json.dumps(doc)})
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.json", "nested more than 200 levels")


def test_a_terraform_state_nested_past_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep: object = 1
    for _ in range(300):
        deep = {"a": deep}
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    resource = {"mode": "managed", "type": "aws_x", "name": "n", "provider": provider}
    resource["instances"] = [{"attributes": {"id": "x", "deep": deep}}]
    state = {"version": 4, "terraform_version": "1.5.7", "resources": [resource]}
    cfg = setup(tmp_path, {"main.tfstate": json.dumps(state)}, kind="terraform-state")
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "main.tfstate", "nested more than 200 levels")


def test_nesting_below_the_limit_is_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(
        tmp_path,
        {"s/app.json": '{"a":' * 150 + "1" + "}" * 150, "p/app.json": '{"a":' * 150 + "2" + "}" * 150},
    )
    code, out, err = diff(capsys, cfg, "--format", "json")
    assert code == 2, err
    (finding,) = json.loads(out)["findings"]
    assert finding["kind"] == "differs"


@pytest.mark.parametrize("make", ["fifo", "device"])
def test_a_file_that_is_not_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str) -> None:
    cfg = setup(tmp_path, {"ok.yaml": "a: 1\n"})
    target = tmp_path / "s" / "app.yaml"
    if make == "fifo":
        os.mkfifo(target)  # reading it would block forever
    else:
        target.symlink_to("/dev/zero")  # reading it would never end
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.yaml", "not a regular file")


def test_a_folder_whose_name_looks_like_a_glob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(tmp_path, {})
    for side, value in (("s [old]", 1), ("p [old]", 2)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "app.yaml").write_text(f"a: {value}\n")
    cfg.write_text(cfg.read_text().replace("path: s}", 'path: "s [old]"}').replace("path: p}", 'path: "p [old]"}'))
    code, out, err = diff(capsys, cfg, "--format", "json")
    assert code == 2, err
    assert [f["kind"] for f in json.loads(out)["findings"]] == ["differs"]


def test_java_properties_surrogate_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(tmp_path, {"s/app.properties": "greeting=hi \\uD83D\\uDE00\n", "p/app.properties": "greeting=hi 😀\n"})
    code, _, err = diff(capsys, cfg)
    assert code == 0, err  # the escaped pair is the same character as the one written out
    (tmp_path / "p" / "app.properties").write_text("greeting=hi \\uD800\n")
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.properties:1", "surrogate")


def test_hcl_numbers_too_large_for_a_float_still_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(tmp_path, {"s/a.tfvars": "n = 1e400\nm = -1e400\nk = 1e400\n", "p/a.tfvars": "n = 1\nm = null\n"})
    code, out, err = diff(capsys, cfg, "--format", "json")
    assert code == 2, err
    paths = {c["path"] for f in json.loads(out)["findings"] for c in f["changes"]}
    assert {"n", "m", "k"} <= paths


def test_control_characters_never_reach_a_terminal_or_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = setup(tmp_path, {"s/app.json": '{"a": "x\\u001b]0;pwned\\u0007\\u001b[31mRED"}', "p/app.json": '{"a": "y"}'})
    for fmt in ("table", "markdown"):
        code, out, err = diff(capsys, cfg, "--format", fmt)
        assert code == 2, err
        assert "\x1b" not in out and "\x07" not in out
        assert "␛]0;pwned␇␛[31mRED" in out
    code, out, _ = diff(capsys, cfg, "--format", "json")
    assert json.loads(out)["findings"][0]["changes"][0]["left"] == "x\x1b]0;pwned\x07\x1b[31mRED"


def test_a_deep_last_applied_annotation_is_hidden_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    annotation = "[" * 3000 + "]" * 3000
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  annotations:\n"
        f"    kubectl.kubernetes.io/last-applied-configuration: '{annotation}'\ndata: {{a: '1'}}\n"
    )
    cfg = setup(tmp_path, {"app.yaml": manifest}, kind="kubernetes-manifests")
    code, _, err = diff(capsys, cfg)
    assert code == 0, err


@pytest.mark.parametrize("text", ['a:\n  1: x\n  "1": y\n', 'a: {true: 1, "true": 2}\n'])
def test_two_keys_that_read_the_same_are_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    cfg = setup(tmp_path, {"app.yaml": text})
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.yaml", "both read as")


@pytest.mark.parametrize(
    ("name", "text", "at"),
    [
        ("app.yaml", "a: 1\nb: 2\na: 3\n", "app.yaml:3:1"),
        ("app.yaml", "a:\n  1: x\n  true: y\n", "app.yaml:3:3"),  # equal as Python keys
        ("app.tfvars", 'size = 1\nname = "x"\nsize = 2\n', "app.tfvars:3"),
        ("main.tf", 'resource "a" "b" {\n  x = 1\n  lifecycle {\n    y = 1\n    y = 2\n  }\n}\n', "main.tf:5"),
    ],
)
def test_a_key_set_twice_is_an_error_not_the_last_one_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, at: str
) -> None:
    cfg = setup(tmp_path, {name: text})
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, at, "set twice", "first")


def test_a_manifest_key_set_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: '1'\n  a: '2'\n"
    cfg = setup(tmp_path, {"app.yaml": manifest}, kind="kubernetes-manifests")
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.yaml:7", "'a' is set twice")


def test_a_merged_key_may_be_overridden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(tmp_path, {"s/app.yaml": "base: &b {x: 1, y: 2}\nweb:\n  <<: *b\n  x: 3\n",
                           "p/app.yaml": "base: {x: 1, y: 2}\nweb: {x: 3, y: 2}\n"})  # fmt: skip
    code, _, err = diff(capsys, cfg)
    assert code == 0, err


def test_a_json_manifest_key_set_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"},\n"data": {"a": "1", "a": "2"}}'
    cfg = setup(tmp_path, {"app.json": manifest}, kind="kubernetes-manifests")
    code, _, err = diff(capsys, cfg)
    one_line_error(code, err, "app.json:2", "set twice")
