"""Benchmark: what the store costs per scan, and that a scan which found nothing new stores almost nothing.

DESIGN.md section 8: "a scan whose inventory did not change adds almost nothing to the database
(content-addressed resource versions); growth is proportional to change."

    bench/run store                      # 100,000 resources per environment, SQLite under .parity/bench/
    bench/run store --size 10000
    bench/run store --url postgresql+psycopg://localhost/benchdb   # an empty database: tables are created

The data is bench_compare's (two environments, Terraform-state-shaped AWS resources and Kubernetes
Deployments, 1% drift), canonicalised before the clock starts, as a scan does before it stores. Three
scans are recorded one after the other, each with ``Store.record_scan`` (one transaction):

1. the first scan of both environments;
2. the same inventories again (nothing changed);
3. one scan later: 1% of the resources changed in both environments and 0.1% more in production
   (bench_compare's ``next_scan``).

For each: wall time, rows added per table and bytes the database grew by (``Store.database_bytes``:
SQLite's used pages, PostgreSQL's total relation size of the store's tables). Then reading scan 3's inventories back
(``Store.snapshots``) against canonicalising the same raw inventories afresh: whether a memo of canonical
forms kept in the store could pay off across processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_compare
from parity.model import Resource, Snapshot
from parity.normalize import canonicalize, default_kb
from parity.registry import type_info
from parity.store import Store

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def snapshots(data: dict[str, list[dict[str, Any]]]) -> list[Snapshot]:
    """Raw (not yet canonical) snapshots of bench_compare data, one per environment."""
    out = []
    for env, rows in data.items():
        res = tuple(
            Resource(type=d["type"], id=d["id"], key=d["key"], attributes=d["attributes"], name=d.get("name"))
            for d in rows
        )
        out.append(Snapshot(env, "bench", "terraform-state", "declared", WHEN, res))
    return out


def record(store: Store, snaps: list[Snapshot]) -> dict[str, Any]:
    before_rows, before_bytes = store.storage_stats(), store.database_bytes()
    t = time.perf_counter()
    rec = store.record_scan(
        environments=[s.environment for s in snaps], snapshots=snaps, findings=[], started_at=WHEN, finished_at=WHEN
    )
    took = time.perf_counter() - t
    after_rows, after_bytes = store.storage_stats(), store.database_bytes()
    added = {k: after_rows[k] - before_rows.get(k, 0) for k in after_rows if after_rows[k] != before_rows.get(k, 0)}
    return {"scan_id": rec.scan_id, "seconds": took, "rows_added": added, "bytes_added": after_bytes - before_bytes}


def run(n: int, url: str) -> dict[str, Any]:
    default_kb()
    type_info("aws_s3_bucket")  # one-off loads, outside the timings (as in bench_compare)
    data = bench_compare.generate(n)
    gc.disable()  # parsed/generated data has no cycles; canonicalize and the store pause the GC themselves too
    first = [canonicalize(s) for s in snapshots(data)]
    data = bench_compare.next_scan(data)  # modifies the raw data in place; `first` holds canonical copies
    raw_later = snapshots(data)
    t = time.perf_counter()
    later = [canonicalize(s) for s in raw_later]
    canon_seconds = time.perf_counter() - t
    gc.enable()

    store = Store(url)
    store.migrate()
    try:
        if any(store.storage_stats()[k] for k in ("scans", "resource_versions")):
            raise SystemExit(f"{url} already holds scans: give an empty database")
        steps = {
            "first scan": record(store, first),
            "unchanged rescan": record(store, first),
            "1% changed rescan": record(store, later),
        }
        t = time.perf_counter()
        back = store.snapshots(steps["1% changed rescan"]["scan_id"])
        read_seconds = time.perf_counter() - t
        total_bytes = store.database_bytes()
    finally:
        store.close()
    resources = sum(len(s.resources) for s in later)
    assert sum(len(s.resources) for s in back) == resources
    return {
        "resources_per_env": n,
        "url": url.split("@")[-1],
        "steps": steps,
        "database_bytes": total_bytes,
        "read_back_seconds": read_seconds,
        "canonicalize_seconds": canon_seconds,
        "resources": resources,
    }


def show(r: dict[str, Any]) -> None:
    print(f"\n== store: {r['resources_per_env']:,} resources per environment ({r['url']})")
    for name, s in r["steps"].items():
        rows = ", ".join(f"{k} +{v:,}" for k, v in sorted(s["rows_added"].items()))
        print(f"  {name:18s} {s['seconds']:7.2f} s   {s['bytes_added'] / 1e3:10,.0f} KB   rows: {rows}")
    print(f"  database after three scans: {r['database_bytes'] / 1e6:.1f} MB")
    print(
        f"  reading the last scan's {r['resources']:,} resources back {r['read_back_seconds']:.2f} s;"
        f" canonicalising them afresh {r['canonicalize_seconds']:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="resources per environment")
    ap.add_argument("--url", help="store URL (default: a new SQLite file under --workdir)")
    ap.add_argument("--workdir", default=".parity/bench", help="where the default SQLite store goes")
    ap.add_argument("--json", help="also write the result as JSON to this file")
    args = ap.parse_args()
    url = args.url
    if url is None:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
        db = work / f"store-{args.size}.db"
        for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            p.unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    result = run(args.size, url)
    show(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
