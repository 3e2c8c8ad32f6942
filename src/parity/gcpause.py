"""Pausing Python's cyclic garbage collector around bulk work on acyclic data.

Building or walking hundreds of thousands of small dicts triggers the cyclic collector over and over,
and every full collection scans the whole (growing) heap: on inventories of 100k resources that costs
more than the work itself. Parsed JSON and canonical values hold no reference cycles, so reference
counting frees them; the collector is paused for the duration and restored afterwards (only if it
was enabled: nested pauses and callers that disabled it themselves are left alone).

A one-shot process (a CLI command) also asks for :func:`freeze_after_pauses`: at the end of each pause,
everything alive is moved out of the collector's sight (``gc.freeze``). The inventories built in a pause
live until the command ends anyway, and otherwise the collections after it traverse those millions of
objects again and again (about a fifth of a command's CPU time on a 20,000-resource state). What is
frozen is never collected, so a long-running process (``parity watch``) must not ask for it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_freeze_after = False


def freeze_after_pauses(on: bool = True) -> None:
    """Freeze what is alive at the end of every pause from now on (see the module docstring); off again
    with ``on=False``, which also hands everything frozen back to the collector."""
    global _freeze_after
    _freeze_after = on
    if not on:
        gc.unfreeze()


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _freeze_after:
            gc.freeze()
        if was_enabled:
            gc.enable()
