"""Secret redaction for Kubernetes objects.

On top of the generic rules (:mod:`parity.sources.config.redaction`: secret-looking keys anywhere,
``env`` items ``{name, value}`` whose name looks secret, ``KEY=value`` lines inside strings):

- a ``v1/Secret`` has every value of ``data`` and ``stringData`` replaced (keys kept); ``stringData``
  is first folded into ``data`` base64-encoded, as the API server stores it, so a manifest written
  with ``stringData`` compares equal to one (or a live object) holding the same value in ``data``;
- the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, a JSON copy of the object,
  is redacted whole on a Secret and otherwise parsed, redacted by the same rules and re-serialised
  (so an ``env`` value inside it does not leak while the annotation stays comparable);
- ``secretName``/``secretNamespace`` and ``imagePullSecrets`` name Secret objects, not their content: kept.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from parity.model import Json
from parity.redact import Redactor
from parity.sources.config.redaction import redact_tree

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
KEEP_KEYS = frozenset({"secretName", "secretNamespace", "imagePullSecrets"})


def _is_secret(api_version: Json, kind: Json) -> bool:
    return bool(api_version == "v1" and kind == "Secret")


def redact_object(obj: dict[str, Json], redactor: Redactor) -> dict[str, Json]:
    """A copy of a whole Kubernetes object (with apiVersion and kind) with secret values redacted."""
    secret = _is_secret(obj.get("apiVersion"), obj.get("kind"))
    work: dict[str, Any] = dict(obj)
    if secret:
        _fold_string_data(work)
        for field in ("data", "stringData"):
            values = work.get(field)
            if isinstance(values, dict):
                work[field] = {k: redactor.redact(v) for k, v in values.items()}
            elif values is not None:
                work[field] = redactor.redact(values)
    meta = work.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations = dict(annotations)
        annotations[LAST_APPLIED] = _last_applied(annotations[LAST_APPLIED], secret, redactor)
        work["metadata"] = {**meta, "annotations": annotations}
    out = redact_tree(work, redactor, keep=KEEP_KEYS)
    assert isinstance(out, dict)
    return out


def _fold_string_data(work: dict[str, Any]) -> None:
    """``stringData`` merged into ``data`` (a value in both: ``stringData``'s wins), as the API server does."""
    plain, encoded = work.get("stringData"), work.get("data")
    if not isinstance(plain, dict) or not all(isinstance(v, str) for v in plain.values()):
        return  # a wrong shape is left as written (and redacted whole below)
    if encoded is not None and not isinstance(encoded, dict):
        return
    merged = dict(encoded or {})
    merged.update({k: base64.b64encode(v.encode()).decode() for k, v in plain.items()})
    work["data"] = merged
    del work["stringData"]


def _last_applied(value: Json, secret: bool, redactor: Redactor) -> Json:
    if secret or not isinstance(value, str):
        return redactor.redact(value)
    try:
        embedded = json.loads(value)
    except (ValueError, RecursionError):  # not JSON, or nested past what can be walked: hide it whole
        return redactor.redact(value)
    if not isinstance(embedded, dict):
        return redactor.redact(value)
    try:
        cleaned = redact_object(embedded, redactor)
        return json.dumps(cleaned, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        return redactor.redact(value)
