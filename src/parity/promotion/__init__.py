"""The promotion path: the artifact ledger per environment over time, and what it says about promotion.

Public API:

- :func:`ledger_for` -> :class:`Ledger`: every environment's artifacts from the store's history (and the scan
  being run, when given);
- :func:`analyse_promotion` -> ``(findings, notes)``: ``promotion_bypass`` and ``not_backported``
  (:mod:`.analysis`), called from :func:`parity.pipeline.analyse` with ``promotion=True``;
- :mod:`.artifacts`: what an artifact is, its slot, and when two are the same (the identity rules);
- :mod:`.check`: ``parity promote-check``'s judgement of artifacts about to be deployed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from parity.compare.types import Inventory
from parity.config import ParityConfig
from parity.normalize.placeholders import Placeholders
from parity.promotion.analysis import analyse_promotion
from parity.promotion.artifacts import Artifact, ImageRef, artifacts_of, may_hold_artifacts, parse_image
from parity.promotion.ledger import Ledger, Sighting, build_ledger
from parity.store import Store

__all__ = [
    "Artifact",
    "ImageRef",
    "Ledger",
    "Sighting",
    "analyse_promotion",
    "artifacts_of",
    "ledger_for",
    "parse_image",
    "placeholders",
]


def placeholders(config: ParityConfig, inventories: Mapping[str, Inventory] | None = None) -> dict[str, Placeholders]:
    """Per environment: its name tokens and account ids (configured, and learnt by the current scan's sources)."""
    out: dict[str, Placeholders] = {}
    for env, spec in config.environments.items():
        accounts = list(spec.accounts)
        inv = (inventories or {}).get(env)
        if inv is not None:
            accounts += inv.facts("accounts")
        out[env] = Placeholders(config.tokens_for(env), accounts)
    return out


def ledger_for(
    config: ParityConfig,
    store: Store | None,
    *,
    current: Mapping[str, Inventory] | None = None,
    environments: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> Ledger:
    """The ledger of ``environments`` (default: the promotion stages) from ``store``'s history, with the
    ``current`` inventories laid over it at ``now``. Without a store, the current inventories alone."""
    now = now or dt.datetime.now(dt.UTC)
    names = list(environments or config.promotion)
    ph = {e: p for e, p in placeholders(config, current).items() if e in names}
    history = {e: store.resource_history(e, may_hold_artifacts) for e in names} if store is not None else {}
    scans = {e: [t for _, t in store.environment_scans(e)] for e in names} if store is not None else {}
    kinds = frozenset(config.promotion_rules.artifacts)
    return build_ledger(ph, history=history, scans=scans, current=current, now=now, kinds=kinds)
