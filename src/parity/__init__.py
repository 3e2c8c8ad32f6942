"""parity: keep environments that should mirror each other in parity, and what is deployed in line with code."""

__version__ = "0.1.0"
