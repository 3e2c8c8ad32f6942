"""CI/CD pipeline definitions (importing this registers the ``pipeline`` source kind)."""

from parity.sources.pipeline import collector as collector

__all__ = ["collector"]
