"""Terraform declared sources: state files (``terraform-state``) and plan JSON (``terraform-plan``).

Importing the package registers both kinds (see :func:`parity.registry.source_kinds`).
"""

from parity.sources.terraform import plan, state

__all__ = ["plan", "state"]
