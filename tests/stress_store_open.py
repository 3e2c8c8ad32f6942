"""Open a new SQLite store from several threads at once, many times; report how many rounds failed.

    .venv/bin/python tests/stress_store_open.py [ROUNDS] [THREADS]     # default 100 rounds of 4

Run by hand (not collected by pytest: its name does not start with ``test_``). Before the switch to WAL
waited out other connections (``parity.store.engine._wal``), 4 rounds in 100 failed with "database is
locked"; the suite's ``test_concurrent_first_migrations`` runs one round (:func:`open_at_once`).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import traceback

from parity.store import Store


def open_at_once(url: str, threads: int) -> list[str]:
    """Open the store at ``url`` from ``threads`` threads at once (each: open, migrate, close); the
    tracebacks of those that failed."""
    errors: list[str] = []

    def run() -> None:
        try:
            s = Store(url)
            s.migrate()
            s.close()
        except BaseException:  # reported by the caller
            errors.append(traceback.format_exc())

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return errors


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    failed = 0
    for _ in range(rounds):
        errors = open_at_once(f"sqlite:///{tempfile.mkdtemp()}/parity.db", threads)
        if errors:
            failed += 1
            if failed == 1:
                print(errors[0], file=sys.stderr)
    print(f"{failed} of {rounds} rounds failed ({threads} threads opening a new store)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
