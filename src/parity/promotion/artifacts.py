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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from parity.config import ArtifactKind
from parity.errors import type_word
from parity.model import REDACTED_PREFIX, Json, Resource
from parity.normalize.placeholders import Placeholders
from parity.promotion.reference import reference_problem, split_reference
from parity.serialize import canonical_json

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
    """``ref`` as an :class:`ImageRef`, or None when it is not an image reference (:mod:`.reference`'s grammar,
    letter case aside: repositories are compared lower-cased). Why a reference is refused:
    :func:`~parity.promotion.reference.reference_problem`."""
    parts = split_reference(ref, fold_case=True)
    if isinstance(parts, str):
        return None
    name, tag, digest = parts
    repo = name.lower()
    components = repo.split("/")
    if len(components) == 1 or not ("." in components[0] or ":" in components[0] or components[0] == "localhost"):
        repo = "docker.io/" + ("library/" + repo if len(components) == 1 else repo)
    elif components[0] in ("index.docker.io", "registry-1.docker.io"):
        repo = "docker.io/" + "/".join(components[1:])
    if ph is not None:
        repo = ph.sub_str(repo)
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(repo, tag, digest.lower() if digest else None)


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


# What could not be read as an artifact: (attribute path, what is wrong), reported as notes (see artifacts_of).
Problems = list[tuple[str, str]]
MAX_NOTES_PER_RESOURCE = 5


def shape(value: Json) -> str:
    """A short type word for messages (never the value: it may be a secret); promotion calls a mapping
    "a mapping"."""
    return type_word(value, mapping="a mapping")


def shown_value(text: str, limit: int = 120) -> str:
    """``text`` quoted for a one-line message: control characters escaped, cut at ``limit`` characters."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def _scalar(value: Json) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _label(value: Json, index: int) -> str:
    """A list entry's name for a path (``containers[api]``), else its index."""
    return value if isinstance(value, str) and value and not any(c in value for c in "[]\n") else str(index)


def _get(value: Json, path: tuple[str, ...]) -> Json:
    for p in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(p)
    return value


def _image(kind_slot: str, path: str, ref: Json, ph: Placeholders, problems: Problems | None) -> Artifact | None:
    """The image artifact at ``path``; a value that is no valid reference is a problem (None: tolerated)."""
    if ref is None:
        return None
    if not isinstance(ref, str):
        if problems is not None:
            problems.append((path, f"is {shape(ref)}, not an image reference"))
        return None
    img = parse_image(ref, ph)
    problem = reference_problem(ref)
    if img is None or problem is not None:
        if problems is not None:
            why = problem or "is malformed"
            problems.append((path, f"{shown_value(ref)} is not a valid image reference: it {why}"))
        return None
    return Artifact("image", f"{kind_slot}#{path}", path, img.identity, ref, img)


def _list_at(value: Json, path: str, problems: Problems) -> list[Any]:
    """``value`` when it is a list; None is no list; anything else is a problem."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append((path, f"is {shape(value)}, expected a list"))
        return []
    return value


def _workload(r: Resource, slot: str, ph: Placeholders, problems: Problems) -> Iterator[Artifact]:
    for suffix, where in _POD_SPECS:
        if r.type.endswith(suffix):
            pod = _get(r.attributes, where)
            prefix = ".".join(where)
            if pod is None:
                return
            if not isinstance(pod, Mapping):
                problems.append((prefix, f"is {shape(pod)}, expected a mapping (a pod spec)"))
                return
            for field in ("initContainers", "containers"):
                at = f"{prefix}.{field}"
                for i, c in enumerate(_list_at(pod.get(field), at, problems)):
                    if not isinstance(c, Mapping):
                        problems.append((f"{at}[{i}]", f"is {shape(c)}, expected a mapping (a container)"))
                        continue
                    image = c.get("image")
                    if image == "":
                        problems.append((f"{at}[{_label(c.get('name'), i)}].image", "is empty"))
                        continue
                    a = _image(slot, f"{at}[{_label(c.get('name'), i)}].image", image, ph, problems)
                    if a is not None:
                        yield a
            return


def _helm_label(r: Resource, slot: str) -> Iterator[Artifact]:
    labels = _get(r.attributes, ("metadata", "labels"))
    chart = labels.get(HELM_CHART_LABEL) if isinstance(labels, Mapping) else None
    if isinstance(chart, str) and chart:
        path = f"metadata.labels[{HELM_CHART_LABEL}]"
        yield Artifact("helm_chart", f"{slot}#{path}", path, chart, chart)


def _ecs(r: Resource, slot: str, ph: Placeholders, problems: Problems) -> Iterator[Artifact]:
    defs: Any = r.attributes.get("container_definitions")
    if isinstance(defs, str):
        try:
            defs = json.loads(defs)
        except (ValueError, RecursionError):
            problems.append(("container_definitions", "is not valid JSON"))
            return
    for i, c in enumerate(_list_at(defs, "container_definitions", problems)):
        if not isinstance(c, Mapping):
            problems.append((f"container_definitions[{i}]", f"is {shape(c)}, expected a mapping (a container)"))
            continue
        path = f"container_definitions[{_label(c.get('name'), i)}].image"
        a = _image(slot, path, c.get("image"), ph, problems)
        if a is not None:
            yield a


def _lambda(r: Resource, slot: str, ph: Placeholders, problems: Problems) -> Iterator[Artifact]:
    code = r.attributes.get("source_code_hash")
    if isinstance(code, str) and code and not code.startswith(REDACTED_PREFIX):
        yield Artifact("lambda_code", f"{slot}#source_code_hash", "source_code_hash", code, code)
    uri = r.attributes.get("image_uri")
    if uri != "":  # a function deployed as a .zip package has an empty image_uri
        a = _image(slot, "image_uri", uri, ph, problems)
        if a is not None:
            yield a


def flatten(value: Json, prefix: str = "") -> Iterator[tuple[str, Json]]:
    """``(dotted path, leaf)`` for every setting of a parsed config file; lists are leaves."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, value


def _is_redacted(value: Json) -> bool:
    if isinstance(value, str):
        return value.startswith(REDACTED_PREFIX)
    if isinstance(value, list):
        return any(_is_redacted(v) for v in value)
    if isinstance(value, Mapping):
        return any(_is_redacted(v) for v in value.values())
    return False


def _chart(attrs: Mapping[str, Json], slot: str, used: set[str], problems: Problems) -> Iterator[Artifact]:
    """``name@version`` of a Chart.yaml and of its ``dependencies``."""
    if not (isinstance(attrs.get("name"), str) and _scalar(attrs.get("version"))):
        return
    ident = f"{attrs['name']}@{attrs['version']}"
    yield Artifact("helm_chart", f"{slot}#chart", "version", ident, ident)
    used |= {"name", "version", "dependencies"}
    for i, dep in enumerate(_list_at(attrs.get("dependencies"), "dependencies", problems)):
        if isinstance(dep, Mapping) and isinstance(dep.get("name"), str) and _scalar(dep.get("version")):
            ident = f"{dep['name']}@{dep['version']}"
            yield Artifact("helm_chart", f"{slot}#dependencies[{_label(dep['name'], i)}]", "dependencies", ident, ident)


def _modules(attrs: Mapping[str, Json], slot: str, ph: Placeholders, used: set[str]) -> Iterator[Artifact]:
    """``source@version`` of the ``module`` blocks of a .tf file that pin a version."""
    modules = attrs.get("module")
    if not isinstance(modules, Mapping):
        return
    for name, block in modules.items():
        if isinstance(block, Mapping) and _scalar(block.get("version")) and isinstance(block.get("source"), str):
            ident = f"{ph.sub_str(block['source'])}@{block['version']}"
            path = f"module.{name}"
            shown = f"{block['source']}@{block['version']}"
            yield Artifact("module", f"{slot}#{path}", f"{path}.version", ident, shown)
            used |= {f"{path}.version", f"{path}.source"}


def _config_images(attrs: Mapping[str, Json], slot: str, ph: Placeholders, used: set[str]) -> Iterator[Artifact]:
    """``image: {repository, tag, digest}`` blocks of Helm values files, and ``image: repo:tag`` settings.

    These are guesses from key names, so a value that is no valid reference stays a setting (no note)."""
    for path, leaf in list(flatten(attrs)):
        if path == "image.repository" or path.endswith(".image.repository"):
            base = path[: -len(".repository")]
            block = _get(attrs, tuple(base.split(".")))
            if isinstance(block, Mapping) and isinstance(block.get("repository"), str):
                ref = block["repository"]
                tag, digest = block.get("tag"), block.get("digest")
                if not (tag in (None, "") or _scalar(tag)) or not (digest in (None, "") or isinstance(digest, str)):
                    continue
                ref += f":{tag}" if tag not in (None, "") else ""
                ref += f"@{digest}" if digest else ""
                a = _image(slot, base, ref, ph, None)
                if a is not None:
                    yield a
                    used |= {f"{base}.{k}" for k in ("repository", "tag", "digest", "registry")}
        elif (path == "image" or path.endswith(".image")) and isinstance(leaf, str) and ("/" in leaf or ":" in leaf):
            a = _image(slot, path, leaf, ph, None)
            if a is not None:
                yield a
                used.add(path)


def _config(r: Resource, slot: str, ph: Placeholders, problems: Problems) -> Iterator[Artifact]:
    attrs = r.attributes
    used: set[str] = set()
    file = r.id.rsplit("/", 1)[-1]
    if file in ("Chart.yaml", "Chart.yml"):
        yield from _chart(attrs, slot, used, problems)
    yield from _modules(attrs, slot, ph, used)
    yield from _config_images(attrs, slot, ph, used)
    for path, leaf in flatten(attrs):
        if path in used or not path or _is_redacted(leaf):
            continue
        try:
            text = canonical_json(ph.apply(leaf)).decode()
        except TypeError:  # orjson's JSONEncodeError: a value no source makes (too deep, an integer past 64 bits)
            problems.append((path, f"is {shape(leaf)} that cannot be written as JSON"))
            continue
        yield Artifact("config_value", f"{slot}#{path}", path, text, leaf if isinstance(leaf, str) else text)


def artifacts_of(
    r: Resource, ph: Placeholders, kinds: frozenset[str] | None = None, notes: list[str] | None = None
) -> list[Artifact]:
    """The artifacts ``r`` deploys (only of ``kinds`` when given).

    What has the wrong shape (``containers`` that is no list, an image that is no valid reference) is
    skipped; with ``notes``, each such place is added to it as one line (``TYPE ID: PATH is ...``), at most
    :data:`MAX_NOTES_PER_RESOURCE` per resource. Never raises on the shape of ``r.attributes``."""
    key = ph.sub_str(r.key)
    slot = key if key.startswith(r.type + "/") else f"{r.type}/{key}"  # Kubernetes keys start with the type
    found: list[Artifact] = []
    problems: Problems = []
    if not isinstance(r.attributes, Mapping):
        problems.append(("attributes", f"are {shape(r.attributes)}, expected a mapping"))
    elif r.type.startswith("config/"):
        found = list(_config(r, slot, ph, problems))
    elif r.type == "aws_ecs_task_definition":
        found = list(_ecs(r, slot, ph, problems))
    elif r.type == "aws_lambda_function":
        found = list(_lambda(r, slot, ph, problems))
    elif "/" in r.type:
        found = [*_workload(r, slot, ph, problems), *_helm_label(r, slot)]
    if kinds is not None:  # no note about a kind of artifact that is not followed
        problems = [(path, what) for path, what in problems if _problem_kind(r, path) in (*kinds, None)]
    if notes is not None and problems:
        head = f"{r.type} {r.id}"
        notes += [f"{head}: {path} {what}" for path, what in problems[:MAX_NOTES_PER_RESOURCE]]
        more = len(problems) - MAX_NOTES_PER_RESOURCE
        if more > 0:
            notes.append(f"{head}: … and {more} more such place{'s' if more > 1 else ''}")
    return [a for a in found if kinds is None or a.kind in kinds]


def _problem_kind(r: Resource, path: str) -> str | None:
    """The kind of artifact a problem at ``path`` hides (None: any)."""
    if path == "attributes":
        return None
    if r.type.startswith("config/"):
        return "helm_chart" if path == "dependencies" else "config_value"
    return "image"


def cap_notes(notes: list[str], limit: int = 20) -> list[str]:
    """The first ``limit`` distinct notes, and a count of the rest."""
    unique = list(dict.fromkeys(notes))
    if len(unique) <= limit:
        return unique
    return [*unique[:limit], f"… and {len(unique) - limit} more artifact notes"]


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
