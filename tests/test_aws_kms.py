"""KMS types against moto's server, two regions: keys with rotation, policy, tags and state; aliases; AWS
managed keys; the corpus states recreated (key ids rewritten to the new keys) compare clean code-vs-live."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, account_session, new_account
from parity.compare import Inventory, Rules, compare_code_live
from parity.config import TerraformStateSource
from parity.normalize import canonicalize
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.aws.session import AwsSession
from parity.sources.terraform.state import collect_state
from test_aws_source import aws_spec, by_type, run

STATES = CORPUS / "terraform-states"


def kms_client(moto_url: str, acct: str, region: str) -> Any:
    return account_session(moto_url, acct, region).client("kms", endpoint_url=moto_url)  # type: ignore[attr-defined]


def kms_only(moto_url: str, acct: str, **kw: Any) -> Any:
    return aws_spec(moto_url, acct, resource_types={"include": ["aws_kms_*"]}, **kw)


def test_keys_and_aliases_in_two_regions(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    west, east = kms_client(moto_url, acct, "eu-west-1"), kms_client(moto_url, acct, "us-east-1")
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "root", "Effect": "Allow", "Action": "kms:*",
              "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Resource": "*"}]}  # fmt: skip
    orders = west.create_key(Description="orders", Policy=json.dumps(policy),
                             Tags=[{"TagKey": "app", "TagValue": "shop"}])["KeyMetadata"]  # fmt: skip
    west.enable_key_rotation(KeyId=orders["KeyId"])
    west.create_alias(AliasName="alias/shop-prod-orders", TargetKeyId=orders["KeyId"])
    west.create_alias(AliasName="alias/zz-second", TargetKeyId=orders["KeyId"])
    signing = east.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048", Description="sign")["KeyMetadata"]
    east.disable_key(KeyId=signing["KeyId"])
    doomed = east.create_key(Description="old")["KeyMetadata"]
    east.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)

    snap = run(kms_only(moto_url, acct), redactor)
    assert snap.coverage.complete, snap.coverage.gaps
    keys = by_type(snap, "aws_kms_key")
    assert set(keys) == {orders["KeyId"], signing["KeyId"], doomed["KeyId"]}
    o = keys[orders["KeyId"]]
    assert o.name == "shop-prod-orders" and o.key == orders["Arn"] and o.owner == "none"
    assert o.tags == {"app": "shop"} and json.loads(o.attributes["policy"]) == policy
    assert (o.attributes["description"], o.attributes["enable_key_rotation"], o.attributes["is_enabled"]) == (
        "orders", True, True)  # fmt: skip
    s = keys[signing["KeyId"]].attributes
    assert (s["key_usage"], s["customer_master_key_spec"], s["is_enabled"]) == ("SIGN_VERIFY", "RSA_2048", False)
    assert s["enable_key_rotation"] is False and keys[signing["KeyId"]].name == signing["KeyId"]
    assert keys[doomed["KeyId"]].attributes["key_state"] == "PendingDeletion"
    assert keys[doomed["KeyId"]].key.startswith(f"arn:aws:kms:us-east-1:{acct}:key/")

    aliases = by_type(snap, "aws_kms_alias")
    assert set(aliases) == {"alias/shop-prod-orders", "alias/zz-second"}  # moto's alias/aws/* are not listed
    a = aliases["alias/shop-prod-orders"]
    assert a.attributes["target_key_id"] == orders["KeyId"] and a.attributes["target_key_arn"] == orders["Arn"]
    assert a.key == f"arn:aws:kms:eu-west-1:{acct}:alias/shop-prod-orders"


def test_aws_managed_keys_are_marked_and_not_read_further(
    moto_url: str, redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto makes every key with KeyManager CUSTOMER: the DescribeKey answer is edited by an after-call
    hook on parity's own client to say AWS, as the service says for ``aws/ebs``."""
    acct = new_account()
    west = kms_client(moto_url, acct, "eu-west-1")
    ebs = west.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]  # moto creates the default key
    calls: list[str] = []

    def as_aws(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("KeyMetadata", {}).get("KeyId") == ebs:
            parsed["KeyMetadata"]["KeyManager"] = "AWS"

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if params.get("KeyId") == ebs:
            calls.append(model.name)

    original = AwsSession.client

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        if service == "kms":
            c.meta.events.register("after-call.kms.DescribeKey", as_aws, unique_id="test-aws-managed")
            c.meta.events.register("before-parameter-build.kms", record, unique_id="test-record")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    snap = run(kms_only(moto_url, acct, regions=["eu-west-1"]), redactor)
    key = by_type(snap, "aws_kms_key")[ebs]
    assert key.owner == "aws-managed" and key.name == "aws/ebs"
    assert calls == ["DescribeKey"]  # no rotation, policy or tag reads for AWS's own key
    assert "policy" not in key.attributes and not by_type(snap, "aws_kms_alias")


def _recreate(state_text: str, acct: str, kms: Any) -> str:
    """Create in moto the keys (and aliases) a state declares; the state text rewritten to the new key ids."""
    text = state_text.replace("047081014315", acct)
    raw = json.loads(text)
    new_ids: dict[str, str] = {}
    for r in raw["resources"]:
        for i in r["instances"]:
            a = i["attributes"]
            if r["type"] == "aws_kms_key":
                made = kms.create_key(Description=a["description"], KeyUsage=a["key_usage"],
                                      KeySpec=a["customer_master_key_spec"], Policy=a["policy"],
                                      Tags=[{"TagKey": k, "TagValue": v} for k, v in a["tags"].items()])  # fmt: skip
                new_ids[a["id"]] = made["KeyMetadata"]["KeyId"]
                if not a["is_enabled"]:
                    kms.disable_key(KeyId=new_ids[a["id"]])
            elif r["type"] == "aws_kms_alias":
                old = a["target_key_id"]
                if old not in new_ids:
                    new_ids[old] = kms.create_key()["KeyMetadata"]["KeyId"]
                kms.create_alias(AliasName=a["id"], TargetKeyId=new_ids[old])
    for old, new in new_ids.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("case", ["aws_kms_key", "aws_kms_alias"])
def test_a_corpus_state_recreated_live_compares_clean(case: str, moto_url: str, redactor: Redactor,
                                                      tmp_path: Path) -> None:  # fmt: skip
    src = STATES / case / "terraform.tfstate"
    if not src.exists():
        pytest.skip(f"corpus state not found at {src}")
    acct = new_account()
    state = tmp_path / "terraform.tfstate"
    state.write_text(_recreate(src.read_text(), acct, kms_client(moto_url, acct, "eu-west-3")))
    ctx = CollectContext(environment="staging", source_name="tf", base_dir=tmp_path, redactor=redactor,
                         role="declared", tokens={})  # fmt: skip
    (declared,) = collect_state(TerraformStateSource(kind="terraform-state", path=str(state)), ctx)
    live = run(kms_only(moto_url, acct, regions=["eu-west-3"]), redactor)
    result = compare_code_live(Inventory("staging", tuple(canonicalize(s) for s in (declared, live))),
                               Rules(tokens={}))  # fmt: skip
    about = [(f.kind, f.message, f.changes) for f in result.findings if f.type == case]
    assert about == []
    declared_ids = {r.id for r in declared.resources}
    assert declared_ids == set(by_type(live, case))  # Terraform's id is the live id, no mapping
    assert all(re.fullmatch(r"[0-9a-f-]{36}|alias/.+", i) for i in declared_ids)


def test_rotation_and_description_drift_are_changes(moto_url: str, redactor: Redactor, tmp_path: Path) -> None:
    src = STATES / "aws_kms_key" / "terraform.tfstate"
    if not src.exists():
        pytest.skip(f"corpus state not found at {src}")
    acct = new_account()
    kms = kms_client(moto_url, acct, "eu-west-3")
    text = _recreate(src.read_text(), acct, kms)
    raw = json.loads(text)
    key = next(i["attributes"] for r in raw["resources"] for i in r["instances"] if i["attributes"]["is_enabled"]
               and i["attributes"]["key_usage"] == "ENCRYPT_DECRYPT")  # fmt: skip
    key["enable_key_rotation"] = True  # the code says rotate; live, nobody turned it on
    (tmp_path / "terraform.tfstate").write_text(json.dumps(raw))
    kms.update_key_description(KeyId=key["id"], Description="edited in the console")
    ctx = CollectContext(environment="staging", source_name="tf", base_dir=tmp_path, redactor=redactor,
                         role="declared", tokens={})  # fmt: skip
    (declared,) = collect_state(
        TerraformStateSource(kind="terraform-state", path=str(tmp_path / "terraform.tfstate")), ctx
    )
    live = run(kms_only(moto_url, acct, regions=["eu-west-3"]), redactor)
    result = compare_code_live(Inventory("staging", tuple(canonicalize(s) for s in (declared, live))),
                               Rules(tokens={}))  # fmt: skip
    (changed,) = [f for f in result.findings if f.type == "aws_kms_key"]
    assert changed.kind == "changed" and changed.resources == {"staging": key["id"]}
    assert {c.path.split(".")[0].split("[")[0] for c in changed.changes} == {"enable_key_rotation", "description"}
