"""SNS, CloudWatch Logs and EventBridge types against moto's server: created, listed by parity, compared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import CORPUS, account_session, new_account
from parity.model import Snapshot
from parity.redact import Redactor, is_redacted
from parity.registry import type_info
from test_aws_source import aws_spec, by_type, run

REGIONS = ("eu-west-1", "us-east-1")


def _clients(moto_url: str, acct: str, service: str) -> dict[str, Any]:
    sess = account_session(moto_url, acct)
    return {r: sess.client(service, endpoint_url=moto_url, region_name=r) for r in REGIONS}  # type: ignore[attr-defined]


def _collect(moto_url: str, acct: str, redactor: Redactor, *globs: str) -> Snapshot:
    return run(aws_spec(moto_url, acct, resource_types={"include": list(globs)}), redactor)


def test_sns_topics_and_subscriptions(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sns = _clients(moto_url, acct, "sns")
    s = sns["eu-west-1"]
    topic = s.create_topic(Name="user-updates", Attributes={"DisplayName": "Users"},
                           Tags=[{"Key": "app", "Value": "shop"}])["TopicArn"]  # fmt: skip
    sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    queue_url = sqs.create_queue(QueueName="user-updates-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    filt = json.dumps({"event": ["created"]})
    sub_attrs = {"RawMessageDelivery": "true", "FilterPolicy": filt}
    sub_sqs = s.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
                          Attributes=sub_attrs)["SubscriptionArn"]  # fmt: skip
    hook = "https://hooks.example.com/notify?token=tok-never-shown-42&x=1"
    sub_https = s.subscribe(TopicArn=topic, Protocol="https", Endpoint=hook,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]  # fmt: skip
    east = sns["us-east-1"].create_topic(Name="audit.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]

    snap = _collect(moto_url, acct, redactor, "aws_sns_*")
    topics = by_type(snap, "aws_sns_topic")
    assert set(topics) == {topic, east}  # Terraform's id is the ARN
    t = topics[topic]
    assert t.name == "user-updates" and t.key == topic and t.tags == {"app": "shop"}
    assert t.attributes["display_name"] == "Users"
    assert json.loads(t.attributes["policy"])["Statement"]  # the default policy, a JSON string
    assert topics[east].attributes["fifo_topic"] is True
    subs = by_type(snap, "aws_sns_topic_subscription")
    assert sub_https.startswith("arn:")  # moto confirms at once (AWS waits for the endpoint to confirm)
    assert set(subs) == {sub_sqs, sub_https}
    endpoint = subs[sub_https].attributes["endpoint"]
    assert endpoint.startswith("https://hooks.example.com/notify?") and "tok-never-shown-42" not in endpoint
    assert is_redacted(endpoint.split("?", 1)[1])
    assert "tok-never-shown-42" not in repr(snap.resources)
    a = subs[sub_sqs].attributes
    assert (a["protocol"], a["endpoint"], a["raw_message_delivery"], a["topic_arn"]) == ("sqs", queue_arn, True, topic)
    assert json.loads(a["filter_policy"]) == {"event": ["created"]}
    assert type_info("aws_sns_topic_subscription").parent == ("aws_sns_topic", "topic_arn")  # type: ignore[union-attr]


def test_sns_ids_match_the_corpus_states() -> None:
    """Terraform's ids for topics and subscriptions are their ARNs, which is what parity's ids are."""
    for tf_type in ("aws_sns_topic", "aws_sns_topic_subscription"):
        path = CORPUS / "terraform-states" / tf_type / "terraform.tfstate"
        if not path.exists():
            pytest.skip(f"corpus state not found at {path}")
        state = json.loads(path.read_text())
        attrs = [i["attributes"] for r in state["resources"] if r["type"] == tf_type for i in r["instances"]]
        assert attrs and all(a["id"] == a["arn"] for a in attrs)


def test_log_groups(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    logs = _clients(moto_url, acct, "logs")
    logs["eu-west-1"].create_log_group(logGroupName="/shop/prod/api", tags={"app": "shop"})
    logs["eu-west-1"].put_retention_policy(logGroupName="/shop/prod/api", retentionInDays=30)
    logs["us-east-1"].create_log_group(logGroupName="/aws/lambda/edge")

    snap = _collect(moto_url, acct, redactor, "aws_cloudwatch_log_group")
    groups = by_type(snap, "aws_cloudwatch_log_group")
    assert set(groups) == {"/shop/prod/api", "/aws/lambda/edge"}
    api = groups["/shop/prod/api"]
    assert api.attributes["retention_in_days"] == 30 and api.tags == {"app": "shop"}
    assert api.key == f"arn:aws:logs:eu-west-1:{acct}:log-group:/shop/prod/api"  # no ":*", as Terraform's arn
    lam = groups["/aws/lambda/edge"]
    assert lam.attributes["retention_in_days"] == 0 and lam.owner == "none"  # AWS-created, still the customer's


def test_event_rules_on_default_and_custom_buses(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    ev = _clients(moto_url, acct, "events")
    e = ev["eu-west-1"]
    pattern = json.dumps({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]})
    e.put_rule(Name="ec2-changes", EventPattern=pattern, Description="ec2", Tags=[{"Key": "app", "Value": "shop"}])
    e.create_event_bus(Name="orders")
    orders = json.dumps({"source": ["shop.orders"]})
    e.put_rule(Name="placed", EventBusName="orders", EventPattern=orders, State="DISABLED")
    e.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    ev["us-east-1"].put_rule(Name="east", ScheduleExpression="cron(0 12 * * ? *)")

    snap = _collect(moto_url, acct, redactor, "aws_cloudwatch_event_rule")
    rules = by_type(snap, "aws_cloudwatch_event_rule")
    assert set(rules) == {"ec2-changes", "nightly", "orders/placed", "east"}  # Terraform's ids
    r = rules["ec2-changes"]
    assert json.loads(r.attributes["event_pattern"]) == json.loads(pattern)
    assert r.attributes["event_bus_name"] == "default" and r.attributes["is_enabled"] is True
    assert r.tags == {"app": "shop"} and r.owner == "none" and r.name == "ec2-changes"
    assert rules["nightly"].attributes["schedule_expression"] == "rate(1 day)"
    p = rules["orders/placed"].attributes
    assert (p["event_bus_name"], p["state"], p["is_enabled"]) == ("orders", "DISABLED", False)
    assert rules["orders/placed"].key == f"arn:aws:events:eu-west-1:{acct}:rule/orders/placed"
    assert rules["east"].key.startswith("arn:aws:events:us-east-1:")


def test_event_rule_managed_by_a_service_is_aws_managed(moto_url: str, redactor: Redactor) -> None:
    """moto's PutRule takes no ManagedBy (only AWS services can set it): ListRules' answer is recorded."""
    from botocore.stub import Stubber

    from parity.sources.aws.spec import Fetch, listers

    acct = "123456789012"
    import boto3

    client = boto3.client("events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("list_event_buses", {"EventBuses": [{"Name": "default", "Arn": "arn:aws:events:::x"}]})
    managed = {"Name": "AutoScalingManagedRule", "Arn": f"arn:aws:events:eu-west-1:{acct}:rule/AutoScalingManagedRule",
               "EventPattern": "{}", "State": "ENABLED", "ManagedBy": "autoscaling.amazonaws.com",
               "EventBusName": "default"}  # fmt: skip
    stub.add_response("list_rules", {"Rules": [managed]})
    with stub:
        fetch = Fetch(acct, "eu-west-1", "aws", redactor, lambda _s, _r: client, ("eu-west-1",))
        (rule,) = listers()["events.rules"].fetch(fetch)
    stub.assert_no_pending_responses()  # no tag call for a managed rule
    assert rule.owner == "aws-managed" and rule.id == "AutoScalingManagedRule"
    assert rule.attributes["managed_by"] == "autoscaling.amazonaws.com"
