"""Benchmark: parity's environment comparison vs parsing the inventories, and vs deepdiff.

DESIGN.md section 8: comparing two 100,000-resource environments must take at most 3x the time it
takes just to parse both inventories with orjson, and be at least 50x faster than a generic deep diff
(deepdiff) of the same data.

Run (one command, all ratios taken in one run):

    .venv/bin/python bench/bench_compare.py            # 10,000 and 100,000 resources per environment
    .venv/bin/python bench/bench_compare.py --sizes 10000 --deepdiff-limit 600

Each measurement runs in a fresh child process (so peak RSS is the measurement's own): the parent
generates the data, writes it as JSON under --workdir, and prints a table plus a JSON summary.

Data: a mix of Terraform-state-shaped AWS resources (S3 buckets, IAM roles with JSON-string policy
documents and inline policies, security groups with rule lists; ``null``/empty fields as real states
have them) and live Kubernetes Deployments (managedFields, status, server defaults), a few hundred
bytes to a few KB each. Names, ARNs and hostnames carry each environment's token, account id and
region. 1% of the pairs drift (an image tag, a CIDR, an added IAM action, a setting), plus a few
resources exist in one environment only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ENVS = {
    "staging": {"token": "staging", "account": "111122223333", "region": "eu-west-1"},
    "production": {"token": "prod", "account": "444455556666", "region": "eu-central-1"},
}


# --------------------------------------------------------------------------------------- data
def _policy(rnd: random.Random, acct: str, token: str, n: int) -> str:
    stmts = []
    for i in range(n):
        acts = rnd.sample(
            [
                "s3:GetObject",
                "s3:PutObject",
                "s3:ListBucket",
                "sqs:SendMessage",
                "kms:Decrypt",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "logs:PutLogEvents",
            ],
            rnd.randint(1, 4),
        )
        stmts.append(
            {
                "Sid": f"S{i}",
                "Effect": "Allow",
                "Action": acts[0] if len(acts) == 1 else acts,
                "Resource": [f"arn:aws:s3:::shop-{token}-data-{i}/*", f"arn:aws:sqs:{{region}}:{acct}:q-{token}-{i}"],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})


def _bucket(i: int, env: dict[str, str], rnd: random.Random, shared: random.Random) -> dict[str, Any]:
    t, a, r = env["token"], env["account"], env["region"]
    name = f"shop-{t}-bucket-{i}"
    attrs = {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "acl": None,
        "bucket_prefix": None,
        "bucket_domain_name": f"{name}.s3.amazonaws.com",
        "region": r,
        "force_destroy": False,
        "hosted_zone_id": "Z1BKCTXD74EZPE",
        "object_lock_enabled": False,
        "policy": "",
        "request_payer": "BucketOwner",
        "versioning": [{"enabled": True, "mfa_delete": False}],
        "server_side_encryption_configuration": [
            {
                "rule": [
                    {
                        "apply_server_side_encryption_by_default": [
                            {"kms_master_key_id": f"arn:aws:kms:{r}:{a}:key/abcd-{i}", "sse_algorithm": "aws:kms"}
                        ],
                        "bucket_key_enabled": True,
                    }
                ]
            }
        ],
        "lifecycle_rule": [
            {
                "id": "expire",
                "enabled": True,
                "prefix": "tmp/",
                "expiration": [{"days": 30}],
                "noncurrent_version_expiration": [],
            }
        ],
        "logging": [],
        "website": [],
        "cors_rule": [],
        "replication_configuration": [],
        "tags": {"Name": name, "env": t, "team": f"team-{i % 17}"},
        "tags_all": {"Name": name, "env": t, "team": f"team-{i % 17}"},
        "timeouts": None,
    }
    return {"type": "aws_s3_bucket", "id": name, "key": f"aws_s3_bucket.b{i}", "name": name, "attributes": attrs}


def _role(i: int, env: dict[str, str], rnd: random.Random, shared: random.Random) -> dict[str, Any]:
    t, a = env["token"], env["account"]
    name = f"shop-{t}-role-{i}"
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    attrs = {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{a}:role/{name}",
        "path": "/",
        "description": "",
        "assume_role_policy": trust,
        "create_date": f"2024-0{1 + i % 9}-1{i % 9}T10:00:00Z",
        "force_detach_policies": False,
        "max_session_duration": 3600,
        "name_prefix": None,
        "permissions_boundary": None,
        "unique_id": f"AROA{rnd.getrandbits(64):016X}",
        "inline_policy": [{"name": f"inline-{i}", "policy": _policy(shared, a, t, 1 + i % 3)}],
        "managed_policy_arns": [f"arn:aws:iam::{a}:policy/shop-{t}-base", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "tags": {"env": t},
        "tags_all": {"env": t},
    }
    return {"type": "aws_iam_role", "id": name, "key": f"aws_iam_role.r{i}", "name": name, "attributes": attrs}


def _sg(i: int, env: dict[str, str], rnd: random.Random, shared: random.Random) -> dict[str, Any]:
    t, a, r = env["token"], env["account"], env["region"]
    sid = f"sg-{rnd.getrandbits(68):017x}"

    def rule(port: int, cidrs: list[str]) -> dict[str, Any]:
        return {
            "cidr_blocks": cidrs,
            "description": f"port {port}",
            "from_port": port,
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "protocol": "tcp",
            "security_groups": [],
            "self": False,
            "to_port": port,
        }

    attrs = {
        "id": sid,
        "arn": f"arn:aws:ec2:{r}:{a}:security-group/{sid}",
        "name": f"shop-{t}-sg-{i}",
        "description": "Managed by Terraform",
        "owner_id": a,
        "revoke_rules_on_delete": False,
        "vpc_id": f"vpc-{rnd.getrandbits(32):08x}",
        "name_prefix": "",
        "ingress": [rule(p, [f"10.{i % 250}.{k}.0/24" for k in range(3)]) for p in (443, 8443, 5432)[: 1 + i % 3]],
        "egress": [rule(0, ["0.0.0.0/0"])],
        "tags": {"Name": f"shop-{t}-sg-{i}"},
        "tags_all": {"Name": f"shop-{t}-sg-{i}"},
        "timeouts": None,
    }
    return {
        "type": "aws_security_group",
        "id": sid,
        "key": f"aws_security_group.sg{i}",
        "name": f"shop-{t}-sg-{i}",
        "attributes": attrs,
    }


def _deployment(i: int, env: dict[str, str], rnd: random.Random, shared: random.Random) -> dict[str, Any]:
    t = env["token"]
    ns, name = f"shop-{t}", f"svc-{i}"
    container = {
        "name": "app",
        "image": f"registry.example.com/shop/svc-{i % 40}:1.{i % 7}.0",
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [
            {"name": "DATABASE_HOST", "value": f"db-{i % 20}.{t}.internal"},
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "REGION", "value": env["region"]},
            {"name": "API_TOKEN", "value": f"<redacted:{i * 7919 % 16**12:012x}>"},
        ],
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
    }
    obj = {
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"{rnd.getrandbits(128):032x}",
            "resourceVersion": str(rnd.getrandbits(24)),
            "generation": 1 + i % 5,
            "creationTimestamp": "2025-03-01T10:00:00Z",
            "labels": {"app": name, "env": t},
            "annotations": {
                "deployment.kubernetes.io/revision": str(1 + i % 9),
                "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"apps/v1"}',
            },
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2025-03-01T10:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {}}}}},
                }
            ],
        },
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": {"app": name}},
                "spec": {
                    "containers": [container],
                    "dnsPolicy": "ClusterFirst",
                    "restartPolicy": "Always",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
        "status": {
            "availableReplicas": 2,
            "readyReplicas": 2,
            "replicas": 2,
            "updatedReplicas": 2,
            "observedGeneration": 1 + i % 5,
            "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": "2025-03-01T10:00:00Z"}],
        },
    }
    return {
        "type": "apps/v1/Deployment",
        "id": f"{ns}/{name}",
        "key": f"apps/v1/Deployment/{ns}/{name}",
        "name": name,
        "attributes": obj,
    }


MAKERS = (_bucket, _role, _sg, _deployment)


def _drift(r: dict[str, Any]) -> None:
    a = r["attributes"]
    if r["type"] == "aws_s3_bucket":
        a["versioning"][0]["enabled"] = False
    elif r["type"] == "aws_iam_role":
        doc = json.loads(a["inline_policy"][0]["policy"])
        doc["Statement"][0]["Action"] = "*"
        a["inline_policy"][0]["policy"] = json.dumps(doc)
    elif r["type"] == "aws_security_group":
        a["ingress"][0]["cidr_blocks"].append("0.0.0.0/0")
    else:
        a["spec"]["template"]["spec"]["containers"][0]["image"] += "-hotfix"


def generate(n: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Two environments of ``n`` resources each; 1% of pairs drift, 0.1% exist on one side only."""
    out: dict[str, list[dict[str, Any]]] = {}
    drifted = set(random.Random(seed).sample(range(n), n // 100))
    only = set(random.Random(seed + 1).sample(range(n), max(1, n // 1000)))
    for env_name, env in ENVS.items():
        own = random.Random(seed + (0 if env_name == "staging" else 100))
        res = []
        for i in range(n):
            # content from a per-resource seed (the same in both environments), native ids from `own`
            r = MAKERS[i % len(MAKERS)](i, env, own, random.Random(seed * 1_000_003 + i))
            if env_name == "production":
                if i in drifted:
                    _drift(r)
                if i in only:
                    r["key"] += "-prod-only"
                    r["name"] = r["id"] = r["name"] + "-hotfix-only"
            res.append(r)
        out[env_name] = res
    return out


def next_scan(data: dict[str, list[dict[str, Any]]], seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """The same environments one scan later: 1% of resources changed in both (still equal to their mirror),
    and 0.1% more drifted in production only. Resources are modified in place (generate() data is not reused)."""
    n = len(data["staging"])
    both = random.Random(seed + 2).sample(range(n), max(1, n // 100))
    prod_only = random.Random(seed + 3).sample(range(n), max(1, n // 1000))
    for env, res in data.items():
        for i in both:
            res[i]["attributes"]["bench_revision"] = 2
        if env == "production":
            for i in prod_only:
                res[i]["attributes"]["bench_revision"] = 3
    return data


# ------------------------------------------------------------------------------- measurements
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(path: str) -> Any:
    # The cyclic GC is paused while parsing, in the baseline as in parity (parsed JSON has no cycles):
    # with it running, parsing 100k objects costs several times more (full collections over a growing heap).
    gc.disable()
    try:
        return orjson.loads(Path(path).read_bytes())
    finally:
        gc.enable()


def measure_parse(left: str, right: str) -> dict[str, Any]:
    t, c = time.perf_counter(), time.process_time()
    a, b = _load(left), _load(right)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    return {"seconds": dt, "cpu_seconds": dc, "items": len(a) + len(b), "peak_rss_mb": _rss_mb()}


def measure_parity(left: str, right: str) -> dict[str, Any]:
    """Full pipeline from raw inventories: parse + canonicalize + pair + diff."""
    return _parity(left, right, canonical_input=False)


def measure_parity_whole(left: str, right: str) -> dict[str, Any]:
    """(b) as parity read inventories until run L: each file parsed whole, then every resource canonicalised."""
    return _parity(left, right, canonical_input=False, whole=True)


def measure_stored(left: str, right: str) -> dict[str, Any]:
    """Compare of already canonical inventories (as the store holds them): parse + pair + diff. The comparison
    step by itself; commands collect afresh and canonicalise, as measure_parity times."""
    return _parity(left, right, canonical_input=True)


def measure_parity_warm(left: str, right: str) -> dict[str, Any]:
    """(b) one scan later in a long-running process (`parity watch`): the previous scan's files went through
    the memos first (untimed); then this scan's files, timed as in (b)."""
    return _parity(left, right, canonical_input=False, warm=True)


def measure_stored_warm(left: str, right: str) -> dict[str, Any]:
    """(b') one scan later, with the comparison memo of the previous scan's comparison."""
    return _parity(left, right, canonical_input=True, warm=True)


def previous_scan(path: str) -> str:
    return path.replace(".scan2", "")


def _rules() -> Any:
    from parity.compare import Rules

    return Rules(
        tokens={"staging": ("staging", "stg"), "production": ("prod", "production")},
        promotion=("staging", "production"),
        accounts={e: (v["account"],) for e, v in ENVS.items()},
    )


def _parity(left: str, right: str, canonical_input: bool, warm: bool = False, whole: bool = False) -> dict[str, Any]:
    import datetime as dtm

    from parity.compare import Inventory, find_cross_env_references, mirror_report
    from parity.jsonitems import array_items
    from parity.model import Resource, Snapshot
    from parity.normalize import canonical_attributes, canonicalize, default_kb
    from parity.pipeline import ScanMemo
    from parity.registry import type_info

    # One-off loads outside the timing, as the imports are: the noise KB (tens of ms) and the type registry
    # (importing every source's type declarations, ~0.3 s), which any parity command loads once.
    default_kb()
    type_info("aws_s3_bucket")
    rules = _rules()
    when = dtm.datetime(2026, 1, 1, tzinfo=dtm.UTC)
    # the memos parity watch keeps: none where the walks are compiled (parity.pipeline.ScanMemo)
    memo = ScanMemo() if warm else None
    canon_memo = memo.canonical if memo is not None and not canonical_input else None
    cmp_memo = memo.comparison if memo is not None else None
    times = {"parse": 0.0, "canon": 0.0}
    kb = default_kb()
    by_items = not (canonical_input or whole) and canon_memo is None

    def inventories(paths: tuple[str, str]) -> list[Inventory]:
        invs = []
        for env, path in zip(("staging", "production"), paths, strict=True):
            t = time.perf_counter()
            items = array_items(Path(path).read_bytes()) if by_items else None
            if items is not None:
                # As parity's terraform-state source reads a state (without a memo): each resource parsed by
                # itself, its attributes canonicalised before the next is parsed (parity.jsonitems), and the
                # resource made once. Parse and canonical walk are one phase here, under build/canonicalise.
                gc.disable()
                res = tuple(
                    Resource(
                        type=d["type"],
                        id=d["id"],
                        key=d["key"],
                        attributes=canonical_attributes(d["type"], d["attributes"], kb),
                        name=d["name"],
                    )
                    for d in items
                )
                del items
                snap = Snapshot(env, "bench", "terraform-state", "declared", when, res)
                times["canon"] += time.perf_counter() - t
                invs.append(Inventory(env, (snap,)))
                continue
            raw = _load(path)
            times["parse"] += time.perf_counter() - t
            t = time.perf_counter()
            gc.disable()  # as the store does when it loads an inventory: parsed data has no cycles
            res = tuple(
                Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"], name=d.get("name"))
                for d in raw
            )
            del raw
            snap = Snapshot(env, "bench", "terraform-state", "declared", when, res)
            if not canonical_input:
                snap = canonicalize(snap, memo=canon_memo)
            times["canon"] += time.perf_counter() - t
            invs.append(Inventory(env, (snap,)))
        return invs

    if warm:  # the previous scan, as the watcher ran it: fills the memos (not timed)
        mirror_report(*inventories((previous_scan(left), previous_scan(right))), rules, memo=cmp_memo)
        if canon_memo is not None:
            canon_memo.rotate()
        times["parse"] = times["canon"] = 0.0
        gc.enable()
        gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    invs = inventories((left, right))
    t_parse, t_canon = times["parse"], times["canon"]
    t = time.perf_counter()
    result = mirror_report(invs[0], invs[1], rules, memo=cmp_memo)
    t_compare = time.perf_counter() - t
    t = time.perf_counter()
    references = find_cross_env_references(invs, rules)  # as every command's analysis runs it after pairing
    t_references = time.perf_counter() - t
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    kinds: dict[str, int] = {}
    for f in result.findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    return {
        "seconds": total,
        "cpu_seconds": cpu,
        "parse_seconds": t_parse if not by_items else None,  # by items: inside canonicalize_seconds
        "canonicalize_seconds": t_canon,
        "pair_diff_seconds": t_compare,
        "references_seconds": t_references,
        "references": len(references),
        "pairs": result.pairs,
        "findings": kinds,
        "peak_rss_mb": _rss_mb(),
    }


def measure_deepdiff(left: str, right: str) -> dict[str, Any]:
    from deepdiff import DeepDiff

    t, c = time.perf_counter(), time.process_time()
    a = {d["key"]: d["attributes"] for d in _load(left)}
    b = {d["key"]: d["attributes"] for d in _load(right)}
    dd = DeepDiff(a, b)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    return {"seconds": dt, "cpu_seconds": dc, "report_keys": sorted(dd.keys()), "peak_rss_mb": _rss_mb()}


MEASURES = {
    "parse": measure_parse,
    "parity": measure_parity,
    "parity_whole": measure_parity_whole,
    "stored": measure_stored,
    "parity_warm": measure_parity_warm,
    "stored_warm": measure_stored_warm,
    "deepdiff": measure_deepdiff,
}


def write_canonical(src: Path, dst: Path) -> None:
    """The inventory as parity stores it: every resource canonicalized."""
    from parity.model import Resource
    from parity.normalize import canonical_attributes

    gc.disable()
    raw = orjson.loads(src.read_bytes())
    for d in raw:
        r = Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"])
        d["attributes"] = canonical_attributes(r.type, r.attributes)
    dst.write_bytes(orjson.dumps(raw))
    gc.enable()


_TOUCH = "b = bytearray({gb} << 30)\nfor i in range(0, len(b), 4096): b[i] = 1"
WARM_GB = 0  # set from --warm-memory


def _warm_memory() -> None:
    """Touch WARM_GB of memory in a short-lived process. On a virtual machine whose host takes back the
    memory the guest frees, a page fault on memory not touched lately costs about three times one on
    recycled memory (`bench/run breakdown`, part 5); parsing 100k resources takes ~250k faults, so
    without this a measurement's time depends on what ran before it."""
    if WARM_GB > 0:
        subprocess.run([sys.executable, "-c", _TOUCH.format(gb=WARM_GB)], check=True)


def _child(what: str, left: Path, right: Path, timeout: float | None) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    _warm_memory()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", what, str(left), str(right)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"{what} failed:\n{e.stderr}") from None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(sizes: list[int], workdir: Path, deepdiff_limit: float, repeat: int) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "runs": []}
    for n in sizes:
        data = generate(n)
        paths = []
        for env, res in data.items():
            p = workdir / f"{env}-{n}.json"
            p.write_bytes(orjson.dumps(res))
            paths.append(p)
        paths2 = []  # one scan later (see next_scan)
        for env, res in next_scan(data).items():
            p = workdir / f"{env}-{n}.scan2.json"
            p.write_bytes(orjson.dumps(res))
            paths2.append(p)
        del data
        gc.collect()
        canon = [p.with_name(p.stem + ".canonical.json") for p in paths]
        canon2 = [p.with_name(p.name.replace(".scan2.json", ".canonical.scan2.json")) for p in paths2]
        for p, c in zip(paths + paths2, canon + canon2, strict=True):
            write_canonical(p, c)
        mb = sum(p.stat().st_size for p in paths) / 1e6

        # Interleaved rounds: every measurement once per round, the fastest of each kept. A slow spell of
        # the (shared) machine then hits all measurements of a round alike, not the repeats of one of them.
        plan = {
            "parse": ("parse", paths),
            "parse_canon": ("parse", canon),
            "parity": ("parity", paths),
            "parity_whole": ("parity_whole", paths),
            "stored": ("stored", canon),
            "parse2": ("parse", paths2),
            "parse_canon2": ("parse", canon2),
            "parity_warm": ("parity_warm", paths2),
            "stored_warm": ("stored_warm", canon2),
        }
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in plan}
        for _ in range(repeat):
            for name, (what, files) in plan.items():
                got = _child(what, files[0], files[1], None)
                if got is not None:
                    runs[name].append(got)
        best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
        parse, parse_canon, parity, stored = best["parse"], best["parse_canon"], best["parity"], best["stored"]
        parity_whole = best["parity_whole"]
        parse2, parse_canon2 = best["parse2"], best["parse_canon2"]
        parity_warm, stored_warm = best["parity_warm"], best["stored_warm"]
        dd = _child("deepdiff", paths[0], paths[1], deepdiff_limit)
        row = {
            "resources_per_env": n,
            "json_mb_total": round(mb, 1),
            "parse": parse,
            "parse_canonical": parse_canon,
            "parity": parity,
            "parity_whole": parity_whole,
            "stored": stored,
            "deepdiff": dd if dd is not None else f"did not finish within {deepdiff_limit:.0f} s",
            "parse_next": parse2,
            "parse_canonical_next": parse_canon2,
            "parity_warm": parity_warm,
            "stored_warm": stored_warm,
            "parity_over_parse": parity["seconds"] / parse["seconds"],
            "parity_whole_over_parse": parity_whole["seconds"] / parse["seconds"],
            "stored_over_parse": stored["seconds"] / parse_canon["seconds"],
            "parity_warm_over_parse": parity_warm["seconds"] / parse2["seconds"],
            "stored_warm_over_parse": stored_warm["seconds"] / parse_canon2["seconds"],
            "deepdiff_over_parity": (dd["seconds"] / parity["seconds"]) if dd else None,
            "deepdiff_over_stored": (dd["seconds"] / stored["seconds"]) if dd else None,
            "deepdiff_over_parity_warm": (dd["seconds"] / parity_warm["seconds"]) if dd else None,
            "deepdiff_over_stored_warm": (dd["seconds"] / stored_warm["seconds"]) if dd else None,
            # CPU time of the same runs: less sensitive to other load on a shared machine
            "cpu_parity_over_parse": parity["cpu_seconds"] / parse["cpu_seconds"],
            "cpu_parity_whole_over_parse": parity_whole["cpu_seconds"] / parse["cpu_seconds"],
            "cpu_stored_over_parse": stored["cpu_seconds"] / parse_canon["cpu_seconds"],
            "cpu_parity_warm_over_parse": parity_warm["cpu_seconds"] / parse2["cpu_seconds"],
            "cpu_stored_warm_over_parse": stored_warm["cpu_seconds"] / parse_canon2["cpu_seconds"],
        }
        summary["runs"].append(row)
        _print_row(row)
    return summary


def _print_row(r: dict[str, Any]) -> None:
    p, q, s, pc = r["parse"], r["parity"], r["stored"], r["parse_canonical"]
    print(f"\n== {r['resources_per_env']:,} resources per environment ({r['json_mb_total']} MB of JSON in total)")
    print(f"  (a) orjson parse of both raw files  {p['seconds']:8.2f} s   peak RSS {p['peak_rss_mb']:7.0f} MB")
    print(f"  (b) parity, raw inventories         {q['seconds']:8.2f} s   peak RSS {q['peak_rss_mb']:7.0f} MB")
    print(
        f"        parse and canonicalize, one resource at a time {q['canonicalize_seconds']:.2f} s"
        f" + pair/diff {q['pair_diff_seconds']:.2f} s + references {q['references_seconds']:.2f} s;"
        f" {q['pairs']:,} pairs, findings {q['findings']}, cross-env references {q['references']}"
    )
    qw = r["parity_whole"]
    print(f"  (b, whole) each file parsed whole   {qw['seconds']:8.2f} s   peak RSS {qw['peak_rss_mb']:7.0f} MB")
    print(
        f"        parse {qw['parse_seconds']:.2f} s + build/canonicalize {qw['canonicalize_seconds']:.2f} s"
        f" + pair/diff {qw['pair_diff_seconds']:.2f} s + references {qw['references_seconds']:.2f} s;"
        f" findings {qw['findings']}"
    )
    print(f"  (a') orjson parse of both stored    {pc['seconds']:8.2f} s   (canonical form, as parity stores it)")
    print(f"  (b') parity, stored inventories     {s['seconds']:8.2f} s   peak RSS {s['peak_rss_mb']:7.0f} MB")
    print(
        f"        parse {s['parse_seconds']:.2f} s + build {s['canonicalize_seconds']:.2f} s"
        f" + pair/diff {s['pair_diff_seconds']:.2f} s + references {s['references_seconds']:.2f} s"
    )
    w, sw = r["parity_warm"], r["stored_warm"]
    print("  one scan later (1% of resources changed, 0.1% newly drifted), in one process after the previous scan,")
    print("  as `parity watch` runs it (with its memos where it keeps them: the Python walks only, ScanMemo):")
    print(
        f"  (a2) parse raw {r['parse_next']['seconds']:.2f} s, stored {r['parse_canonical_next']['seconds']:.2f} s;"
        f" (b2) parity raw {w['seconds']:.2f} s (peak RSS {w['peak_rss_mb']:.0f} MB),"
        f" stored {sw['seconds']:.2f} s (peak RSS {sw['peak_rss_mb']:.0f} MB)"
    )
    read = (
        f"parse {w['parse_seconds']:.2f} s + build/canonicalize {w['canonicalize_seconds']:.2f} s"
        if w["parse_seconds"] is not None
        else f"parse and canonicalize, one resource at a time {w['canonicalize_seconds']:.2f} s"
    )
    print(
        f"        raw: {read} + pair/diff {w['pair_diff_seconds']:.2f} s + references {w['references_seconds']:.2f} s;"
        f" findings {w['findings']}"
    )
    d = r["deepdiff"]
    if isinstance(d, dict):
        print(f"  (c) deepdiff of the same data       {d['seconds']:8.2f} s   peak RSS {d['peak_rss_mb']:7.0f} MB")
    else:
        print(f"  (c) deepdiff: {d}")
    print(
        f"  parity / parse  = {r['parity_over_parse']:.2f}x raw (b/a), {r['stored_over_parse']:.2f}x stored (b'/a')"
        "   (target <= 3x)"
    )
    print(f"  (CPU time: {r['cpu_parity_over_parse']:.2f}x raw, {r['cpu_stored_over_parse']:.2f}x stored)")
    print(
        f"  (b, whole)/a = {r['parity_whole_over_parse']:.2f}x (CPU time {r['cpu_parity_whole_over_parse']:.2f}x):"
        " the files parsed whole, then canonicalised, as before run L"
    )
    print(
        f"  one scan later: {r['parity_warm_over_parse']:.2f}x raw (b2/a2), {r['stored_warm_over_parse']:.2f}x stored"
        f"   (CPU time: {r['cpu_parity_warm_over_parse']:.2f}x raw, {r['cpu_stored_warm_over_parse']:.2f}x stored)"
    )
    if r["deepdiff_over_parity"]:
        print(
            f"  deepdiff / parity = {r['deepdiff_over_parity']:.0f}x raw, {r['deepdiff_over_stored']:.0f}x stored;"
            f" one scan later {r['deepdiff_over_parity_warm']:.0f}x raw, {r['deepdiff_over_stored_warm']:.0f}x stored"
            "   (target >= 50x)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated resources per environment")
    ap.add_argument("--workdir", default=".parity/bench", help="where the generated JSON files go")
    ap.add_argument("--deepdiff-limit", type=float, default=900.0, help="seconds before deepdiff is given up")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds of all measurements; fastest kept")
    ap.add_argument("--json", help="also write the summary as JSON to this file")
    ap.add_argument(
        "--warm-memory",
        type=int,
        default=0,
        metavar="GB",
        help="touch GB of memory in a short-lived process before each measurement (on a VM whose host "
        "reclaims freed memory; see docs/benchmarks.md); 0 = off",
    )
    ap.add_argument("--measure", nargs=3, metavar=("WHAT", "LEFT", "RIGHT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        what, left, right = args.measure
        print(json.dumps(MEASURES[what](left, right)))
        return
    global WARM_GB
    WARM_GB = args.warm_memory
    if WARM_GB:
        print(f"(each measurement after another process touched {WARM_GB} GB: --warm-memory)")
    summary = run([int(s) for s in args.sizes.split(",")], Path(args.workdir), args.deepdiff_limit, args.repeat)
    summary["warm_memory_gb"] = WARM_GB
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
