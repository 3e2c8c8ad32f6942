"""Kubernetes sources (importing this registers ``kubernetes-manifests``)."""

from parity.sources.kubernetes import manifests as manifests

__all__ = ["manifests"]
