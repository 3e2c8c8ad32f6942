"""The live ``aws`` source: guarded read-only sessions, one lister per service listing, coverage gaps.

Importing the package registers the source kind and every resource type under :mod:`.types`, and loads
neither boto3 nor botocore: every command that collects imports it (:func:`parity.registry.source_kinds`),
with an AWS source or not, so they are imported by the code that calls AWS.
"""

from parity.sources.aws import collector
from parity.sources.aws.spec import listers

listers()

__all__ = ["collector"]
