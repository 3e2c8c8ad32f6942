"""Stress: stop `parity watch` with SIGTERM at random moments and report any stop that hangs.

Not part of the test suite (a few seconds per round); run by hand after touching the watcher or the store:

    .venv/bin/python tests/stress_watch_stop.py 40        # 40 rounds, seed 3
    .venv/bin/python tests/stress_watch_stop.py 40 11     # another seed

Each round copies greenflash with 500 extra config files (scans of about a second), starts a watcher
(every 1s), waits a random 0-3 s, sends SIGTERM and expects an exit within 8 s. A watcher that hangs gets
SIGABRT, so its log shows every thread's stack (PYTHONFAULTHANDLER), which is printed. Exit 1 on a hang.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_watch import EXAMPLE, EXE, configure, slow_down, wait_for


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            demo = Path(tmp) / f"g{i}"
            shutil.copytree(EXAMPLE, demo)
            slow_down(demo)
            cfg = configure(demo, "watch: {default: {every: 1s}}\n")
            log = Path(tmp) / f"w{i}.log"
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
            with log.open("w") as err:
                cmd = [str(EXE), "watch", "-c", str(cfg)]
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
            wait_for(lambda log=log: "watching" in log.read_text(), 30, "the watcher to start")
            delay = rnd.uniform(0, 3)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGABRT)
                proc.wait(timeout=10)
                print(f"round {i}: stopped {delay:.2f} s after start: HUNG\n{log.read_text()}")
                return 1
            print(f"round {i}: stopped {delay:.2f} s after start: exit {code}", flush=True)
            shutil.rmtree(demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
