"""What counts as a deployable artifact, where it is deployed (its *slot*) and when two are the same.

Identity rules (docs/promotion.md explains them to users):

- **Container images** (Kubernetes workloads' ``containers``/``initContainers``, ECS task definitions'
  ``container_definitions``, Lambda ``image_uri``, ``image:`` blocks of Helm values files): a reference
  ``registry/repository:tag@digest``. Two references are the same image when **both have a digest and the
  digests are equal** (whatever the repositories: a digest is the content); otherwise when the normalised
  repositories and the tags are equal. A reference without tag or digest means ``:latest``. Repositories are
  normalised: lower case, Docker Hub spelt out (``nginx`` -> ``docker.io/library/nginx``), and the
  environment's name tokens, account ids and regions replaced by placeholders
  (``123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop-prod/api`` -> ``{account}.dkr.ecr.{region}...
  /shop-{env}/api``). Tags are kept as written: ``3.1.0-staging`` is another build than ``3.1.0-prod``.
- **Lambda code**: the function's ``source_code_hash`` (SHA-256 of the package): the same bytes.
- **Helm charts**: ``name@version`` from a ``Chart.yaml`` config file (and its ``dependencies``), and the
  ``helm.sh/chart`` label of Kubernetes objects (``name-version``, compared whole).
- **Terraform modules**: ``source@version`` of ``module`` blocks in ``.tf`` config files that pin a version.
- **Configuration values**: every other setting of a ``config`` source file (flattened path), the value with
  placeholders applied; ``<redacted:...>`` values (secrets) are never judged: they differ per environment by
  design and their hashes say nothing about promotion.

A *slot* is where an artifact is deployed, written the same in every environment: the resource type, its key
with placeholders, and the path (``apps/v1/Deployment/shop-{env}/api#spec.template.spec.containers[api].image``).
Images, code, charts and modules are matched across stages by identity wherever they ran (a build promoted
under another workload name still counts); configuration values only within their slot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from parity.config import ArtifactKind
from parity.model import REDACTED_PREFIX, Json, Resource
from parity.normalize.placeholders import Placeholders
from parity.serialize import canonical_json

_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
# Pod specs inside workload kinds: (kind suffix, path to the pod spec).
_POD_SPECS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/CronJob", ("spec", "jobTemplate", "spec", "template", "spec")),
    ("/Pod", ("spec",)),
    ("/Deployment", ("spec", "template", "spec")),
    ("/StatefulSet", ("spec", "template", "spec")),
    ("/DaemonSet", ("spec", "template", "spec")),
    ("/ReplicaSet", ("spec", "template", "spec")),
    ("/Job", ("spec", "template", "spec")),
)
HELM_CHART_LABEL = "helm.sh/chart"


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalised image reference (see the module docstring)."""

    repository: str  # registry/path, normalised, placeholders applied
    tag: str | None
    digest: str | None

    def same_as(self, other: ImageRef) -> bool:
        if self.digest and other.digest:
            return self.digest == other.digest
        return self.repository == other.repository and self.tag is not None and self.tag == other.tag

    @property
    def identity(self) -> str:
        return f"{self.repository}:{self.tag or ''}@{self.digest or ''}"


def parse_image(ref: str, ph: Placeholders | None = None) -> ImageRef | None:
    """``ref`` as an :class:`ImageRef`, or None when it is not an image reference."""
    ref = ref.strip()
    if not ref or any(c.isspace() for c in ref) or ref.startswith(("$", "{")):
        return None
    digest: str | None = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            return None
        digest = digest.lower()
    tag: str | None = None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
        if not tag:
            return None
    if not ref:
        return None
    repo = ref.lower()
    parts = repo.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        repo = "docker.io/" + ("library/" + repo if len(parts) == 1 else repo)
    elif parts[0] in ("index.docker.io", "registry-1.docker.io"):
        repo = "docker.io/" + "/".join(parts[1:])
    if ph is not None:
        repo = ph.sub_str(repo)
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(repo, tag, digest)


@dataclass(frozen=True)
class Artifact:
    """One deployable thing in one slot: ``identity`` decides equality (images: :meth:`ImageRef.same_as`)."""

    kind: ArtifactKind
    slot: str  # environment-independent place: type + key with placeholders + "#" + path
    path: str  # attribute path inside the resource (for findings' changes and `expected` rules)
    identity: str
    shown: str  # as written in this environment
    image: ImageRef | None = None

    def same_as(self, other: Artifact) -> bool:
        if self.kind != other.kind:
            return False
        if self.image is not None and other.image is not None:
            return self.image.same_as(other.image)
        return self.identity == other.identity


def _get(value: Json, path: tuple[str, ...]) -> Json:
    for p in path:
        if not isinstance(value, dict):
            return None
        value = value.get(p)
    return value


def _image(kind_slot: str, path: str, ref: Json, ph: Placeholders) -> Artifact | None:
    if not isinstance(ref, str):
        return None
    img = parse_image(ref, ph)
    if img is None:
        return None
    return Artifact("image", f"{kind_slot}#{path}", path, img.identity, ref, img)


def _workload(r: Resource, slot: str, ph: Placeholders) -> Iterator[Artifact]:
    for suffix, where in _POD_SPECS:
        if r.type.endswith(suffix):
            pod = _get(r.attributes, where)
            if not isinstance(pod, dict):
                return
            prefix = ".".join(where)
            for field in ("initContainers", "containers"):
                for i, c in enumerate(pod.get(field) or []):
                    if isinstance(c, dict):
                        name = c.get("name") or str(i)
                        a = _image(slot, f"{prefix}.{field}[{name}].image", c.get("image"), ph)
                        if a is not None:
                            yield a
            return


def _helm_label(r: Resource, slot: str) -> Iterator[Artifact]:
    labels = _get(r.attributes, ("metadata", "labels"))
    chart = labels.get(HELM_CHART_LABEL) if isinstance(labels, dict) else None
    if isinstance(chart, str) and chart:
        path = f"metadata.labels[{HELM_CHART_LABEL}]"
        yield Artifact("helm_chart", f"{slot}#{path}", path, chart, chart)


def _ecs(r: Resource, slot: str, ph: Placeholders) -> Iterator[Artifact]:
    defs: Any = r.attributes.get("container_definitions")
    if isinstance(defs, str):
        try:
            defs = json.loads(defs)
        except ValueError:
            return
    for i, c in enumerate(defs if isinstance(defs, list) else []):
        if isinstance(c, dict):
            a = _image(slot, f"container_definitions[{c.get('name') or i}].image", c.get("image"), ph)
            if a is not None:
                yield a


def _lambda(r: Resource, slot: str, ph: Placeholders) -> Iterator[Artifact]:
    code = r.attributes.get("source_code_hash")
    if isinstance(code, str) and code and not code.startswith(REDACTED_PREFIX):
        yield Artifact("lambda_code", f"{slot}#source_code_hash", "source_code_hash", code, code)
    a = _image(slot, "image_uri", r.attributes.get("image_uri"), ph)
    if a is not None:
        yield a


def flatten(value: Json, prefix: str = "") -> Iterator[tuple[str, Json]]:
    """``(dotted path, leaf)`` for every setting of a parsed config file; lists are leaves."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, value


def _is_redacted(value: Json) -> bool:
    if isinstance(value, str):
        return value.startswith(REDACTED_PREFIX)
    if isinstance(value, list):
        return any(_is_redacted(v) for v in value)
    if isinstance(value, dict):
        return any(_is_redacted(v) for v in value.values())
    return False


def _config(r: Resource, slot: str, ph: Placeholders) -> Iterator[Artifact]:
    attrs = r.attributes
    used: set[str] = set()
    file = r.id.rsplit("/", 1)[-1]
    if file in ("Chart.yaml", "Chart.yml") and isinstance(attrs.get("name"), str) and attrs.get("version"):
        ident = f"{attrs['name']}@{attrs['version']}"
        yield Artifact("helm_chart", f"{slot}#chart", "version", ident, ident)
        used |= {"name", "version"}
        for dep in attrs.get("dependencies") or []:
            if isinstance(dep, dict) and dep.get("name") and dep.get("version"):
                ident = f"{dep['name']}@{dep['version']}"
                yield Artifact("helm_chart", f"{slot}#dependencies[{dep['name']}]", "dependencies", ident, ident)
        used.add("dependencies")
    modules = attrs.get("module")
    if isinstance(modules, dict):
        for name, block in modules.items():
            if isinstance(block, dict) and block.get("version") and isinstance(block.get("source"), str):
                src = ph.sub_str(block["source"])
                ident = f"{src}@{block['version']}"
                path = f"module.{name}"
                yield Artifact(
                    "module", f"{slot}#{path}", f"{path}.version", ident, f"{block['source']}@{block['version']}"
                )
                used |= {f"{path}.version", f"{path}.source"}
    for path, leaf in list(flatten(attrs)):
        # `image: {repository, tag, digest}` blocks of Helm values files, and `image: repo:tag` settings
        if path == "image.repository" or path.endswith(".image.repository"):
            base = path[: -len(".repository")]
            block = _get(attrs, tuple(base.split(".")))
            if isinstance(block, dict) and isinstance(block.get("repository"), str):
                ref = block["repository"] + (f":{block['tag']}" if block.get("tag") not in (None, "") else "")
                if block.get("digest"):
                    ref += f"@{block['digest']}"
                a = _image(slot, base, ref, ph)
                if a is not None:
                    yield a
                    used |= {f"{base}.{k}" for k in ("repository", "tag", "digest", "registry")}
        elif (path == "image" or path.endswith(".image")) and isinstance(leaf, str) and ("/" in leaf or ":" in leaf):
            a = _image(slot, path, leaf, ph)
            if a is not None:
                yield a
                used.add(path)
    for path, leaf in flatten(attrs):
        if path in used or not path or _is_redacted(leaf):
            continue
        value = ph.apply(leaf)
        text = canonical_json(value).decode()
        yield Artifact("config_value", f"{slot}#{path}", path, text, leaf if isinstance(leaf, str) else text)


def artifacts_of(r: Resource, ph: Placeholders, kinds: frozenset[str] | None = None) -> list[Artifact]:
    """The artifacts ``r`` deploys (only of ``kinds`` when given)."""
    key = ph.sub_str(r.key)
    slot = key if key.startswith(r.type + "/") else f"{r.type}/{key}"  # Kubernetes keys start with the type
    found: list[Artifact] = []
    if r.type.startswith("config/"):
        found = list(_config(r, slot, ph))
    elif r.type == "aws_ecs_task_definition":
        found = list(_ecs(r, slot, ph))
    elif r.type == "aws_lambda_function":
        found = list(_lambda(r, slot, ph))
    elif "/" in r.type:
        found = [*_workload(r, slot, ph), *_helm_label(r, slot)]
    return [a for a in found if kinds is None or a.kind in kinds]


def may_hold_artifacts(body: str) -> bool:
    """A cheap test on a stored resource's canonical JSON: could :func:`artifacts_of` find anything in it?"""
    return (
        '"type":"config/' in body
        or '"containers":' in body
        or HELM_CHART_LABEL in body
        or '"type":"aws_lambda_function"' in body
        or '"type":"aws_ecs_task_definition"' in body
    )


def placeholders_for(
    env: str, tokens: Mapping[str, tuple[str, ...]], accounts: Mapping[str, tuple[str, ...]]
) -> Placeholders:
    """The substitution that makes ``env``'s slots and identities comparable with other stages'."""
    return Placeholders(tokens.get(env, (env,)), accounts.get(env, ()))
