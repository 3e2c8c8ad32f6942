"""SNS topics and their subscriptions.

Topics: ``ListTopics`` gives ARNs (Terraform's id), ``GetTopicAttributes`` the policy, display name,
KMS key and delivery policy, ``ListTagsForResource`` the tags. Subscriptions: ``ListSubscriptions``
gives protocol, endpoint and topic; ``GetSubscriptionAttributes`` raw delivery and the filter policy.
Subscriptions still pending confirmation have no ARN yet (``PendingConfirmation``) and no Terraform id
to match: they are skipped. An http(s) endpoint may carry a token in its query string and a password in
its user information (``https://user:PASSWORD@host/``): the query string and the password are replaced
by keyed hashes (the password as everywhere else, :func:`parity.redact.redact_url_passwords`), so a
changed token or password shows and neither does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Json, Resource
from parity.redact import Redactor, redact_url_passwords
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_GONE = frozenset({"NotFound", "NotFoundException", "ResourceNotFoundException"})


def _topics(f: Fetch) -> Iterator[Resource]:
    import botocore.exceptions

    sns = f.client("sns")
    for page in f.pages(sns, "list_topics"):
        for t in page.get("Topics", []):
            arn = t["TopicArn"]
            try:
                a = sns.get_topic_attributes(TopicArn=arn).get("Attributes", {})
            except botocore.exceptions.ClientError as e:
                if e.response.get("Error", {}).get("Code") in _GONE:
                    continue  # deleted between the listing and the read
                raise
            tags = tags_from_list(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []))
            name = arn.rsplit(":", 1)[-1]
            attrs: dict[str, Json] = {
                "name": name,
                "display_name": a.get("DisplayName", ""),
                "policy": a.get("Policy", ""),
                "kms_master_key_id": a.get("KmsMasterKeyId", ""),
                "delivery_policy": a.get("DeliveryPolicy", ""),
                "fifo_topic": a.get("FifoTopic") == "true",
                "content_based_deduplication": a.get("ContentBasedDeduplication") == "true",
            }
            yield f.resource("aws_sns_topic", arn, name=name, arn=arn, attributes=attrs, tags=tags)


def redact_endpoint(protocol: Json, endpoint: Json, redactor: Redactor) -> Json:
    """An http(s) endpoint with the password of its user information and its query string (which may
    hold a token) replaced by keyed hashes."""
    if protocol not in ("http", "https") or not isinstance(endpoint, str):
        return endpoint
    endpoint = redact_url_passwords(endpoint, redactor)  # first: a "?" or "#" in a password is not a query
    parts = urlsplit(endpoint)
    if not parts.query:
        return endpoint
    return urlunsplit(parts._replace(query=redactor.redact(parts.query)))


def redact_subscription(attrs: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A subscription's attributes with its endpoint's secrets hashed: applied by every source (live and
    Terraform), so code and live compare marker with marker and a state's password is never printed."""
    endpoint = attrs.get("endpoint")
    hashed = redact_endpoint(attrs.get("protocol"), endpoint, redactor)
    return attrs if hashed == endpoint else {**attrs, "endpoint": hashed}


def _subscriptions(f: Fetch) -> Iterator[Resource]:
    import botocore.exceptions

    sns = f.client("sns")
    for page in f.pages(sns, "list_subscriptions"):
        for s in page.get("Subscriptions", []):
            arn = s.get("SubscriptionArn", "")
            if not arn.startswith("arn:"):
                continue  # PendingConfirmation / Deleted: no id yet
            try:
                a = sns.get_subscription_attributes(SubscriptionArn=arn).get("Attributes", {})
            except botocore.exceptions.ClientError as e:
                if e.response.get("Error", {}).get("Code") in _GONE:
                    continue
                raise
            protocol = s.get("Protocol", "")
            attrs: dict[str, Json] = {
                "topic_arn": s.get("TopicArn", ""),
                "protocol": protocol,
                "endpoint": redact_endpoint(protocol, s.get("Endpoint", ""), f.redactor),
                "raw_message_delivery": a.get("RawMessageDelivery") == "true",
                "filter_policy": a.get("FilterPolicy", ""),
                "filter_policy_scope": a.get("FilterPolicyScope", ""),
            }
            if a.get("RedrivePolicy"):
                attrs["redrive_policy"] = a["RedrivePolicy"]
            name = f"{str(attrs['topic_arn']).rsplit(':', 1)[-1]}:{protocol}"
            yield f.resource("aws_sns_topic_subscription", arn, name=name, arn=arn, attributes=attrs)


register(
    Lister(
        name="sns.topics",
        service="sns",
        calls=("sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource"),
        types=(
            AwsType(
                "aws_sns_topic",
                "SNS topics (policy, display name, KMS key, tags)",
                compared=("policy", "kms_master_key_id", "display_name", "tags"),
            ),
        ),
        fetch=_topics,
    )
)

register(
    Lister(
        name="sns.subscriptions",
        service="sns",
        calls=("sns:ListSubscriptions", "sns:GetSubscriptionAttributes"),
        types=(
            AwsType(
                "aws_sns_topic_subscription",
                "SNS subscriptions (protocol, endpoint with query and password hashed, filter)",
                compared=("protocol", "endpoint", "raw_message_delivery", "filter_policy"),
                parent=("aws_sns_topic", "topic_arn"),
                redact_values=redact_subscription,
            ),
        ),
        fetch=_subscriptions,
        notes="Subscriptions pending confirmation have no ARN and are not listed.",
    )
)
