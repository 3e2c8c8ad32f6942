"""The ``kubernetes-manifests`` source: objects declared in YAML/JSON manifests.

Reads multi-document YAML (raw manifests, rendered kustomize or helm output, ``kubectl get -o yaml``
exports) and JSON; ``List`` and ``*List`` documents are expanded into their items. A folder holding
a kustomization is rendered with ``kubectl kustomize`` when ``kustomize`` is true, or "auto" and
kubectl is installed. With "auto" and no kubectl, its files are read as they are and the coverage
records an "unsupported" gap: the objects seen may lack the overlay's patches, prefixes and
namespace, so the comparison must not be taken as complete (``--strict`` exits 3) — but the base
objects are still worth comparing, which refusing the folder outright would lose.

Identity rules (relied on by pairing and by the live Kubernetes source):

- ``type`` = ``{apiVersion}/{kind}`` (``apps/v1/Deployment``, ``v1/ConfigMap``);
- namespace = ``metadata.namespace``, else the source's ``namespace`` option, else ``default``;
  cluster-scoped kinds (:mod:`.scopes`, by API group and kind, plus the kinds a CustomResourceDefinition
  read by the same source declares ``scope: Cluster``) have the namespace ``""``;
- ``key`` = ``{type}/{namespace or "_"}/{name}``; ``id`` = ``{namespace}/{name}``, or ``name`` when
  cluster-scoped; ``name`` = ``metadata.name``; ``tags`` = ``metadata.labels``;
- ``owner`` = ``helm`` (label ``app.kubernetes.io/managed-by: Helm`` or annotation
  ``meta.helm.sh/release-name``); ``kubernetes`` when ``metadata.ownerReferences`` names a controller
  (a ReplicaSet of a Deployment: Kubernetes made it); else ``none`` (nobody known manages it, so a live
  object of this kind with no declaration is ``unmanaged``).

One object is one group, kind, namespace and name: declaring it twice, even under two versions of its
group (``apps/v1`` and ``apps/v1beta2``), is an error. Not read as objects: ``generateName`` documents
without a ``name`` (each create makes a new object), and in declared manifests Helm hooks that do not
stay in the cluster (``helm.sh/hook: test``, or a delete policy with ``hook-succeeded``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from parity.config import KubernetesManifestsSource
from parity.errors import InputError
from parity.model import Coverage, CoverageGap, Json, Location, Resource, Snapshot
from parity.registry import CollectContext, register_source
from parity.sources import files
from parity.sources.config.yamlio import json_document, yaml_documents
from parity.sources.kubernetes.redaction import redact_object
from parity.sources.kubernetes.scopes import api_group, crd_scopes, is_cluster_scoped

KIND = "kubernetes-manifests"
SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_TIMEOUT_S = 120
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
HELM_HOOK_DELETE_ANNOTATION = "helm.sh/hook-delete-policy"
HELM_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
# kubectl's log header on error lines: `E1126 10:52:18.719623   21571 run.go:72] `
_KLOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")


@dataclass(frozen=True)
class Document:
    """One object as read, with where it was read from."""

    obj: Json
    shown: str  # the file (or rendered folder) shown in messages and locations
    line: int | None


def _documents(text: str, shown: str, is_json: bool) -> Iterator[Document]:
    if is_json:
        yield Document(json_document(text, shown, unique_keys=True), shown, 1)
        return
    for line, data in yaml_documents(text, shown):
        yield Document(data, shown, line)


def _expand_lists(doc: Document) -> Iterator[Document]:
    """A ``List``/``*List`` document's items (inheriting apiVersion/kind from a typed list), else itself.

    A list inside a list is expanded too, as kubectl does (``kubectl get -o yaml`` of several lists)."""
    stack = [doc.obj]
    while stack:
        obj = stack.pop()
        kind = obj.get("kind") if isinstance(obj, dict) else None
        items = obj.get("items") if isinstance(obj, dict) else None
        if not (isinstance(obj, dict) and isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
            yield Document(obj, doc.shown, doc.line)
            continue
        expanded: list[Json] = []
        for item in items:
            if isinstance(item, dict) and kind != "List":
                item = {"apiVersion": obj.get("apiVersion"), "kind": kind[: -len("List")], **item}
            expanded.append(item)
        stack.extend(reversed(expanded))  # file order


def _kustomization(folder: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def render_kustomization(folder: Path, shown: str) -> str:
    """``kubectl kustomize FOLDER`` output, or InputError naming the folder and kubectl's complaint."""
    try:
        proc = subprocess.run(
            ["kubectl", "kustomize", str(folder)],
            capture_output=True,
            text=True,
            timeout=KUSTOMIZE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(shown, "kustomize rendering needs kubectl, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(shown, f"kubectl kustomize took over {KUSTOMIZE_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        first = next((ln.strip() for ln in proc.stderr.splitlines() if ln.strip()), f"exit {proc.returncode}")
        first = _KLOG_PREFIX.sub("", first)
        raise InputError(shown, f"kubectl kustomize failed: {first}")
    return proc.stdout


def _use_kubectl(setting: bool | str) -> bool:
    if setting is True:
        return True
    return setting == "auto" and shutil.which("kubectl") is not None


def read_documents(spec: KubernetesManifestsSource, ctx: CollectContext) -> tuple[list[Document], Coverage]:
    """Every document the source names (kustomizations rendered where configured) and its coverage."""
    specs = [spec.path] if isinstance(spec.path, str) else list(spec.path)
    docs: list[Document] = []
    listed: list[str] = []
    gaps: list[CoverageGap] = []
    raw_specs: list[str] = []
    for s in specs:
        folder = ctx.resolve(s)
        kfile = _kustomization(folder) if folder.is_dir() and not any(c in s for c in "*?[") else None
        if kfile is None:
            raw_specs.append(s)
            continue
        shown = files.display(folder, ctx.base_dir)
        if _use_kubectl(spec.kustomize):
            ctx.report(f"kubectl kustomize {shown}")
            text = render_kustomization(folder, shown)
            # lines of the rendered output point nowhere a user can open: locations name the kustomization
            rendered = _documents(text, files.display(kfile, ctx.base_dir), is_json=False)
            docs.extend(Document(d.obj, d.shown, None) for d in rendered)
            listed.append(shown)
            continue
        if spec.kustomize == "auto":
            gaps.append(
                CoverageGap(scope=shown, reason="kustomization not rendered: kubectl not installed", kind="unsupported")
            )
        raw_specs.append(s)
    if raw_specs:
        for file, _root in files.expand(ctx.base_dir, raw_specs, SUFFIXES):
            if file.name in KUSTOMIZATION_FILES:
                continue  # kustomize's own config, not an object
            shown = files.display(file, ctx.base_dir)
            text = files.read_text(file, shown)
            docs.extend(_documents(text, shown, is_json=file.name.endswith(".json")))
            listed.append(shown)
    return docs, Coverage(listed=tuple(listed), gaps=tuple(gaps))


def _str_map(value: Json) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def to_resource(
    doc: Document,
    ctx: CollectContext,
    default_namespace: str | None,
    custom_scopes: Mapping[tuple[str, str], bool] | None = None,
) -> Resource:
    """One object as a Resource (see the module docstring), or InputError naming file and line."""
    obj = doc.obj
    if not isinstance(obj, dict):
        raise InputError(doc.shown, "not a Kubernetes object (the document is not a mapping)", doc.line)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    for field, value in (("apiVersion", api_version), ("kind", kind), ("metadata.name", name)):
        if value is not None and not isinstance(value, str):
            got = json.dumps(value)[:40]
            raise InputError(doc.shown, f"not a Kubernetes object: {field} is {got}, not a string", doc.line)
        if not value:
            raise InputError(
                doc.shown, f"not a Kubernetes object: no {field} (an unrendered template or values file?)", doc.line
            )
    assert isinstance(meta, dict) and isinstance(name, str) and isinstance(kind, str) and isinstance(api_version, str)
    type_ = f"{api_version}/{kind}"
    if is_cluster_scoped(api_version, kind, custom_scopes):
        namespace = ""
    else:
        ns = meta.get("namespace")
        namespace = ns if isinstance(ns, str) and ns else default_namespace or "default"
    labels = _str_map(meta.get("labels"))
    annotations = _str_map(meta.get("annotations"))
    helm = labels.get(MANAGED_BY_LABEL, "").lower() == "helm" or HELM_RELEASE_ANNOTATION in annotations
    redacted = redact_object(obj, ctx.redactor)
    attributes = {k: v for k, v in redacted.items() if k not in ("apiVersion", "kind")}
    return Resource(
        type=type_,
        id=f"{namespace}/{name}" if namespace else name,
        key=f"{type_}/{namespace or '_'}/{name}",
        attributes=attributes,
        tags=labels,
        origin=f"{KIND}:{doc.shown}",
        owner="helm" if helm else ("kubernetes" if meta.get("ownerReferences") else "none"),
        name=name,
        location=Location(doc.shown, doc.line),
    )


def _where(r: Resource) -> str:
    loc = r.location
    if loc is None:
        return r.origin
    return f"{loc.file}:{loc.line}" if loc.line is not None else loc.file


def _no_fixed_object(obj: Json, declared: bool) -> bool:
    """Whether a document declares no object of its own to compare: ``generateName`` without ``name``
    (each create makes a new object with a random suffix), or, in declared manifests, a Helm hook that
    does not stay in the cluster (a ``helm test`` hook, or one deleted when it succeeds)."""
    if not isinstance(obj, dict):
        return False
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return False
    if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
        return True
    annotations = meta.get("annotations")
    if not declared or not isinstance(annotations, dict):
        return False
    hooks = annotations.get(HELM_HOOK_ANNOTATION)
    if not isinstance(hooks, str) or not hooks.strip():
        return False
    if any(h.strip() in HELM_TEST_HOOKS for h in hooks.split(",")):
        return True
    policy = annotations.get(HELM_HOOK_DELETE_ANNOTATION)
    return isinstance(policy, str) and "hook-succeeded" in (p.strip() for p in policy.split(","))


def _identity(r: Resource) -> str:
    """What Kubernetes knows an object by: group, kind, namespace and name (not the version)."""
    group_version, _, kind = r.type.rpartition("/")
    return f"{api_group(group_version)}/{kind}/{r.id}"


@register_source(KIND, "Kubernetes manifests: multi-document YAML/JSON, rendered kustomize or helm output.")
def collect(spec: KubernetesManifestsSource, ctx: CollectContext) -> Sequence[Snapshot]:
    docs, coverage = read_documents(spec, ctx)
    items = [item for doc in docs for item in _expand_lists(doc)]
    custom_scopes = crd_scopes(item.obj for item in items)
    declared = ctx.role == "declared"
    resources: list[Resource] = []
    seen: dict[str, Resource] = {}
    for item in items:
        if _no_fixed_object(item.obj, declared):
            continue
        r = to_resource(item, ctx, spec.namespace, custom_scopes)
        ident = _identity(r)
        if ident in seen:
            also = seen[ident]
            what = r.key if also.type == r.type else f"{r.key} (as {also.type})"
            raise InputError(item.shown, f"duplicate object {what}: also declared at {_where(also)}", item.line)
        seen[ident] = r
        resources.append(r)
    return [
        Snapshot(
            environment=ctx.environment,
            source=ctx.source_name,
            kind=KIND,
            role=ctx.role,
            collected_at=datetime.now(UTC),
            resources=tuple(resources),
            # An export names the kinds it was asked for: those are checked even where it holds none.
            coverage=Coverage(listed=(*coverage.listed, *spec.kinds), gaps=coverage.gaps),
        )
    ]
