"""Follow-ups of the config and rule fixes: one glob implementation for ``expected`` rules (mirrors and the
promotion ledger agree), mirror pairs and ``expected`` environments checked at load, one URL-password
pattern, and AWS lookup failures that never echo a response body."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from parity.compare import Inventory, Rules, mirror_report
from parity.config import Expected, LoadedConfig, ParityConfig, parse_config
from parity.errors import ConfigError
from parity.model import Resource, Snapshot
from parity.normalize import canonicalize
from parity.promotion import analyse_promotion, ledger_for
from parity.redact import Redactor, redact_url_passwords
from parity.sources.aws.cloudtrail import LookupFailed, lookup_changes
from parity.sources.aws.last_accessed import LastAccessFailed, last_accessed
from parity.sources.config import redaction

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
BASE = "environments:\n  staging: {}\n  production: {}\n"


# ---------------------------------------------------------------- 1. one glob implementation for rules


def _deployment(env: str, image: str) -> Resource:
    ns = f"shop-{env}"
    attrs = {"metadata": {"name": "api", "namespace": ns},
             "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}}}  # fmt: skip
    return Resource("apps/v1/Deployment", f"{ns}/api", f"apps/v1/Deployment/{ns}/api", attrs, name="api")


def _inventory(env: str, *resources: Resource) -> Inventory:
    snap = Snapshot(env, "files", "kubernetes-manifests", "declared", NOW, resources)
    return Inventory(env, (canonicalize(snap),))


def _with_rule(rule: str) -> ParityConfig:
    return parse_config(f"{BASE}promotion: [staging, production]\nexpected:\n  - {rule}\n", "parity.yaml")


@pytest.mark.parametrize(
    ("rule", "applies"),
    [
        # a path copied from a finding: its brackets match themselves (fnmatch read [api] as one of a, p, i)
        ("{path: 'spec.template.spec.containers[api].image', reason: r}", True),
        # a path covers the paths beneath it
        ("{path: 'spec.template.spec.containers[api]', reason: r}", True),
        ("{type: apps/v1/Deployment, path: 'spec.template.spec.containers[*].image', reason: r}", True),
        ("{key: 'apps/v1/Deployment/shop-*/api', path: 'spec.template.*', reason: r}", True),
        # a real character class still matches as one
        ("{type: 'apps/v1/[CD]eployment', path: spec.template, reason: r}", True),
        ("{path: 'spec.template.spec.containers[web].image', reason: r}", False),
        ("{path: 'spec.template.spec.containers[api].imagePullPolicy', reason: r}", False),
        ("{path: 'spec.template.spec.containers[api].image', reason: r, environments: [staging, production]}", True),
    ],
)
def test_expected_rules_match_alike_in_mirrors_and_along_the_promotion_path(rule: str, applies: bool) -> None:
    cfg = _with_rule(rule)
    invs = {
        "staging": _inventory("staging", _deployment("staging", "ghcr.io/acme/api:3.0")),
        "production": _inventory("production", _deployment("production", "ghcr.io/acme/api:3.0-hotfix")),
    }
    rules = Rules.from_config(LoadedConfig(cfg, Path("parity.yaml")))
    mirrored = mirror_report(invs["staging"], invs["production"], rules)
    promoted, _notes = analyse_promotion(ledger_for(cfg, None, current=invs, now=NOW), cfg, NOW)
    path = "spec.template.spec.containers[api].image"
    if applies:
        assert mirrored.findings == () or list(mirrored.findings) == []
        assert [e.change.path for e in mirrored.expected] == [path]
        assert promoted == []
    else:
        assert [[c.path for c in f.changes] for f in mirrored.findings] == [[path]]
        assert [(f.kind, f.changes[0].path) for f in promoted] == [("promotion_bypass", path)]
    e = cfg.expected[0]
    assert e.matches("apps/v1/Deployment", "apps/v1/Deployment/shop-{env}/api", path, ("staging", "production")) is (
        applies
    )


def test_expected_matches_is_the_shared_rule_matcher() -> None:
    e = Expected(reason="r", key="aws_vpc.main[0]", path="tags")
    assert e.matches("aws_vpc", "aws_vpc.main[0]", "tags.Owner", ("staging", "production"))
    assert not e.matches("aws_vpc", "aws_vpc.main[1]", "tags.Owner", ("staging", "production"))
    assert not e.matches("aws_vpc", "aws_vpc.main[0]", "tagsOwner", ("staging", "production"))


def test_the_glob_module_is_neutral_and_the_old_name_still_works() -> None:
    code = (
        "import sys, parity.globs\n"
        "print(sorted(m for m in sys.modules if m.startswith('parity.')))\n"
        "import parity.config, parity.compare.globs as old, parity.globs as new\n"
        "assert old.rule_matches is new.rule_matches and old.path_match is new.path_match\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['parity.globs']"


# ---------------------------------------------------------------- 2. mirrors and expected environments


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, "parity.yaml")
    return ei.value


PAIR = "mirrors:\n  - [staging, production]\n"


@pytest.mark.parametrize(
    ("mirrors", "line", "words"),
    [
        (PAIR + "  - [production, staging]\n", 6, "[production, staging] is mirrors[0] reversed"),
        (PAIR + "  - [staging, production]\n", 6, "[staging, production] is also mirrors[0]"),
        ("mirrors: [[staging, production], [production, staging]]\n", 4, "is mirrors[0] reversed"),
        ("mirrors:\n  - [production, production]\n", 5, "an environment cannot mirror itself"),
    ],
)
def test_a_mirror_pair_given_twice_or_with_itself_is_an_error_naming_the_line(
    mirrors: str, line: int, words: str
) -> None:
    e = _error(BASE + mirrors)
    assert (e.file, e.line) == ("parity.yaml", line)
    assert words in e.message and e.message.startswith("mirrors[")
    assert str(e).count("\n") == 0


def test_distinct_mirror_pairs_are_fine() -> None:
    text = "environments:\n  dev: {}\n  staging: {}\n  production: {}\n"
    cfg = parse_config(text + "mirrors: [[dev, staging], [staging, production], [dev, production]]\n", "parity.yaml")
    assert cfg.mirror_pairs() == [("dev", "staging"), ("staging", "production"), ("dev", "production")]


@pytest.mark.parametrize(
    ("environments", "what"),
    [
        ("[production]", "names only one environment (production)"),
        ("[production, production]", "names only one environment (production)"),
        ("[]", "names no environment"),
    ],
)
def test_an_expected_rule_for_one_environment_is_an_error_naming_the_line(environments: str, what: str) -> None:
    text = BASE + textwrap.dedent(f"""\
        expected:
          - {{path: instance_class, reason: sized for load}}
          - path: spec.replicas
            environments: {environments}
            reason: more replicas
        """)
    e = _error(text)
    assert (e.file, e.line) == ("parity.yaml", 7)  # the line of `environments:`
    assert e.message.startswith(f"expected[1].environments: {what}") and "never apply" in e.message
    # two environments (or none named: every pair) are fine
    parse_config(text.replace(f"environments: {environments}", "environments: [staging, production]"), "p")
    parse_config(text.replace(f"    environments: {environments}\n", ""), "p")


# ---------------------------------------------------------------- 4. one URL-password pattern


def test_config_redaction_uses_the_shared_url_password_redaction(
    monkeypatch: pytest.MonkeyPatch, redactor: Redactor
) -> None:
    assert not hasattr(redaction, "_URL_PASSWORD")  # no second copy of the pattern
    seen: list[str] = []

    def spy(text: str, r: Redactor) -> str:
        seen.append(text)
        return redact_url_passwords(text, r)

    monkeypatch.setattr(redaction, "redact_url_passwords", spy)
    text = "url: postgres://app:s3cr@t@db.internal:5432/app\nother: x"
    out = redaction.redact_text(text, redactor)
    assert seen == [text]
    assert out == redact_url_passwords(text, redactor) and "s3cr@t" not in out
    assert out.startswith("url: postgres://app:<redacted:") and out.endswith("@db.internal:5432/app\nother: x")


# ---------------------------------------------------------------- 5. AWS lookups never echo a response body

MARKER = "BODY-MARKER-7f3a9c"


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="x")


class _Raising:
    """A client whose every call fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise self.error

        return call


def test_a_cloudtrail_lookup_failure_never_echoes_the_response() -> None:
    ct = _client("cloudtrail")
    stub = Stubber(ct)
    stub.add_client_error("lookup_events", "AccessDeniedException", f"<html>{MARKER}</html>", 400)
    with stub, pytest.raises(LookupFailed) as ei:
        lookup_changes(ct, "orders", NOW - dt.timedelta(days=1), NOW)
    assert MARKER not in str(ei.value)
    assert str(ei.value).endswith("AccessDeniedException (HTTP 400 Bad Request)")  # class, code, status only
    # a body botocore could not parse (its text ends with the whole body) is a lookup failure too
    bad = _Raising(ResponseParserError(f"Unable to parse response, invalid XML received:\nb'{MARKER}'"))
    with pytest.raises(LookupFailed) as ei:
        lookup_changes(bad, "orders", NOW - dt.timedelta(days=1), NOW)
    assert MARKER not in str(ei.value) and str(ei.value).startswith("ResponseParserError")


def test_a_last_accessed_failure_never_echoes_the_response() -> None:
    iam = _client("iam")
    stub = Stubber(iam)
    stub.add_client_error("generate_service_last_accessed_details", "Throttling", f"{MARKER} slow down", 400)
    with stub, pytest.raises(LastAccessFailed) as ei:
        last_accessed(iam, "arn:aws:iam::123456789012:user/dev", sleeper=lambda _: None)
    assert MARKER not in str(ei.value)
    assert str(ei.value).endswith("Throttling (HTTP 400 Bad Request)")  # class, code, status only
    bad = _Raising(ResponseParserError(f"Unable to parse response:\nb'{MARKER}'"))
    with pytest.raises(LastAccessFailed) as ei:
        last_accessed(bad, "arn:aws:iam::123456789012:user/dev", sleeper=lambda _: None)
    assert MARKER not in str(ei.value) and str(ei.value).startswith("ResponseParserError")
