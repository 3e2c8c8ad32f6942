"""Odd but valid config files: each once read silently wrong, or showed a secret it should have hashed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.cli import main
from parity.config import ConfigFilesSource
from parity.errors import InputError
from parity.model import Json
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.config import hcl
from parity.sources.config.collector import collect
from parity.sources.config.redaction import redact_text, redact_tree


def _read(tmp_path: Path, redactor: Redactor, name: str, body: str | bytes) -> dict[str, Json]:
    """The attributes parity keeps for one file (parsed, then redacted), read through the config source."""
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    ctx = CollectContext(
        environment="staging", source_name="cfg", base_dir=tmp_path, redactor=redactor, role="declared", tokens={}
    )
    spec = ConfigFilesSource.model_validate({"kind": "config", "path": name})
    (snap,) = collect(spec, ctx)
    (resource,) = snap.resources
    return dict(resource.attributes)


def _text(v: Json) -> str:
    """Every key and string of parsed data, one per line (to look for what a value reads as)."""
    if isinstance(v, dict):
        return "\n".join(k + "\n" + _text(x) for k, x in v.items())
    if isinstance(v, list):
        return "\n".join(_text(x) for x in v)
    return v if isinstance(v, str) else ""


# --- .env ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("COLOR=#ff0000", "#ff0000"),  # a value that starts with '#': python-dotenv and docker compose keep it
        ("CHANNEL=#ops # the on-call channel", "#ops"),
        ("NOTE= # nothing set", ""),  # a '#' after whitespace is a comment, also right after '='
        ("NOTE=\t# nothing set", ""),
        ("URL=http://h/#frag", "http://h/#frag"),
    ],
)
def test_dotenv_hash_starts_a_comment_only_after_whitespace(
    tmp_path: Path, redactor: Redactor, line: str, value: str
) -> None:
    key = line.split("=", 1)[0]
    assert _read(tmp_path, redactor, "app.env", line + "\n") == {key: value}


def test_dotenv_quoted_value_reads_the_same_with_crlf_line_ends(tmp_path: Path, redactor: Redactor) -> None:
    body = "MOTD=\"line one\nline two\"\nBANNER='a\nb'\nPLAIN=x\n"
    lf = _read(tmp_path, redactor, "lf.env", body)
    crlf = _read(tmp_path, redactor, "crlf.env", body.replace("\n", "\r\n"))
    assert lf == crlf == {"MOTD": "line one\nline two", "BANNER": "a\nb", "PLAIN": "x"}


# --- JSON ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"replicas": 2,\n "replicas": 6}', 2),
        ('{"db": {"host": "a",\n  "port": 1,\n  "host": "b"}}', 3),
        ('[{"a": 1},\n {"b": {"c": 1, "c": 2}}]', 2),
        ('{"k\\u0065y": 1,\n "key": 2}', 2),  # the same key written two ways
    ],
)
def test_json_key_set_twice_is_an_error_with_its_line(tmp_path: Path, redactor: Redactor, text: str, line: int) -> None:
    with pytest.raises(InputError) as e:
        _read(tmp_path, redactor, "app.json", text)
    assert "set twice" in str(e.value)
    assert e.value.line == line


def test_json_same_key_in_different_objects_is_fine(tmp_path: Path, redactor: Redactor) -> None:
    text = '{"a": {"name": 1}, "b": {"name": 2}, "c": [{"name": 3}, {"name": 4}], "name": 5}'
    assert _read(tmp_path, redactor, "app.json", text) == json.loads(text)


# --- YAML ------------------------------------------------------------------------------------------------


def test_yaml_base_60_numbers_stay_text(tmp_path: Path, redactor: Redactor) -> None:
    """YAML 1.1 reads `22:22` as 1342 and `1:30` as 90 (equal to a plain 90); YAML 1.2 tools keep the text."""
    text = "ports: [22:22, 8080:80]\nstart: 1:30\nlegacy: 90\nratio: 1:30.5\nplain: 17\nf: 1.5\n"
    out = _read(tmp_path, redactor, "compose.yaml", text)
    assert out == {
        "ports": ["22:22", "8080:80"],
        "start": "1:30",
        "legacy": 90,
        "ratio": "1:30.5",
        "plain": 17,
        "f": 1.5,
    }


# --- .properties -----------------------------------------------------------------------------------------


def test_properties_lone_carriage_return_ends_a_line(tmp_path: Path, redactor: Redactor) -> None:
    """java.util.Properties ends a line at \\n, \\r\\n or a lone \\r."""
    out = _read(tmp_path, redactor, "app.properties", b"a=1\rb=2\r\nc=3\n")
    assert out == {"a": "1", "b": "2", "c": "3"}


# --- HCL -------------------------------------------------------------------------------------------------


def test_hcl_heredoc_reads_the_same_with_crlf_line_ends(tmp_path: Path, redactor: Redactor) -> None:
    body = "locals {\n  script = <<EOT\necho one\necho two\nEOT\n}\n"
    lf = _read(tmp_path, redactor, "lf.tf", body)
    crlf = _read(tmp_path, redactor, "crlf.tf", body.replace("\n", "\r\n"))
    assert lf == crlf == {"locals": {"script": "echo one\necho two"}}


@pytest.mark.parametrize(
    ("name", "text", "line", "said"),
    [
        ("app.tfvars", 'region = "a"\nsize   = 2\n\n# again\nregion = "b"\n', 5, "'region' is set twice"),
        ("main.tf", 'region = "a"\nregion = "b"\n', 2, "'region' is set twice"),
        ("main.tf", 'resource "a" "b" {\n  ingress {\n    port = 1\n    port = 2\n  }\n}\n', 4, "'port' is set twice"),
        # Terraform: "Duplicate local value definition"; python-hcl2's blocks were merged, the last value winning
        ("main.tf", "locals {\n  a = 1\n}\nlocals {\n  b = 2\n  a = 3\n}\n", 6, "'a' is set in two 'locals' blocks"),
        ("app.tfvars", "locals {\n  a = 1\n}\nlocals {\n  a = 3\n}\n", 5, "'a' is set in two 'locals' blocks"),
        # Terraform: "Duplicate backend configuration", "Duplicate required providers configuration"
        (
            "main.tf",
            'terraform {\n  backend "s3" { bucket = "a" }\n}\nterraform {\n  backend "s3" { bucket = "b" }\n}\n',
            5,
            """'backend "s3"' is set in two 'terraform' blocks""",
        ),
        (
            "main.tf",
            "terraform {\n  required_providers {}\n}\nterraform {\n  required_providers {}\n}\n",
            5,
            "'required_providers' is set in two 'terraform' blocks",
        ),
        ("app.tfvars", 'region = "a"\nregion {\n}\n', 2, "'region' is both an attribute and a block"),
        # "Duplicate backend configuration": one backend per module, whatever its type, also within one block
        (
            "main.tf",
            'terraform {\n  backend "s3" { bucket = "a" }\n}\nterraform {\n  backend "local" {}\n}\n',
            5,
            """'backend "local"' is a second 'backend' block (first on line 2)""",
        ),
        ("main.tf", 'terraform {\n  backend "s3" {}\n  backend "local" {}\n}\n', 3, "a second 'backend' block"),
        ("main.tf", 'terraform {\n  backend "s3" {}\n  backend "s3" {}\n}\n', 3, "a second 'backend' block"),
        (
            "main.tf",
            "terraform {\n  required_providers {}\n  required_providers {}\n}\n",
            3,
            "'required_providers' is a second 'required_providers' block",
        ),
        # "Both a backend and cloud configuration are present"
        ("main.tf", 'terraform {\n  backend "s3" {}\n}\nterraform {\n  cloud {}\n}\n', 5, "beside a 'backend' block"),
        # "Duplicate resource configuration", "Duplicate module call", "Duplicate variable declaration", ...
        (
            "main.tf",
            'resource "aws_s3_bucket" "a" {\n  acl = "x"\n}\nresource "aws_s3_bucket" "a" {\n  acl = "y"\n}\n',
            4,
            'resource "aws_s3_bucket" "a" is declared twice (first on line 1)',
        ),
        ("main.tf", 'data "aws_vpc" "v" {}\n\ndata "aws_vpc" "v" {}\n', 3, 'data "aws_vpc" "v" is declared twice'),
        ("main.tf", 'module "m" {}\nmodule "m" {}\n', 2, 'module "m" is declared twice'),
        ("main.tf", 'variable "v" {}\nvariable "v" {}\n', 2, 'variable "v" is declared twice'),
        ("main.tf", 'output "o" {}\noutput "o" {}\n', 2, 'output "o" is declared twice'),
        # "Blocks are not allowed here": a .tfvars file only sets variables
        ("app.tfvars", 'region = "a"\n\ntags {\n  a = 1\n}\n', 3, "a 'tags' block: a .tfvars file only sets variables"),
    ],
)
def test_hcl_name_set_twice_is_an_error_with_file_and_line(
    tmp_path: Path, redactor: Redactor, name: str, text: str, line: int, said: str
) -> None:
    """Terraform refuses each of these; reading the last value as if it were the only one would hide drift."""
    with pytest.raises(InputError) as e:
        _read(tmp_path, redactor, name, text)
    assert e.value.file == name and e.value.line == line
    assert said in e.value.message and "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["main.tf"])
def test_hcl_blocks_terraform_repeats_are_all_kept(tmp_path: Path, redactor: Redactor, name: str) -> None:
    text = """\
resource "aws_security_group" "web" {
  ingress {
    from_port = 80
  }
  ingress {
    from_port = 443
  }
}
resource "aws_security_group" "db" {
  ingress {
    from_port = 5432
  }
}
moved {
  from = aws_instance.a
  to   = aws_instance.b
}
moved {
  from = aws_instance.c
  to   = aws_instance.d
}
locals {
  a = 1
}
locals {
  b = 2
}
terraform {
  required_version = ">= 1.5"
  backend "s3" {
    bucket = "state"
  }
}
terraform {
  required_version = "< 2.0"
}
"""
    assert _read(tmp_path, redactor, name, text) == {
        "resource": {
            "aws_security_group": {
                "web": {"ingress": [{"from_port": 80}, {"from_port": 443}]},
                "db": {"ingress": [{"from_port": 5432}]},
            }
        },
        # one list entry per block: merging them kept the last `moved` only
        "moved": [
            {"from": "aws_instance.a", "to": "aws_instance.b"},
            {"from": "aws_instance.c", "to": "aws_instance.d"},
        ],
        "locals": {"a": 1, "b": 2},
        # Terraform checks every required_version it is given
        "terraform": {"required_version": [">= 1.5", "< 2.0"], "backend": {"s3": {"bucket": "state"}}},
    }


def test_hcl_experiments_in_two_terraform_blocks_are_one_list(tmp_path: Path, redactor: Redactor) -> None:
    """Terraform takes the union of every terraform block's experiments; this was refused as a name set twice."""
    text = "terraform {\n  experiments = [a]\n}\nterraform {\n  experiments = [b, c]\n}\n"
    assert _read(tmp_path, redactor, "main.tf", text) == {"terraform": {"experiments": ["a", "b", "c"]}}


def test_hcl_without_indented_heredoc_is_not_walked_for_one(
    tmp_path: Path, redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk over the whole tree cost a seventh of reading 10,000 locals; without ``<<-`` it finds nothing."""

    def walked(tree: object) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(hcl, "_flush_heredocs", walked)
    text = 'locals {\n  a = <<EOT\n  x\nEOT\n  b = "<<"\n}\n'
    assert _read(tmp_path, redactor, "main.tf", text) == {"locals": {"a": "  x", "b": "<<"}}


def test_hcl_object_key_set_twice_keeps_the_last_as_terraform_does(tmp_path: Path, redactor: Redactor) -> None:
    """An object constructor is an expression, not a body: Terraform keeps the last value (terraform#28727)."""
    text = 'tags = {\n  team = "a"\n  team = "b"\n}\n'
    assert _read(tmp_path, redactor, "app.tfvars", text) == {"tags": {"team": "b"}}


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("    echo one\n      echo two\n    ", "echo one\n  echo two"),  # spaces (python-hcl2 already did this)
        ("\techo one\n\t\techo two\n\t", "echo one\n\techo two"),  # tabs: python-hcl2 kept every tab
        ("\t  echo one\n\t  echo two\n\t  ", "echo one\necho two"),  # tab then spaces on every line
        ("\techo one\n    echo two\n", "echo one\n   echo two"),  # a tab counts as one character, as a space does
        ("\t\techo one\n\n\t\techo two\n\t\t", "echo one\n\necho two"),  # an empty line does not count
        ("    echo one\n  \n    echo two\n    ", "echo one\n  \necho two"),  # nor one of whitespace, kept as written
        ("    ${var.cmd}\n      --flag\n    ", "${var.cmd}\n  --flag"),
        ("\u00a0\u00a0echo one\n\u00a0\u00a0echo two\n", "echo one\necho two"),  # Go's unicode.IsSpace
        # the closing marker indented by any whitespace (Terraform trims that line with unicode.IsSpace)
        ("\u2003\u2003echo one\n\u2003echo two\n\u2003", "\u2003echo one\necho two"),
        # lines begun inside ${...} are expression, not text: neither measured nor cut
        ("    echo ${jsonencode({\n  a = 1\n})}\n    done\n  ", "echo ${jsonencode({\n  a = 1\n})}\ndone"),
        ('    ${join(",", [\n  "}",\n])}\n    b\n', '${join(",", [\n  "}",\n])}\nb'),  # a brace in a string
        ("    %{ for x in [\n1] }${x}%{ endfor }\n    b\n", "%{ for x in [\n1] }${x}%{ endfor }\nb"),
        ("    $${x\n  y\n", "  $${x\ny"),  # $${ is a literal ${: no sequence opens
    ],
)
@pytest.mark.parametrize("name", ["main.tf", "app.tfvars"])
def test_hcl_indented_heredoc_strips_common_whitespace_as_terraform_does(
    tmp_path: Path, redactor: Redactor, name: str, body: str, value: str
) -> None:
    """Terraform cuts the smallest count of leading whitespace characters, tabs and spaces alike, from each
    line that is not blank. The newline before the closing marker is dropped, as for `<<` heredocs."""
    assert _read(tmp_path, redactor, name, f"script = <<-EOT\n{body}EOT\n") == {"script": value}


def test_hcl_plain_heredoc_keeps_its_indentation(tmp_path: Path, redactor: Redactor) -> None:
    text = "script = <<EOT\n\techo one\n    echo two\nEOT\n"
    assert _read(tmp_path, redactor, "main.tf", text) == {"script": "\techo one\n    echo two"}


# --- secrets inside values -------------------------------------------------------------------------------

SECRET = "Zq9-s3cr3t-vAlue"


@pytest.mark.parametrize(
    ("name", "body", "kept"),
    [
        # a password in a URL's query string
        (
            "app.properties",
            f"spring.datasource.url=jdbc:postgresql://db/app?user=app&password={SECRET}&ssl=true\n",
            ["jdbc:postgresql://db/app?user=app&password=<redacted:", "&ssl=true"],
        ),
        ("app.env", f"WEBHOOK=https://hooks.example.com/x?token={SECRET}\n", ["https://hooks.example.com/x?token="]),
        # an ADO.NET / ODBC connection string under a name that says nothing
        (
            "app.ini",
            f"[db]\nconn = Server=db;Database=app;User Id=app;Password={SECRET};\n",
            ["Server=db;Database=app;User Id=app;Password=<redacted:"],
        ),
        ("app.json", json.dumps({"Data": {"Default": f"Server=db;Pwd={SECRET}"}}), ["Server=db;Pwd=<redacted:"]),
        # a libpq keyword/value string
        ("app.yaml", f"db: host=db port=5432 password={SECRET} dbname=app\n", ["host=db port=5432 password=<r"]),
        # command lines held in one string
        ("app.env", f"JAVA_OPTS=-Xmx1g -Ddb.password={SECRET} -Dx=1\n", ["-Xmx1g -Ddb.password=<redacted:", "-Dx=1"]),
        ("app.yaml", f"command: mysql --password={SECRET} -u root\n", ["mysql --password=<redacted:", " -u root"]),
        ("app.yaml", f"command: app --api-key {SECRET} --verbose\n", ["app --api-key <redacted:", " --verbose"]),
        # a pair nested in the value of another pair
        ("app.tfvars", f'conn = "Password={SECRET}"\n', ["Password=<redacted:"]),
        # credentials recognised by their shape, whatever the key
        ("app.yaml", f"headers:\n  Authorization: Basic {SECRET}\n", ["headers"]),
        ("app.yaml", f"curl: \"curl -H 'Authorization: Bearer {SECRET}' https://api\"\n", ["Bearer <redacted:"]),
        (
            "app.yaml",
            "tls:\n  key: |\n    -----BEGIN RSA PRIVATE KEY-----\n"
            f"    MIIE{SECRET}\n    -----END RSA PRIVATE KEY-----\n",
            ["-----BEGIN RSA PRIVATE KEY-----\n<redacted:", "\n-----END RSA PRIVATE KEY-----"],
        ),
    ],
)
def test_secrets_inside_values_are_hashed(
    tmp_path: Path, redactor: Redactor, name: str, body: str, kept: list[str]
) -> None:
    attrs = _read(tmp_path, redactor, name, body)
    assert SECRET not in json.dumps(attrs), attrs
    text = _text(attrs)
    for k in kept:
        assert k in text, attrs


@pytest.mark.parametrize(
    "token",
    [
        "ghp_" + "a1B2" * 9,
        "github_pat_" + "A1b2C3d4E5" * 3,
        "sk_live_" + "51HxyzAbcdEfgh",
        "xoxb-1234567890-abcdefghij",
        "glpat-" + "abcdEFGH1234ijklMNOP",
    ],
)
def test_well_known_token_formats_are_hashed_under_any_key(redactor: Redactor, token: str) -> None:
    out = redact_tree({"stripe": token, "notes": f"use {token} for now"}, redactor)
    assert token not in json.dumps(out)
    assert out["notes"].startswith("use <redacted:")  # type: ignore[index,union-attr]


def test_pairs_with_harmless_names_stay_readable(redactor: Redactor) -> None:
    """Only secret-looking keys are hashed: drift in everything else stays visible."""
    lines = [
        "https://api.example.com/v1?page=2&max_tokens=100&password_policy=strict",
        "Server=db;Database=app;Timeout=30",
        "java -Xmx1g -Dspring.profiles.active=prod -jar app.jar --token-file /run/t",
        "Bearer",
        "a = 1",
    ]
    for line in lines:
        assert redact_text(line, redactor) == line


def test_equal_secrets_hash_equal_wherever_they_sit(redactor: Redactor) -> None:
    a = redact_tree({"x": f"https://h/?token={SECRET}", "y": f"Server=db;Password={SECRET};", "z": SECRET}, redactor)
    marker = redactor.redact(SECRET)
    assert a == {"x": f"https://h/?token={marker}", "y": f"Server=db;Password={marker};", "z": SECRET}


# --- end to end ------------------------------------------------------------------------------------------

CONFIG = """\
store: sqlite:///.parity/parity.db
environments:
  staging:
    sources: [{kind: config, path: s}]
  production:
    sources: [{kind: config, path: p}]
mirrors: [[staging, production]]
"""


def test_diff_shows_the_drift_a_misreading_hid_and_never_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "p").mkdir()
    (tmp_path / "s" / "app.env").write_text("BRAND_COLOR=#ff0000\nJAVA_OPTS=-Ddb.password=stg-Zq9x1\n")
    (tmp_path / "p" / "app.env").write_text("BRAND_COLOR=#00ff00\nJAVA_OPTS=-Ddb.password=prd-Zq9x2\n")
    (tmp_path / "parity.yaml").write_text(CONFIG)
    code = main(["diff", "staging", "production", "-c", str(tmp_path / "parity.yaml"), "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 2
    doc = json.loads(out)
    paths = {c["path"] for f in doc["findings"] for c in f["changes"]}
    assert {"BRAND_COLOR", "JAVA_OPTS"} <= paths
    assert "#ff0000" in out and "#00ff00" in out
    assert "Zq9x" not in out
