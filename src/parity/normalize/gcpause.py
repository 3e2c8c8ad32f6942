"""Pausing Python's cyclic garbage collector around bulk work on acyclic data.

Building or walking hundreds of thousands of small dicts triggers the cyclic collector over and over,
and every full collection scans the whole (growing) heap: on inventories of 100k resources that costs
more than the work itself. Parsed JSON and canonical values hold no reference cycles, so reference
counting frees them; the collector is paused for the duration and restored afterwards (only if it
was enabled: nested pauses and callers that disabled it themselves are left alone).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
