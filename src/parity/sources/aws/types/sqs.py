"""SQS queues."""

from __future__ import annotations

from collections.abc import Iterator

from parity.model import Resource
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_INT_ATTRS = {
    "VisibilityTimeout": "visibility_timeout_seconds",
    "MessageRetentionPeriod": "message_retention_seconds",
    "DelaySeconds": "delay_seconds",
    "MaximumMessageSize": "max_message_size",
    "ReceiveMessageWaitTimeSeconds": "receive_wait_time_seconds",
}


def _queues(f: Fetch) -> Iterator[Resource]:
    sqs = f.client("sqs")
    # Without MaxResults, ListQueues answers at most 1,000 queues and no NextToken: paginate explicitly.
    for page in f.pages(sqs, "list_queues", MaxResults=1000):
        for url in page.get("QueueUrls", []):
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) or {}
            out: dict[str, object] = {tf: int(attrs[api]) for api, tf in _INT_ATTRS.items() if api in attrs}
            out["name"] = url.rsplit("/", 1)[-1]
            out["fifo_queue"] = attrs.get("FifoQueue") == "true"
            out["sqs_managed_sse_enabled"] = attrs.get("SqsManagedSseEnabled") == "true"
            if attrs.get("KmsMasterKeyId"):
                out["kms_master_key_id"] = attrs["KmsMasterKeyId"]
            for api, tf in (("Policy", "policy"), ("RedrivePolicy", "redrive_policy")):
                if attrs.get(api):
                    out[tf] = attrs[api]
            # Terraform's id for a queue is its URL. Built from region, account and name (what AWS answers)
            # rather than taken as given, so an endpoint_url (LocalStack, moto) gives the same ids as AWS.
            queue_id = f"https://sqs.{f.region}.amazonaws.com/{f.account}/{out['name']}"
            yield f.resource("aws_sqs_queue", queue_id, name=str(out["name"]), arn=attrs.get("QueueArn"),
                             attributes=out, tags=tags)  # fmt: skip


register(
    Lister(
        name="sqs.queues",
        service="sqs",
        calls=("sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        types=(
            AwsType(
                "aws_sqs_queue",
                "SQS queues (attributes, policy, redrive policy, tags)",
                compared=(
                    "visibility_timeout_seconds",
                    "message_retention_seconds",
                    "delay_seconds",
                    "max_message_size",
                    "receive_wait_time_seconds",
                    "fifo_queue",
                    "kms_master_key_id",
                    "policy",
                    "redrive_policy",
                    "tags",
                ),
            ),
        ),
        fetch=_queues,
    )
)
