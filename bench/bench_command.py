"""Benchmark: a real `parity diff` of two Terraform states, end to end, against parsing the same files.

`bench/run compare` times the comparison engine on inventories it builds itself. This one runs what a user
runs: the `parity` command, in a new process, reading two Terraform state files through the
terraform-state source (addresses, sensitive values, secret-looking keys hashed), canonicalising,
comparing, scanning for cross-environment references and writing the JSON report. Next to it:

- (a) orjson parse of the two state files (a new process, the clock around the parse only);
- (s) the command's fixed start-up cost: an interpreter that imports what `parity diff` imports (the CLI,
  the pipeline with every source's types, the store, the report) and does nothing else;
- (b) `parity diff staging production --format json --output FILE`, wall and CPU time of the process;
- and, in one more process, the same steps timed one by one through the library (collect = read and
  canonicalise, analyse = pair, diff and references, render).

Data: the Terraform-shaped three quarters of `bench_compare.generate` (S3 buckets, IAM roles with JSON
policy documents, security groups; the Kubernetes quarter has no place in a state), 1% of pairs drifted,
0.1% in one environment only. Run: `bench/run command [--sizes 10000,100000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_compare import ENVS, generate  # bench/ is the script's folder, so on sys.path

CONFIG = """store: sqlite:///.parity/parity.db
environments:
  staging:
    accounts: ["{staging}"]
    sources: [{{kind: terraform-state, path: staging.tfstate}}]
  production:
    accounts: ["{production}"]
    sources: [{{kind: terraform-state, path: production.tfstate}}]
promotion: [staging, production]
"""


def write_states(n: int, workdir: Path) -> tuple[int, float]:
    """The two state files and parity.yaml under ``workdir``; (resources per state, MB written)."""
    data = generate(n)
    size = 0
    count = 0
    for env, records in data.items():
        resources = []
        for r in records:
            if not r["type"].startswith("aws_"):
                continue
            name = r["key"].split(".", 1)[1]
            resources.append(
                {
                    "mode": "managed",
                    "type": r["type"],
                    "name": name,
                    "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                    "instances": [{"schema_version": 0, "attributes": r["attributes"], "sensitive_attributes": []}],
                }
            )
        state = {"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": env, "outputs": {}}
        state["resources"] = resources
        text = json.dumps(state)
        (workdir / f"{env}.tfstate").write_text(text)
        size += len(text)
        count = len(resources)
    accounts = {env: v["account"] for env, v in ENVS.items()}
    (workdir / "parity.yaml").write_text(CONFIG.format(**accounts))
    return count, size / 1e6


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one child process, and its standard output."""
    cpu0, t = _child_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t, _child_cpu() - cpu0
    if proc.returncode not in (0, 2):  # 2: drift found, which this data has
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return wall, cpu, proc.stdout


PARSE = """
import gc, sys, time, orjson
t, c = time.perf_counter(), time.process_time()
gc.disable()
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        orjson.loads(f.read())
print(time.perf_counter() - t, time.process_time() - c)
"""

STARTUP = """
import parity.cli, parity.cli.compare_cmds, parity.pipeline, parity.store, parity.report, parity.alerts.payload
from parity.registry import type_info
type_info("aws_s3_bucket")
"""

PHASES = """
import json, sys, time
from parity.cli.common import redactor_for
from parity.config import load_config
from parity.pipeline import analyse, collect
from parity.registry import type_info
try:  # as the parity command does (commits before a9033d5 had no such step: A/B runs against them)
    from parity.gcpause import freeze_after_pauses
    freeze_after_pauses()
except ImportError:
    pass
type_info("aws_s3_bucket")
loaded = load_config("parity.yaml")
out = {}
t = time.process_time()
invs = collect(loaded, ["staging", "production"], redactor_for(loaded))
out["collect"] = time.process_time() - t
t = time.process_time()
a = analyse(loaded, invs, mirrors=[("staging", "production")])
out["analyse"] = time.process_time() - t
out["findings"] = len(a.findings)
print(json.dumps(out))
"""


def measure(n: int, workdir: Path, repeat: int) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    count, mb = write_states(n, workdir)
    py = sys.executable
    files = ["staging.tfstate", "production.tfstate"]  # the children run in workdir
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):  # interleaved rounds, the fastest of each kept (see bench_compare)
        for name, cmd in (
            ("parse", [py, "-c", PARSE, *files]),
            ("startup", [py, "-c", STARTUP]),
            ("diff", [py, "-m", "parity", "diff", "staging", "production", "--format", "json", "-o", "out.json"]),
        ):
            wall, cpu, out = timed(cmd, workdir)
            if name == "parse":  # the clock around the parse only, not the interpreter's start
                wall, cpu = (float(x) for x in out.split())
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    phases = json.loads(timed([py, "-c", PHASES], workdir)[2])
    report = json.loads((workdir / "out.json").read_text())
    return {
        "resources_per_env": count,
        "state_mb_total": round(mb, 1),
        "seconds": {k: v[0] for k, v in best.items()},
        "cpu_seconds": {k: v[1] for k, v in best.items()},
        "phases_cpu_seconds": phases,
        "findings": len(report["findings"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="resources generated per environment (3/4 in states)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=".parity/bench/command")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        r = measure(n, Path(args.workdir) / str(n), args.repeat)
        rows.append(r)
        s, c, p = r["seconds"], r["cpu_seconds"], r["phases_cpu_seconds"]
        print(f"\n== {r['resources_per_env']:,} resources per state ({r['state_mb_total']} MB of state in total)")
        print(f"  (a) orjson parse of both states          {s['parse']:7.2f} s  (CPU {c['parse']:.2f} s)")
        print(f"  (s) start-up: a diff's imports         {s['startup']:7.2f} s  (CPU {c['startup']:.2f} s)")
        print(f"  (b) `parity diff ... --format json`      {s['diff']:7.2f} s  (CPU {c['diff']:.2f} s)")
        print(
            f"      by phase (CPU, one more process): collect {p['collect']:.2f} s"
            f" + analyse {p['analyse']:.2f} s; {r['findings']} findings"
        )
        print(
            f"  b/a = {s['diff'] / s['parse']:.1f}x;  (b - s)/a = {(s['diff'] - s['startup']) / s['parse']:.1f}x"
            f"  (CPU {(c['diff'] - c['startup']) / c['parse']:.1f}x)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
