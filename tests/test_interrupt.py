"""A stop signal never cuts a store transaction short: it is held until the transaction ends (parity.interrupt).

The watcher abandons a scan by raising from its SIGTERM handler; cut inside the driver, a transaction could
leave SQLite's write lock held. These tests send a real signal to this process inside a transaction."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from parity.interrupt import set_hook, shielded, shielded_now
from parity.store import Store
from parity.store.tables import store_lock


class Stop(BaseException):
    pass


@pytest.fixture
def watcher_like() -> Iterator[list[int]]:
    """A SIGUSR1 handler and hook that behave as the watcher's: raise at once unless shielded, else later."""
    asked: list[int] = []
    raised: list[bool] = []  # the watcher abandons once: it stops being interruptible when it raises

    def handler(signum: int, _frame: object) -> None:
        asked.append(signum)
        if not shielded_now():
            raised.append(True)
            raise Stop

    def hook() -> None:
        if asked and not raised:
            raised.append(True)
            raise Stop

    old = signal.signal(signal.SIGUSR1, handler)
    set_hook(hook)
    try:
        yield asked
    finally:
        set_hook(None)
        signal.signal(signal.SIGUSR1, old)


def counter(store: Store) -> int:
    with store._read() as conn:
        return int(conn.execute(sa.select(store_lock.c.counter)).scalar_one())


def test_a_signal_inside_a_write_lands_after_the_commit(tmp_path: Path, watcher_like: list[int]) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.migrate()
    before = counter(store)
    went_on = []
    with pytest.raises(Stop), store._write() as conn:
        os.kill(os.getpid(), signal.SIGUSR1)  # handled at the next bytecode: inside the transaction
        went_on.append(True)
        conn.execute(sa.update(store_lock).values(counter=store_lock.c.counter + 1))
    assert watcher_like == [signal.SIGUSR1] and went_on == [True]
    assert counter(store) == before + 1  # committed whole; and the next transaction did not wait for a lock
    other = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with other._write() as conn:
        conn.execute(sa.update(store_lock).values(counter=store_lock.c.counter + 1))
    assert counter(other) == before + 2
    store.close()
    other.close()


def test_outside_a_transaction_the_signal_stops_at_once(watcher_like: list[int]) -> None:
    went_on = []
    with pytest.raises(Stop):
        os.kill(os.getpid(), signal.SIGUSR1)
        went_on.append(True)
    assert went_on == []


def test_shields_nest_and_only_the_main_threads_outermost_exit_runs_the_hook() -> None:
    calls: list[str] = []
    set_hook(lambda: calls.append(threading.current_thread().name))
    try:
        with shielded():
            with shielded():
                assert shielded_now()
            assert calls == []  # the inner block's end is still inside the outer one
        assert calls == [threading.main_thread().name] and not shielded_now()

        def other() -> None:
            with shielded():
                pass

        t = threading.Thread(target=other, name="heartbeat")
        t.start()
        t.join()
        assert calls == [threading.main_thread().name]  # not called from the other thread
    finally:
        set_hook(None)
