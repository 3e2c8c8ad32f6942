"""Where a comparison's time goes: the figures docs/benchmarks.md quotes beside the main benchmark.

    bench/run breakdown                 # 100,000 resources per environment (uses bench_compare's data)
    bench/run breakdown --size 10000

Three parts, each timed by CPU time in this one process (ratios within a part are what to read):

1. building resources: `Resource` as it is (frozen for the type checker only) against a frozen dataclass
   of the same fields, and `with_attributes` against `dataclasses.replace`;
2. a first comparison of the stored inventories, per phase (`mirror_report` with its steps wrapped);
3. placeholder substitution of one side, per pass, and the same passes as one alternation;
4. the two sides' substitution one after the other, in two processes (fork, the child's bytes back over a
   pipe), and in two threads with the ``regex`` module, which can release the GIL while it matches (wall
   time: what parallelism would buy on this machine);
5. parsing the raw inventories of a scan in a fresh process, again after a previous scan was parsed and
   canonicalised in the same process (wall, user and system time, minor page faults), and the latter once
   more right after another process touched 6 GB;
6. the compiled walks (``parity/normalize/_cwalk.c``) against the Python walks they port, on production's
   raw inventory: the canonical walk per resource type and in all, and the secret-keyed redaction walk,
   next to orjson's parse of the same file; then both sides' placeholder substitution with the two
   compiled passes against the regexes (CPU time, best of 3). ``--only walks`` runs this part alone;
7. on both sides' canonical inventories built from the raw files as the main benchmark's (b) builds them:
   which pairs are equal after placeholders, by serialising and substituting every comparable value (the
   exact test) against the paired walk of ``parity.compare.equal``; then one C string scan over each
   side's canonical values as canonicalisation leaves them and over the same values parsed again from their
   own JSON (what the walks after canonicalisation are bound by: reading objects from memory) (CPU time,
   best of 3). ``--only equality`` runs this part alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import os
import re
import resource
import subprocess
import sys
import threading
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

    for name in ("like_with_like", "pair_resources", "_comparables", "unsure_pairs", "diff"):
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


def _sides(invs: list[Inventory]) -> list[tuple[P.Placeholders, list[bytes]]]:
    """Each side's placeholders (the other's account foreign) and its comparable values, serialised."""
    kb = default_kb()
    out = []
    for inv, other in ((invs[0], invs[1]), (invs[1], invs[0])):
        env, oenv = bench_compare.ENVS[inv.environment], bench_compare.ENVS[other.environment]
        ph = P.Placeholders([env["token"]], [env["account"]], [oenv["account"]])
        out.append((ph, P.serialize_records(mirrors_mod._comparables(list(inv.resources()), kb))))
    return out


def _forked(sides: list[tuple[P.Placeholders, list[bytes]]]) -> tuple[float, float]:
    """Wall time of both sides' substitution with the second side in a forked child, and of the child's own."""
    t0 = time.perf_counter()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: substitute, send the bytes and the time it took, exit without cleanup
        os.close(rfd)
        t = time.perf_counter()
        data = b"\n".join(sides[1][0].sub_serialized(sides[1][1]))
        took = f"{time.perf_counter() - t:.6f}".encode()
        with os.fdopen(wfd, "wb") as f:
            f.write(took + b"\n" + data)
        os._exit(0)
    os.close(wfd)
    sides[0][0].sub_serialized(sides[0][1])
    with os.fdopen(rfd, "rb") as f:
        took, _, data = f.read().partition(b"\n")
    os.waitpid(pid, 0)
    data.split(b"\n")
    return time.perf_counter() - t0, float(took)


def _three_passes(ph: P.Placeholders, compile_: Callable[[bytes], Any]) -> list[tuple[Any, bytes]]:
    """The token, account and generated-id passes of ``ph``, compiled by ``compile_``."""
    steps = [(compile_(P._token_regex(g).pattern), b"{env}") for g, _ in ph._tok_groups or ()]
    if ph._acct_b is not None:
        steps.append((compile_(ph._acct_b.pattern), b"{account}"))
    steps.append((compile_(P._AWS_ID.pattern), b"-{id}"))
    return steps


def _run_passes(steps: list[tuple[Any, bytes]], records: list[bytes], **kw: Any) -> None:
    for i in range(0, len(records), 2000):
        data = b"\n".join(records[i : i + 2000])
        for pat, rep in steps:
            data = pat.sub(rep, data, **kw)


def _threaded_regex(sides: list[tuple[P.Placeholders, list[bytes]]]) -> tuple[float, float, float]:
    """Wall time of the token, account and id passes over both sides: with ``re`` one side after the other,
    with the ``regex`` module one side after the other and in two threads (``concurrent=True`` releases
    the GIL while matching)."""
    import regex  # a dependency of python-hcl2, not of parity's own code

    plain = [(_three_passes(ph, re.compile), recs) for ph, recs in sides]
    alt = [(_three_passes(ph, lambda p: regex.compile(p, flags=regex.V0)), recs) for ph, recs in sides]
    t = time.perf_counter()
    for steps, recs in plain:
        _run_passes(steps, recs)
    with_re = time.perf_counter() - t
    t = time.perf_counter()
    for steps, recs in alt:
        _run_passes(steps, recs, concurrent=True)
    serial = time.perf_counter() - t
    t = time.perf_counter()
    other = threading.Thread(target=_run_passes, args=alt[1], kwargs={"concurrent": True})
    other.start()
    _run_passes(*alt[0], concurrent=True)
    other.join()
    return with_re, serial, time.perf_counter() - t


def parallel(invs: list[Inventory]) -> None:
    print("4. both sides' placeholder substitution: serial against parallel (wall s, best of 3)")
    sides = _sides(invs)

    def serial() -> float:
        t = time.perf_counter()
        for ph, recs in sides:
            ph.sub_serialized(recs)
        return time.perf_counter() - t

    print(f"   one after the other           {min(serial() for _ in range(3)):.2f}")
    best = min(_forked(sides) for _ in range(3))
    print(f"   second side in a forked child {best[0]:.2f}   (the child's substitution alone {best[1]:.2f})")
    got = [_threaded_regex(sides) for _ in range(3)]
    print("   token, account and id passes only:")
    print(f"     re, one side after the other     {min(g[0] for g in got):.2f}")
    print(f"     regex, one side after the other  {min(g[1] for g in got):.2f}")
    print(f"     regex, two threads               {min(g[2] for g in got):.2f}")


def _parse_timed(path: Path) -> str:
    before, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    orjson.loads(path.read_bytes())
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (
        f"wall {time.perf_counter() - t:.2f} user {after.ru_utime - before.ru_utime:.2f} "
        f"sys {after.ru_stime - before.ru_stime:.2f} minor faults {after.ru_minflt - before.ru_minflt:,}"
    )


def reparse(size: int) -> None:
    print("5. parsing a scan's raw production inventory (s), in a new process each")
    work = Path(".parity/bench")
    nxt = [work / f"{env}-{size}.scan2.json" for env in ("staging", "production")]
    if not all(p.exists() for p in nxt):
        print("   (skipped: run `bench/run compare --sizes N` first; it writes the next scan's files)")
        return
    # The third line touches 6 GB in another process first: on a virtual machine whose host takes back
    # memory the guest freed, a page first touched again costs several times a recycled one.
    touch = "b = bytearray(6 << 30)\nfor i in range(0, len(b), 4096): b[i] = 1"
    for label, mode in (
        ("fresh process", "fresh"),
        ("after a previous scan", "previous"),
        ("the same, 6 GB touched", "touched"),
    ):
        if mode == "touched":
            subprocess.run([sys.executable, "-c", touch], check=True)
            mode = "previous"
        got = subprocess.run(
            [sys.executable, __file__, "--reparse", mode, "--size", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"   {label:22s} {got.stdout.strip()}")


def _reparse_child(mode: str, size: int) -> None:
    work = Path(".parity/bench")
    if mode == "previous":  # what parity watch holds between scans: the previous canonical inventory
        from parity.normalize import CanonicalMemo, canonicalize

        memo, kept = CanonicalMemo(), []
        for env in ("staging", "production"):
            res = tuple(
                Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"])
                for d in orjson.loads((work / f"{env}-{size}.json").read_bytes())
            )
            kept.append(canonicalize(Snapshot(env, "b", "terraform-state", "declared", WHEN, res), memo=memo))
    staging = orjson.loads((work / f"staging-{size}.scan2.json").read_bytes())  # parsed first, as parity does
    print(_parse_timed(work / f"production-{size}.scan2.json"))
    del staging


def walks(size: int) -> None:
    """Part 6: each walk over fresh copies of the parsed inventory (the C walk shares what it leaves alone)."""
    from parity import redact
    from parity.normalize import canonical

    print(f"6. the compiled walks against the Python ones, production's {size:,} raw resources (CPU s, best of 3)")
    path = Path(".parity/bench") / f"production-{size}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(bench_compare.generate(size)["production"]))
    data = path.read_bytes()
    native_walk = canonical.walker()
    native_redaction = redact._native_redaction()
    if native_walk is canonical._walk or native_redaction is None:
        print("   the C walks are not built here (or PARITY_PURE_PYTHON is set): nothing to compare")
        return
    kb = default_kb()

    def best(fn: Callable[[list[dict[str, Any]]], Any]) -> float:
        times = []
        for _ in range(3):
            raw = orjson.loads(data)
            t = time.process_time()
            fn(raw)
            times.append(time.process_time() - t)
        return min(times)

    def canon(walk: Callable[..., Any], only: str | None = None) -> Callable[[list[dict[str, Any]]], Any]:
        return lambda raw: [
            walk(d["attributes"], kb.for_type(d["type"]).canonical) for d in raw if only in (None, d["type"])
        ]

    print(f"   {'orjson parse of the file':34s} {cpu(lambda: orjson.loads(data)):.2f}")
    types = sorted({d["type"] for d in orjson.loads(data)})
    for label, only in [*((t, t) for t in types), ("canonical walk, every resource", None)]:
        py, c = best(canon(canonical._walk, only)), best(canon(native_walk, only))
        print(f"   {label:34s} Python {py:.2f}  C {c:.2f}  ({py / c:.1f}x)")
    red = redact.Redactor(b"k" * 32)

    def redaction(native: bool) -> Callable[[list[dict[str, Any]]], Any]:
        def run(raw: list[dict[str, Any]]) -> None:
            saved = redact._native_redaction
            redact._native_redaction = (lambda: native_redaction) if native else (lambda: None)  # type: ignore[method-assign]
            try:
                for d in raw:
                    redact.redact_secret_keys_in_place(d["attributes"], red)
            finally:
                redact._native_redaction = saved  # type: ignore[method-assign]

        return run

    py, c = best(redaction(False)), best(redaction(True))
    print(f"   {'secret-keyed redaction walk':34s} Python {py:.2f}  C {c:.2f}  ({py / c:.1f}x)")
    # the placeholder substitution of both sides' comparable values: the two compiled passes (generated ids,
    # ARN accounts) against their regexes, the other passes alike in both
    sides = _sides(inventories(size))
    compiled = P._passes

    def substitution(passes: Any) -> float:
        times = []
        for _ in range(3):
            P._passes = passes
            try:
                times.append(cpu(lambda: [ph.sub_serialized(records) for ph, records in sides]))
            finally:
                P._passes = compiled
        return min(times)

    py, c = substitution(lambda: (P._sub_ids_re, None)), substitution(compiled)
    print(f"   {'placeholder substitution, 2 sides':34s} regex {py:.2f}  C {c:.2f}  ({py / c:.1f}x)")


def equality(size: int) -> None:
    """Part 7: the paired walk against the serialisation and substitution it replaces, on (b)'s canonical data."""
    from parity.compare.envinfo import placeholders_for
    from parity.compare.equal import unsure_pairs
    from parity.compare.pairing import pair_resources
    from parity.compare.textscan import needles, values_holding
    from parity.jsonitems import array_items
    from parity.normalize import canonical_resource
    from parity.normalize.native import compiled

    print(f"7. which pairs are equal, {size:,} resources per side canonicalised from raw (CPU s, best of 3)")
    if compiled() is None:
        print("   the compiled part is not built here (or PARITY_PURE_PYTHON is set): nothing to compare")
        return
    work = Path(".parity/bench")
    if not (work / f"production-{size}.json").exists():
        inventories(size)  # writes the raw files too
    invs = []
    kb = default_kb()
    for env in ("staging", "production"):  # read as (b) reads them: each resource parsed and canonicalised in turn
        items = array_items((work / f"{env}-{size}.json").read_bytes())
        assert items is not None
        res = tuple(
            canonical_resource(
                Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"], name=d["name"]), kb
            )
            for d in items
        )
        invs.append(Inventory(env, (Snapshot(env, "b", "terraform-state", "declared", WHEN, res),)))
    rules = bench_compare._rules()
    ph_l, ph_r = placeholders_for(invs[0], rules, (invs[1],)), placeholders_for(invs[1], rules, (invs[0],))
    pairs = pair_resources(list(invs[0].resources()), list(invs[1].resources()), ph_l, ph_r).pairs
    vals_l = mirrors_mod._comparables([a for a, _ in pairs], kb)
    vals_r = mirrors_mod._comparables([b for _, b in pairs], kb)

    def serialised() -> list[int]:
        a, b = ph_l.sub_records(vals_l, sort_keys=False), ph_r.sub_records(vals_r, sort_keys=False)
        return [i for i in range(len(a)) if a[i] != b[i]]

    def best(fn: Callable[[], Any]) -> tuple[float, Any]:
        got = None
        times = []
        for _ in range(3):
            t = time.process_time()
            got = fn()
            times.append(time.process_time() - t)
        return min(times), got

    old, unequal_old = best(serialised)
    new, unequal_new = best(lambda: unsure_pairs(vals_l, vals_r, ph_l, ph_r))
    print(f"   {'pairs equal after placeholders':34s} serialised {old:.2f}  walk {new:.2f}  ({old / new:.1f}x)")
    print(f"   {'':34s} left for the exact test: {len(unequal_old):,} and {len(unequal_new):,} of {len(pairs):,}")
    # What the walks after canonicalisation are bound by: the same C string scan over each side's canonical
    # values as canonicalisation leaves them, and over the same values parsed again from their own JSON
    # (laid out as a fresh parse lays objects out)
    nothing = needles(["qqqq"], ["999999999999"])  # found nowhere: every string is read
    for inv in invs:
        values = [r.attributes for r in inv.resources()]
        compact = orjson.loads(orjson.dumps(values))
        here, _ = best(lambda values=values: values_holding(values, nothing))
        fresh, _ = best(lambda compact=compact: values_holding(compact, nothing))
        label = f"every string of {inv.environment}"
        print(f"   {label:34s} as canonicalised {here:.2f}  re-parsed {fresh:.2f}  ({here / fresh:.1f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="resources per environment")
    ap.add_argument("--reparse", choices=("fresh", "previous"), help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=("walks", "equality"), help="run one part alone: walks = 6, equality = 7")
    args = ap.parse_args()
    gc.disable()  # as in the main benchmark: the data holds no cycles
    if args.reparse:
        _reparse_child(args.reparse, args.size)
        return
    default_kb()
    type_info("aws_s3_bucket")
    if args.only == "walks":
        walks(args.size)
        return
    if args.only == "equality":
        equality(args.size)
        return
    building(200_000)
    invs = inventories(args.size)
    phases(invs)
    passes(invs[1])
    parallel(invs)
    reparse(args.size)
    walks(args.size)
    equality(args.size)


if __name__ == "__main__":
    main()
