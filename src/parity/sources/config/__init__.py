"""The ``config`` source: configuration files read as settings (importing this registers the kind)."""

from parity.sources.config import collector as collector

__all__ = ["collector"]
