"""The aws source against hostile or broken input: secrets in tag values, an endpoint that answers with HTML
or garbage, a region that does not exist, Route 53 names with odd escapes, URL passwords, bad region names
in parity.yaml, and the read-only guard's documented rule. moto's server over real HTTP, and a tiny local
HTTP server that passes requests to moto except for the services it is told to break."""

from __future__ import annotations

import copy
import http.client
import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import account_session, new_account
from parity.cli import main
from parity.config import load_config
from parity.errors import ConfigError
from parity.redact import (
    Redactor,
    is_redacted,
    looks_secret,
    redact_secret_keyed,
    redact_secret_keys_in_place,
    redact_url_passwords,
)
from parity.sources.aws import guard
from parity.sources.aws.session import AwsSession
from parity.sources.aws.types.route53 import dns_name, record_native_id
from test_aws_drift import cli_json, queue_url, tf_res, tf_state, write_config
from test_aws_source import aws_spec, by_type, run

ROOT = Path(__file__).resolve().parents[1]


def _include(cfg: Path, *types: str) -> Path:
    cfg.write_text(cfg.read_text().replace("role_arn:", f"resource_types: {{include: [{', '.join(types)}]}},\n"
                                                        "         role_arn:"))  # fmt: skip
    return cfg


def _stored(cfg: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (cfg.parent / ".parity").glob("parity.db*"))


# 1. Tag values under secret-looking keys are hashed, as the Terraform side hashes them ---------------------


def _lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()


def _tagged_account(moto_url: str, secret: str) -> dict[str, Any]:
    """A fresh account where resources of many types carry the tag ``db_password = secret``."""
    acct = new_account()
    sess = account_session(moto_url, acct)

    def c(service: str) -> Any:
        return sess.client(service, endpoint_url=moto_url)  # type: ignore[attr-defined]

    tag_list = [{"Key": "app", "Value": "shop"}, {"Key": "db_password", "Value": secret}]
    tag_map = {"app": "shop", "db_password": secret}
    iam = c("iam")
    iam.create_user(UserName="deploy-bot", Tags=tag_list)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}", Tags=tag_list)["Role"]["Arn"]
    c("sqs").create_queue(QueueName="orders-prod", tags=tag_map)
    c("logs").create_log_group(logGroupName="/shop/api", tags=tag_map)
    bucket = f"assets-{acct}"
    s3 = c("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list})
    secret_arn = c("secretsmanager").create_secret(Name="shop/db", SecretString="never-read", Tags=tag_list)["ARN"]
    c("lambda").create_function(FunctionName="thumbs", Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": _lambda_zip()}, Tags=tag_map)  # fmt: skip
    c("kms").create_key(Description="k", Tags=[{"TagKey": "db_password", "TagValue": secret}])
    c("sns").create_topic(Name="events", Tags=tag_list)
    c("ec2").create_vpc(CidrBlock="10.9.0.0/16",
                        TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list}])  # fmt: skip
    return {"acct": acct, "queue": queue_url(acct, "orders-prod"), "bucket": bucket, "secret_arn": secret_arn}


TAGGED_TYPES = ("aws_iam_user", "aws_iam_role", "aws_sqs_queue", "aws_cloudwatch_log_group", "aws_s3_bucket",
                "aws_secretsmanager_secret", "aws_lambda_function", "aws_kms_key", "aws_sns_topic",
                "aws_vpc")  # fmt: skip


def test_secret_looking_tag_values_are_hashed_for_every_type(moto_url: str, redactor: Redactor) -> None:
    secret = f"hunter2-{uuid.uuid4().hex[:10]}"
    made = _tagged_account(moto_url, secret)
    snap = run(aws_spec(moto_url, made["acct"], regions=["eu-west-1"], resource_types={"include": list(TAGGED_TYPES)}),
               redactor)  # fmt: skip
    assert snap.coverage.complete, snap.coverage.gaps
    marker = redactor.redact(secret)
    tagged = [r for r in snap.resources if "db_password" in r.tags]
    assert {r.type for r in tagged} == set(TAGGED_TYPES)
    for r in tagged:
        assert r.tags["db_password"] == marker, r.type
        assert r.attributes["tags"]["db_password"] == marker, r.type  # type: ignore[index]
        if "app" in r.tags:
            assert r.tags["app"] == "shop"  # only secret-looking keys are hashed
    assert secret not in repr(snap.resources)


def test_code_vs_live_agree_on_a_hashed_tag_and_nothing_is_shown_or_stored(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = f"hunter2-{uuid.uuid4().hex[:10]}"
    made = _tagged_account(moto_url, secret)
    acct, tags = made["acct"], {"app": "shop", "db_password": secret}
    state = tf_state(
        tf_res("aws_sqs_queue", "orders", {
            "id": made["queue"], "name": "orders-prod", "visibility_timeout_seconds": 30,
            "message_retention_seconds": 345600, "delay_seconds": 0, "fifo_queue": False,
            "max_message_size": 1048576, "receive_wait_time_seconds": 0, "tags": tags, "tags_all": tags}),
        tf_res("aws_iam_user", "bot", {"id": "deploy-bot", "name": "deploy-bot", "path": "/", "tags": tags,
                                       "tags_all": tags}),
        tf_res("aws_cloudwatch_log_group", "api", {"id": "/shop/api", "name": "/shop/api", "retention_in_days": 0,
                                                   "kms_key_id": "", "tags": tags, "tags_all": tags}),
        tf_res("aws_s3_bucket", "assets", {"id": made["bucket"], "bucket": made["bucket"], "tags": tags,
                                           "tags_all": tags,
                                           "versioning": [{"enabled": False, "mfa_delete": False}]}),
        tf_res("aws_secretsmanager_secret", "db", {"id": made["secret_arn"], "arn": made["secret_arn"],
                                                   "name": "shop/db", "description": "", "kms_key_id": "",
                                                   "rotation_enabled": False, "tags": tags, "tags_all": tags}),
    )  # fmt: skip
    (tmp_path / "production.tfstate").write_text(state)
    cfg = _include(write_config(tmp_path, moto_url, {"production": acct}), "aws_sqs_queue", "aws_iam_user",
                   "aws_cloudwatch_log_group", "aws_s3_bucket", "aws_secretsmanager_secret")  # fmt: skip
    assert secret in (tmp_path / "production.tfstate").read_text()  # the code side does hold it in clear

    code, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    assert doc["coverage"]["production"]["complete"], doc["coverage"]
    assert [(f["type"], f["changes"]) for f in doc["findings"] if f["kind"] in ("changed", "missing")] == []
    assert code == 0, doc["findings"]
    assert secret not in json.dumps(doc)

    outputs = []
    for fmt in ("json", "table", "markdown"):
        assert main(["scan", "-c", str(cfg), "--format", fmt]) == 0
        out, err = capsys.readouterr()
        outputs.append(out + err)
    assert all(secret not in text for text in outputs)
    stored = _stored(cfg)
    assert stored and secret.encode() not in stored
    assert b"<redacted:" in stored  # the tag is there, as its marker

    # a changed secret is still visible, as two different markers
    sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    sqs.tag_queue(QueueUrl=made["queue"], Tags={"db_password": "rotated-" + secret})
    code, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    (changed,) = [f for f in doc["findings"] if f["kind"] == "changed"]
    (change,) = changed["changes"]
    assert change["path"] == "tags.db_password" and is_redacted(change["left"]) and is_redacted(change["right"])
    assert change["left"] != change["right"] and secret not in json.dumps(doc)


def _reference_rule(value: Any, redactor: Redactor) -> Any:
    """The rule written the plainest way (recursion, every container rebuilt), independent of parity.redact's
    walk: a value under a secret-looking key becomes its marker, null stays null."""
    if isinstance(value, dict):
        return {
            k: (v if v is None else redactor.redact(v)) if looks_secret(k) else _reference_rule(v, redactor)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_reference_rule(v, redactor) for v in value]
    return value


_KEYS = st.sampled_from(["tags", "db_password", "apiKey", "name", "token_expiry", "client-secret", "value", "x"])


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=3)
                    | st.dictionaries(_KEYS | st.text(max_size=12), kids, max_size=4),
                    max_leaves=12))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_live_and_terraform_redaction_follow_one_rule(tree: Any) -> None:
    """The AWS side (copying) and the Terraform readers (in place) both give what the plain rule gives."""
    redactor = Redactor(b"parity-tests-fixed-key-0123456789")
    before = copy.deepcopy(tree)
    wrapped = {"v": tree}
    expected = _reference_rule(wrapped, redactor)
    live = redact_secret_keyed(wrapped, redactor)
    assert live == expected
    assert tree == before  # never changed in place
    assert (live is wrapped) == (expected == wrapped)  # the input itself exactly when nothing is secret
    terraform = copy.deepcopy(wrapped)
    assert redact_secret_keys_in_place(terraform, redactor) == (expected != wrapped)
    assert terraform == expected


# 2. An endpoint that answers with HTML or garbage: a coverage gap, and nothing of the body is shown ----------

BODY_SECRET = "db_password=body-secret-9f3c"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


class Hostile:
    """A local HTTP endpoint: answers the services in ``rules`` (``"sqs"``) with a canned status and body,
    and passes every other request (STS, ...) to moto unchanged."""

    def __init__(self, moto_url: str, rules: dict[str, tuple[int, bytes]]) -> None:
        self.moto = urlsplit(moto_url)
        self.rules = rules
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def handle_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = _SCOPE.search(self.headers.get("Authorization", ""))
                service = m["service"] if m else ""
                if service in outer.rules:
                    outer.hits[service] = outer.hits.get(service, 0) + 1
                    status, answer = outer.rules[service]
                    self._reply(status, {"Content-Type": "text/html; charset=utf-8"}, answer)
                    return
                conn = http.client.HTTPConnection(outer.moto.hostname or "127.0.0.1", outer.moto.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body or None, headers=dict(self.headers.items()))
                    got = conn.getresponse()
                    data = got.read()
                    skip = {"transfer-encoding", "connection", "content-length"}
                    self._reply(got.status, {k: v for k, v in got.getheaders() if k.lower() not in skip}, data)
                finally:
                    conn.close()

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hostile:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


HTML = (b"<!DOCTYPE html><html><head><title>Proxy login</title></head><body><p>" + BODY_SECRET.encode()
        + b"</p></body></html>")  # fmt: skip
RULES = {
    "sqs": (200, HTML),  # JSON protocol: botocore alone reads this as an empty listing
    "s3": (200, HTML),  # REST-XML: the same
    "sns": (200, b"<ListTopicsResponse><ListTopicsResult>" + BODY_SECRET.encode()),  # query: bad XML
    "iam": (400, b"garbage " + BODY_SECRET.encode()),  # query error that is no XML
    "logs": (403, b"garbage " + BODY_SECRET.encode()),  # JSON error that is no JSON: the body is the message
}
HOSTILE_TYPES = ("aws_sqs_queue", "aws_s3_bucket", "aws_sns_topic", "aws_iam_user", "aws_cloudwatch_log_group")


@pytest.fixture
def hostile_env(moto_url: str, tmp_path: Path) -> Iterator[tuple[Hostile, Path, str]]:
    """An account whose queue and bucket are declared in the state, scanned through the hostile endpoint."""
    acct = new_account()
    sess = account_session(moto_url, acct)
    sess.client("sqs", endpoint_url=moto_url).create_queue(QueueName="orders-prod")  # type: ignore[attr-defined]
    queue = queue_url(acct, "orders-prod")
    s3 = sess.client("s3", endpoint_url=moto_url)  # type: ignore[attr-defined]
    s3.create_bucket(Bucket=f"assets-{acct}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    (tmp_path / "production.tfstate").write_text(tf_state(
        tf_res("aws_sqs_queue", "orders", {"id": queue, "name": "orders-prod", "visibility_timeout_seconds": 30}),
        tf_res("aws_s3_bucket", "assets", {"id": f"assets-{acct}", "bucket": f"assets-{acct}"}),
    ))  # fmt: skip
    with Hostile(moto_url, RULES) as server:
        cfg = _include(write_config(tmp_path, server.url, {"production": acct}), *HOSTILE_TYPES)
        yield server, cfg, acct


def test_html_and_garbage_answers_are_gaps_never_deletions_and_never_echoed(
    hostile_env: tuple[Hostile, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, cfg, _ = hostile_env
    code = main(["drift", "production", "-c", str(cfg), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 2), err  # not 1: nothing crashed
    assert BODY_SECRET not in out + err and "body-secret" not in out + err and "Proxy login" not in out + err
    doc = json.loads(out)
    assert set(server.hits) == set(RULES)  # every broken service was asked
    assert [f for f in doc["findings"] if f["kind"] == "missing"] == []  # the declared queue and bucket stay
    cov = doc["coverage"]["production"]
    assert not cov["complete"]
    gaps = {g["type"]: g for g in cov["gaps"]}
    assert set(gaps) == set(HOSTILE_TYPES)
    assert all(g["kind"] == "failed" for g in gaps.values())
    reasons = {t: g["reason"] for t, g in gaps.items()}
    assert reasons["aws_sqs_queue"].startswith("UnexpectedResponse: ") and "HTML page" in reasons["aws_sqs_queue"]
    assert reasons["aws_s3_bucket"].startswith("UnexpectedResponse: ")
    assert reasons["aws_sns_topic"].startswith("ResponseParserError: ")
    assert reasons["aws_iam_user"].startswith("ResponseParserError: ")
    assert reasons["aws_cloudwatch_log_group"] == "ClientError (HTTP 403 Forbidden)"
    assert gaps["aws_sqs_queue"]["scope"] == "sqs.queues@eu-west-1"
    # --strict: coverage incomplete is exit 3, never a clean 0
    assert main(["drift", "production", "-c", str(cfg), "--strict"]) == 3
    out, err = capsys.readouterr()
    assert BODY_SECRET not in out + err


def test_a_gap_is_stored_without_the_body(
    hostile_env: tuple[Hostile, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, cfg, _ = hostile_env
    for fmt in ("table", "markdown", "json"):
        assert main(["scan", "-c", str(cfg), "--format", fmt]) in (0, 2)
        out, err = capsys.readouterr()
        assert "body-secret" not in out + err
    stored = _stored(cfg)
    assert stored and b"body-secret" not in stored


def test_an_unexpected_exception_in_a_listing_is_a_gap(
    moto_url: str, redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KeyError, TypeError, ...: whatever one listing raises is a gap for its types, and its text is not shown."""
    acct = new_account()
    account_session(moto_url, acct).client("sqs", endpoint_url=moto_url).create_queue(QueueName="q")  # type: ignore[attr-defined]
    original = AwsSession.client

    def boom(**_: Any) -> Any:
        raise KeyError(BODY_SECRET)

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        if region == "us-east-1":
            c.meta.events.register("before-call.sqs.ListQueues", boom, unique_id="boom")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    snap = run(aws_spec(moto_url, acct, resource_types={"include": ["aws_sqs_queue", "aws_sns_topic"]}), redactor)
    assert {r.name for r in snap.resources if r.type == "aws_sqs_queue"} == {"q"}  # eu-west-1 was listed
    (gap,) = snap.coverage.gaps
    assert (gap.type, gap.scope, gap.kind) == ("aws_sqs_queue", "sqs.queues@us-east-1", "failed")
    assert gap.reason.startswith("KeyError: ") and "body-secret" not in gap.reason
    assert "aws_sns_topic" in snap.coverage.listed


def test_a_region_that_does_not_exist_is_a_gap_for_that_region(moto_url: str, redactor: Redactor) -> None:
    """moto answers an unknown region with a 500 HTML page; botocore's parser error would print it."""
    acct = new_account()
    account_session(moto_url, acct).client("sns", endpoint_url=moto_url).create_topic(Name="t")  # type: ignore[attr-defined]
    snap = run(aws_spec(moto_url, acct, regions=["eu-west-1", "xx-fake-9"],
                        resource_types={"include": ["aws_sns_topic"]}), redactor)  # fmt: skip
    assert set(by_type(snap, "aws_sns_topic")) == {f"arn:aws:sns:eu-west-1:{acct}:t"}
    (gap,) = snap.coverage.gaps
    assert (gap.type, gap.scope, gap.kind) == ("aws_sns_topic", "sns.topics@xx-fake-9", "failed")
    assert gap.reason.startswith("ResponseParserError: ")
    assert "<" not in gap.reason and "html" not in gap.reason.lower()


# 3. Route 53 names: only octal escapes as Route 53 writes them are decoded -----------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("\\052.example.com.", "*.example.com"), ("a\\100b.example.com.", "a@b.example.com"),
     ("\\999.example.com.", "\\999.example.com"), ("x\\08y.example.com", "x\\08y.example.com"),
     ("\\400.example.com", "\\400.example.com"), ("\\377.Example.com", "\xff.example.com"),
     ("trailing\\", "trailing\\"), ("\\\\052", "\\*")],
)  # fmt: skip
def test_dns_name_decodes_only_octal_escapes(raw: str, decoded: str) -> None:
    assert dns_name(raw) == decoded


@given(st.text(alphabet=st.sampled_from("\\0123456789abz.*-_"), max_size=40) | st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_dns_name_never_raises(name: str) -> None:
    out = dns_name(name)
    assert isinstance(out, str)
    rid = record_native_id({"zone_id": "Z1", "type": "A", "fqdn": name})
    assert rid is None or rid.startswith("Z1_")


# 4. SNS subscription endpoints: the password of a URL's user information is hashed ---------------------------


def test_sns_endpoint_password_is_hashed(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sns = account_session(moto_url, acct).client("sns", endpoint_url=moto_url)  # type: ignore[attr-defined]
    topic = sns.create_topic(Name="hooks")["TopicArn"]
    password = f"pw-{uuid.uuid4().hex[:10]}"
    hook = f"https://alice:{password}@hooks.example.com/notify?token=tok-{password}"
    plain = f"https://bob:{password}x@hooks.example.com/plain"
    subs = {sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=e,
                          ReturnSubscriptionArn=True)["SubscriptionArn"]: e for e in (hook, plain)}  # fmt: skip
    snap = run(aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types={"include": ["aws_sns_*"]}), redactor)
    got = {arn: r.attributes["endpoint"] for arn, r in by_type(snap, "aws_sns_topic_subscription").items()}
    assert set(got) == set(subs)
    by_endpoint = {subs[arn]: endpoint for arn, endpoint in got.items()}
    assert by_endpoint[plain] == f"https://bob:{redactor.redact(password + 'x')}@hooks.example.com/plain"
    with_query = by_endpoint[hook]
    assert with_query.startswith(f"https://alice:{redactor.redact(password)}@hooks.example.com/notify?")
    assert is_redacted(with_query.split("?", 1)[1])
    assert password not in repr(snap.resources)


@pytest.mark.parametrize(
    "url",
    ["https://user:pa@ss@host.example.com/x", "postgres://app:s3cret@db/app", "https://user@host/x",
     "https://user:@host/x", "see https://u:p@h/x and ftp://a:b@c/", "no url here", "https://host/x?y=1"],
)  # fmt: skip
def test_url_password_rule_is_the_config_sources_rule(url: str, redactor: Redactor) -> None:
    """One rule for a URL's password wherever it is met: the config sources' embedded-text redaction."""
    from parity.sources.config.redaction import redact_text

    assert redact_url_passwords(url, redactor) == redact_text(url, redactor)


# 5. Region names in parity.yaml ----------------------------------------------------------------------------


def _aws_config(tmp_path: Path, regions: str) -> Path:
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(
        "environments:\n"
        "  production:\n"
        "    sources:\n"
        "      - kind: aws\n"
        "        role_arn: arn:aws:iam::123456789012:role/parity\n"
        f"        regions: {regions}\n"
    )
    return cfg


@pytest.mark.parametrize("bad", ['["EU WEST/1"]', "[eu-west-1, EU-WEST-1]", "[eu-west]", '["eu-west-1 "]',
                                 "[westeurope]", '[""]', "[eu_west_1]"])  # fmt: skip
def test_an_invalid_region_is_a_config_error_naming_file_and_line(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _aws_config(tmp_path, bad)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    msg = str(info.value)
    assert msg.startswith(f"{cfg}:6: environments.production.sources[0].regions[")
    assert "is not an AWS region name" in msg
    assert main(["scan", "-c", str(cfg)]) == 1
    assert "parity.yaml:6:" in capsys.readouterr().err


def test_an_invalid_region_in_a_block_list_names_its_own_line(tmp_path: Path) -> None:
    cfg = _aws_config(tmp_path, "\n          - eu-west-1\n          - us-east-1\n          - EU WEST/1")
    with pytest.raises(ConfigError, match=r"parity\.yaml:9: environments\.production\.sources\[0\]\.regions\[2\]: "):
        load_config(cfg)


def test_real_region_names_are_accepted(tmp_path: Path) -> None:
    regions = ["us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1", "ap-southeast-5",
               "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "il-central-1", "mx-central-1",
               "xx-fake-9"]  # fmt: skip
    loaded = load_config(_aws_config(tmp_path, json.dumps(regions)))
    assert loaded.config.environments["production"].sources[0].regions == regions  # type: ignore[union-attr]
    assert load_config(_aws_config(tmp_path, "all")).config.environments["production"].sources[0].regions == "all"  # type: ignore[union-attr]


# 6. The read-only rule as documented is the rule in the code ------------------------------------------------


def test_docs_list_exactly_the_guard_rule() -> None:
    text = (ROOT / "docs" / "aws.md").read_text()
    section = text.split("## Read-only, by construction", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", section))
    rule = set(guard.ALWAYS_ALLOWED) | set(guard.NEVER_ALLOWED) | set(guard._DECRYPT_FLAGS)
    assert rule | set(guard.READ_PREFIXES) <= named, f"missing from docs/aws.md: {sorted(rule - named)}"
    mentioned_only = {"GetFunctionConfiguration", "WithDecryption"}  # named in passing, not part of the rule
    stale = named - rule - set(guard.READ_PREFIXES) - mentioned_only
    assert not stale, f"docs/aws.md names calls the guard does not: {sorted(stale)}"
    # what the docs say is allowed is exactly the prefixes and the named exceptions
    assert "Allowed:" in section and "Refused" in section
    allowed_text = section.split("Allowed:", 1)[1].split("Refused", 1)[0]
    allowed = set(re.findall(r"`([A-Z][A-Za-z]+)`", allowed_text))
    assert allowed == set(guard.READ_PREFIXES) | set(guard.ALWAYS_ALLOWED)
