"""The live ``aws`` source: guarded read-only sessions, one lister per service listing, coverage gaps.

Importing the package registers the source kind and every resource type under :mod:`.types`.
"""

from parity.sources.aws import collector
from parity.sources.aws.spec import listers

listers()

__all__ = ["collector"]
