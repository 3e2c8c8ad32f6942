"""Where a comparison's time goes: the figures docs/benchmarks.md quotes beside the main benchmark.

    bench/run breakdown                 # 100,000 resources per environment (uses bench_compare's data)
    bench/run breakdown --size 10000

Three parts, each timed by CPU time in this one process (ratios within a part are what to read):

1. building resources: `Resource` as it is (frozen for the type checker only) against a frozen dataclass
   of the same fields, and `with_attributes` against `dataclasses.replace`;
2. a first comparison of the stored inventories, per phase (`mirror_report` with its steps wrapped);
3. placeholder substitution of one side, per pass, and the same passes as one alternation.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_compare
from parity.compare import Inventory, mirror_report
from parity.compare import mirrors as mirrors_mod
from parity.model import Location, Resource, Snapshot
from parity.normalize import default_kb
from parity.normalize import placeholders as P
from parity.normalize.canonical import with_attributes
from parity.registry import type_info

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def cpu(fn: Callable[[], Any]) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


@dataclasses.dataclass(frozen=True, slots=True)
class FrozenResource:  # the fields of parity.model.Resource, as a frozen dataclass
    type: str
    id: str
    key: str
    attributes: Any = dataclasses.field(default_factory=dict)
    tags: Any = dataclasses.field(default_factory=dict)
    origin: str = ""
    owner: str = "none"
    name: str | None = None
    address: str | None = None
    location: Location | None = None


def building(n: int) -> None:
    print(f"1. building {n:,} resources (CPU s)")
    rows = [{"type": "t", "id": str(i), "key": str(i), "attributes": {}, "name": "n"} for i in range(n)]
    for cls in (FrozenResource, Resource):
        took = cpu(lambda cls=cls: [cls(type=d["type"], id=d["id"], key=d["key"], attributes={}) for d in rows])
        print(f"   {cls.__name__:16s} {took:.2f}")
    res = [Resource(type="t", id=str(i), key=str(i), attributes={"a": i}, name="n") for i in range(n)]
    print(f"   dataclasses.replace {cpu(lambda: [dataclasses.replace(r, attributes={}) for r in res]):.2f}")
    print(f"   with_attributes     {cpu(lambda: [with_attributes(r, {}) for r in res]):.2f}")


def inventories(size: int) -> list[Inventory]:
    work = Path(".parity/bench")
    paths = [work / f"{env}-{size}.canonical.json" for env in ("staging", "production")]
    if not all(p.exists() for p in paths):
        work.mkdir(parents=True, exist_ok=True)
        for env, res in bench_compare.generate(size).items():
            raw = work / f"{env}-{size}.json"
            raw.write_bytes(orjson.dumps(res))
            bench_compare.write_canonical(raw, raw.with_name(raw.stem + ".canonical.json"))
    out = []
    for env, path in zip(("staging", "production"), paths, strict=True):
        raw = orjson.loads(path.read_bytes())
        res = tuple(
            Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"], name=d.get("name"))
            for d in raw
        )
        out.append(Inventory(env, (Snapshot(env, "bench", "terraform-state", "declared", WHEN, res),)))
    return out


def phases(invs: list[Inventory]) -> None:
    print("2. first comparison of the stored inventories, per phase (CPU s)")
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - t

        return run

    for name in ("like_with_like", "pair_resources", "_comparables", "diff"):
        setattr(mirrors_mod, name, timed(name, getattr(mirrors_mod, name)))
    P.Placeholders.sub_records = timed("placeholder substitution", P.Placeholders.sub_records)  # type: ignore[method-assign]
    total = cpu(lambda: mirror_report(invs[0], invs[1], bench_compare._rules()))
    for name, took in spent.items():
        print(f"   {name:26s} {took:.2f}")
    print(f"   {'everything else':26s} {total - sum(spent.values()):.2f}")
    print(f"   {'total':26s} {total:.2f}")


def passes(inv: Inventory) -> None:
    print(f"3. placeholder substitution of {inv.environment}, per pass (CPU s)")
    vals = [dict(r.attributes) for r in inv.resources()]
    chunks = [b"\n".join(P.serialize_records(vals[i : i + 2000])) for i in range(0, len(vals), 2000)]
    print(f"   {sum(map(len, chunks)) / 1e6:.0f} MB of comparable JSON")
    env = bench_compare.ENVS[inv.environment]
    ph = P.Placeholders([env["token"]], [env["account"]])
    steps: list[tuple[str, Callable[[bytes], Any]]] = []
    for group, _led in ph._tok_groups or ():
        steps.append((f"tokens {group[0]}...", lambda d, g=group: P._token_regex(g).sub(b"{env}", d)))
    steps += [
        ("accounts", lambda d: ph._acct_b.sub(b"{account}", d) if ph._acct_b else d),
        ("finding regions", P.regions_in),
        ("regions", lambda d: P._region_regex((env["region"],)).sub(b"{region}", d)),
        ("generated ids", lambda d: P._AWS_ID.sub(b"-{id}", d)),
        ("ARN accounts", lambda d: ph._arn_b.sub(rb"\1{account}", d)),
        ("bytes.replace of the account", lambda d: d.replace(env["account"].encode(), b"{account}")),
    ]
    for name, fn in steps:
        print(f"   {name:30s} {cpu(lambda fn=fn: [fn(c) for c in chunks]):.2f}")
    tok = P.token_pattern([env["token"]])
    branches = (str(tok), P._account_pattern([env["account"]]), P._region_branches([env["region"]]))
    alternation = re.compile("|".join(f"({b})" for b in branches).encode())
    reps = (b"", b"{env}", b"{account}", b"{region}")
    took = cpu(lambda: [alternation.sub(lambda m: reps[m.lastindex or 0], c) for c in chunks])
    print(f"   {'tokens+accounts+regions as one alternation':30s} {took:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="resources per environment")
    args = ap.parse_args()
    gc.disable()  # as in the main benchmark: the data holds no cycles
    default_kb()
    type_info("aws_s3_bucket")
    building(200_000)
    invs = inventories(args.size)
    phases(invs)
    passes(invs[1])


if __name__ == "__main__":
    main()
