"""Where a stop asked for by a signal may cut work short, and where it must wait.

``parity watch`` abandons a scan on SIGTERM by raising an exception from its signal handler, which Python
delivers in the main thread between any two bytecodes. Most of a scan (reading files, listing an API,
comparing) can be left at any point: nothing outside the process sees it. A database transaction cannot: cut
between ``BEGIN`` and ``COMMIT``/``ROLLBACK`` inside the driver or SQLAlchemy's pool, a connection can be left
holding SQLite's write lock with nothing to release it, and the next write of the same process then waits
for the lock until its busy timeout. So every store transaction runs :func:`shielded`: a signal arriving
inside only records the stop, and when the outermost shielded block of the main thread ends, the hook the
watcher registered (:func:`set_hook`) is called there, at a safe point, to raise.

Shielding is per thread (the watcher's lease heartbeat writes from another thread) and nests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["set_hook", "shielded", "shielded_now"]

_local = threading.local()
_hook: Callable[[], None] | None = None


def shielded_now() -> bool:
    """True while the calling thread is inside a :func:`shielded` block."""
    return getattr(_local, "depth", 0) > 0


@contextmanager
def shielded() -> Iterator[None]:
    """A block a signal must not cut short; on leaving the outermost one, the main thread runs the hook."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1
    hook = _hook
    if hook is not None and _local.depth == 0 and threading.current_thread() is threading.main_thread():
        hook()  # may raise (the watcher's Shutdown): the block itself has ended


def set_hook(hook: Callable[[], None] | None) -> None:
    """What leaving a shielded block calls in the main thread (None: nothing)."""
    global _hook
    _hook = hook
