"""How an AWS resource type is declared: one :class:`Lister` per listing unit, in its service module.

A lister is the unit of fetching (one or a few API calls that yield one or several Terraform types: IAM's
``GetAccountAuthorizationDetails`` yields roles, users, groups, policies and attachments at once) and the
unit of failure (when it fails, every type it yields is a coverage gap). Each type it yields is an
:class:`AwsType` with the Terraform type name and what code-vs-live needs (see
:class:`parity.registry.TypeInfo`). Registration happens at import of the service module; a duplicate
lister name or type is an error. Fetch functions only read (the clients they get are guarded) and turn
API answers into :class:`~parity.model.Resource` objects with :meth:`Fetch.resource`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from parity.model import Json, Resource
from parity.redact import Redactor, looks_secret, redact_secret_keyed
from parity.registry import TypeInfo, register_type
from parity.sources.aws.owner import owner_from_tags


@dataclass(frozen=True)
class AwsType:
    """One Terraform resource type a lister yields."""

    tf_type: str
    description: str
    compared: tuple[str, ...] = ()  # Terraform attribute names compared code vs live (opt-in, small)
    native_id: Callable[[Mapping[str, Any]], str | None] | None = None  # from a state's attributes
    parent: tuple[str, str] | None = None  # (parent tf type, attribute with the parent's live id)
    secret_paths: tuple[str, ...] = ()  # values hashed wherever they come from (see TypeInfo)
    redact_values: Callable[[dict[str, Any], Redactor], dict[str, Any]] | None = None  # see TypeInfo
    alternative_of: str | None = None  # another type carries the same content (see TypeInfo)


@dataclass(frozen=True)
class Fetch:
    """What a fetch function gets: guarded clients for its account and region, and resource building."""

    account: str
    region: str
    partition: str
    redactor: Redactor
    client_factory: Callable[[str, str], Any]
    regions: tuple[str, ...] = ()

    def client(self, service: str, region: str | None = None) -> Any:
        return self.client_factory(service, region or self.region)

    def pages(self, client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of ``operation`` (botocore's paginator where there is one, else one call)."""
        if client.can_paginate(operation):
            yield from client.get_paginator(operation).paginate(**kwargs)
        else:
            yield getattr(client, operation)(**kwargs)

    def arn(self, service: str, resource: str, region: str | None = None, global_: bool = False) -> str:
        r = "" if global_ else (region or self.region)
        return f"arn:{self.partition}:{service}:{r}:{self.account}:{resource}"

    def resource(
        self,
        tf_type: str,
        id: str,
        *,
        attributes: Mapping[str, Json],
        name: str | None = None,
        arn: str | None = None,
        tags: Mapping[str, str] | None = None,
        aws_managed: bool = False,
    ) -> Resource:
        """A live resource: ``key`` is its ARN (pairing normalises account and region) or type/region/id.

        Every resource of every type is built here, so this is where secrets are hashed by name: a value
        under a key that looks secret (a tag ``db_password``, at any depth of the attributes) becomes its
        ``<redacted:...>`` marker, by the rule the Terraform readers apply to a state
        (:func:`parity.redact.redact_secret_keyed`), so code and live hash the same tag alike."""
        tags = redact_tag_values(tags or {}, self.redactor)
        attrs = cast(dict[str, Json], redact_secret_keyed(dict(attributes), self.redactor))
        if tags and "tags" not in attrs:
            attrs["tags"] = tags
        if arn and "arn" not in attrs:
            attrs["arn"] = arn
        return Resource(
            type=tf_type,
            id=id,
            key=arn or f"{tf_type}/{self.region}/{id}",
            attributes=attrs,
            tags=tags,
            origin=f"aws:{self.account}/{self.region}",
            owner=owner_from_tags(tags, aws_managed),
            name=name or id,
        )

    def redact(self, value: Json) -> str:
        return self.redactor.redact(value)


def redact_tag_values(tags: Mapping[str, str], redactor: Redactor) -> dict[str, str]:
    """``tags`` with the value of every secret-looking key (``db_password``, ``api-token``) as its marker."""
    return {k: redactor.redact(v) if looks_secret(k) else v for k, v in tags.items()}


FetchFn = Callable[[Fetch], Iterable[Resource]]


@dataclass(frozen=True)
class Lister:
    name: str  # "sqs.queues"
    service: str  # boto3 client name
    calls: tuple[str, ...]  # the IAM actions it needs, e.g. "sqs:ListQueues" (read-only: tested)
    types: tuple[AwsType, ...]
    fetch: FetchFn
    global_: bool = False  # one listing per account (IAM, S3's bucket list, Route 53), not per region
    notes: str = ""

    @property
    def tf_types(self) -> tuple[str, ...]:
        return tuple(t.tf_type for t in self.types)


_LISTERS: dict[str, Lister] = {}
_TF_TYPES: dict[str, Lister] = {}
_loaded = False


def register(lister: Lister) -> Lister:
    if lister.name in _LISTERS:
        raise RuntimeError(f"AWS lister {lister.name!r} registered twice")
    for t in lister.types:
        if t.tf_type in _TF_TYPES:
            raise RuntimeError(f"AWS type {t.tf_type!r} declared by {_TF_TYPES[t.tf_type].name} and {lister.name}")
    _LISTERS[lister.name] = lister
    for t in lister.types:
        _TF_TYPES[t.tf_type] = lister
        register_type(
            TypeInfo(
                type=t.tf_type,
                compared=t.compared,
                native_id=t.native_id,
                parent=t.parent,
                secret_paths=t.secret_paths,
                redact_values=t.redact_values,
                alternative_of=t.alternative_of,
            )
        )
    return lister


def listers() -> Mapping[str, Lister]:
    """Every registered lister (imports every module of ``parity.sources.aws.types`` once)."""
    global _loaded
    if not _loaded:
        import parity.sources.aws.types as pkg

        for mod in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
        _loaded = True
    return _LISTERS


def aws_types() -> dict[str, AwsType]:
    return {t.tf_type: t for lst in listers().values() for t in lst.types}


__all__ = ["AwsType", "Fetch", "FetchFn", "Lister", "aws_types", "listers", "register"]
