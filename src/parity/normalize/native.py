"""The compiled hot loops (``_cwalk.c``): the canonical walk, the secret-keyed redaction walk and two
placeholder passes, each a port of Python that stays the reference (tests/test_cwalk.py holds them equal).

:func:`compiled` is the one place that decides whether they are used: not where the extension was not built
(no C compiler at install time), nor when ``PARITY_PURE_PYTHON`` is set (1, or anything but 0 and empty).
"""

from __future__ import annotations

import os
from types import ModuleType


def pure_python() -> bool:
    """``PARITY_PURE_PYTHON`` is set: the Python walks and passes only."""
    return os.environ.get("PARITY_PURE_PYTHON", "") not in ("", "0")


def compiled() -> ModuleType | None:
    """``parity.normalize._cwalk``, or None (see the module docstring). Callers cache what they take from it."""
    if pure_python():
        return None
    try:
        from parity.normalize import _cwalk
    except ImportError:
        return None
    return _cwalk
