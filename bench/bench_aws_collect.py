"""Benchmark: collecting a live AWS inventory vs the bare paginated listing of the same inventory.

DESIGN.md section 8: "collect: total wall time within 1.5x of the bare paginated listing calls the same
inventory needs". Both run in one process against one moto server (over real HTTP on loopback), one
after the other, and the ratio is taken in that run:

- **bare**: plain boto3, one thread, exactly the calls the inventory needs (the paginated lists plus each
  object's describe/get calls), results thrown away;
- **parity**: the ``aws`` source as a scan runs it (guarded clients, listers, concurrency, coverage,
  Resource building, redaction), then ``canonicalize`` as the pipeline does.

API calls are counted on both sides with a botocore event hook. moto's server answers one request at a
time per connection and is the bottleneck of any timing against it, so parity's concurrency buys
little here; against AWS it overlaps network latency.

    .venv/bin/python bench/bench_aws_collect.py                 # 5,000 resources
    .venv/bin/python bench/bench_aws_collect.py --queues 500 --buckets 100
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.update(
    {
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)

import boto3
from moto.server import ThreadedMotoServer

from parity.config import AwsSource
from parity.normalize import canonicalize
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.aws.collector import collect
from parity.sources.aws.session import AwsSession

ACCOUNT = "123456789012"
REGIONS = ("eu-west-1", "us-east-1")


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self._lock:
            self.n += 1


def account_session(url: str) -> boto3.Session:
    sts = boto3.client("sts", endpoint_url=url)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bench", RoleSessionName="bench")["Credentials"]
    return boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                         aws_session_token=c["SessionToken"], region_name=REGIONS[0])  # fmt: skip


def seed(url: str, queues: int, buckets: int) -> int:
    sess = account_session(url)
    for region in REGIONS:
        sqs = sess.client("sqs", endpoint_url=url, region_name=region)
        for i in range(queues // len(REGIONS)):
            sqs.create_queue(QueueName=f"shop-prod-q{i:05d}", Attributes={"VisibilityTimeout": str(30 + i % 5)},
                             tags={"app": "shop", "n": str(i)})  # fmt: skip
    s3 = sess.client("s3", endpoint_url=url)
    for i in range(buckets):
        name = f"shop-prod-b{i:05d}"
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
        if i % 2:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "app", "Value": "shop"}]})
    # queues + per bucket: the bucket and its versioning resource
    return (queues // len(REGIONS)) * len(REGIONS) + 2 * buckets


_ABSENT = ("NoSuchBucketPolicy", "NoSuchTagSet", "NoSuchPublicAccessBlockConfiguration",
           "ServerSideEncryptionConfigurationNotFoundError")  # fmt: skip


def bare(url: str, counter: Counter) -> int:
    """The same inventory with plain boto3: every call the inventory needs, nothing else."""
    sess = account_session(url)
    seen = 0

    def client(service: str, region: str) -> Any:
        c = sess.client(service, endpoint_url=url, region_name=region)
        c.meta.events.register("before-send", counter)
        return c

    for region in REGIONS:
        sqs = client("sqs", region)
        for page in sqs.get_paginator("list_queues").paginate(MaxResults=1000):
            for q in page.get("QueueUrls", []):
                sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])
                sqs.list_queue_tags(QueueUrl=q)
                seen += 1
    s3 = client("s3", REGIONS[0])
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        s3.get_bucket_location(Bucket=name)
        s3.get_bucket_versioning(Bucket=name)
        for call in (s3.get_bucket_encryption, s3.get_public_access_block, s3.get_bucket_policy, s3.get_bucket_tagging):
            try:
                call(Bucket=name)
            except s3.exceptions.ClientError as e:
                if e.response["Error"]["Code"] not in _ABSENT:
                    raise
        seen += 2
    return seen


def with_parity(url: str, counter: Counter) -> int:
    original = AwsSession.client

    def counted(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        c.meta.events.register("before-send", counter, unique_id="bench-counter")
        return c

    AwsSession.client = counted  # type: ignore[method-assign]
    try:
        spec = AwsSource.model_validate({"kind": "aws", "regions": list(REGIONS), "endpoint_url": url,
                                         "role_arn": f"arn:aws:iam::{ACCOUNT}:role/parity",
                                         "resource_types": {"include": ["aws_sqs_queue", "aws_s3_*"]}})  # fmt: skip
        ctx = CollectContext(environment="production", source_name="aws", base_dir=Path("."),
                             redactor=Redactor(b"bench-key-0123456789abcdef"), role="live",
                             tokens={"production": ("prod", "production")})  # fmt: skip
        (snap,) = collect(spec, ctx)
        snap = canonicalize(snap)
        return len(snap.resources)
    finally:
        AwsSession.client = original  # type: ignore[method-assign]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queues", type=int, default=3000)
    ap.add_argument("--buckets", type=int, default=1000)
    args = ap.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        t = time.perf_counter()
        expected = seed(url, args.queues, args.buckets)
        print(f"seeded {expected} resources in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        results = {}
        for name, fn in (("bare", bare), ("parity", with_parity), ("bare (again)", bare)):
            counter = Counter()
            t = time.perf_counter()
            n = fn(url, counter)
            results[name] = (time.perf_counter() - t, counter.n, n)
        bare_t = min(results["bare"][0], results["bare (again)"][0])
        print("\n| run | wall time | API calls | resources |\n|---|---|---|---|")
        for name, (secs, calls, n) in results.items():
            print(f"| {name} | {secs:.2f} s | {calls} | {n} |")
        ratio = results["parity"][0] / bare_t
        print(
            f"\nparity / bare (faster bare run): {ratio:.2f}x (budget: 1.5x) -> {'met' if ratio <= 1.5 else 'NOT met'}"
        )
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
