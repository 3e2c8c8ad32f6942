"""The ``terraform-state`` source: Terraform state files (format version 4) as a declared snapshot.

Version 4 is what Terraform 0.12 and later write; older formats (0.11 and before) are refused with a
message saying so rather than read half-right. Several state files of one source (one environment may
have several root modules) form one snapshot.

Keys: a resource's key is its Terraform address. Where two files of the source hold the same address
(two root modules that both declare ``aws_s3_bucket.logs``) those resources, and only those, get the key
``<display path>#<address>``; every other key stays equal across environments running the same code.
The same address twice inside one file is a malformed state and an error.

Skipped: data sources (``mode: "data"``: read, not managed) and deposed objects (leftovers of a
create-before-destroy replacement, about to be destroyed by Terraform itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from parity.config import TerraformStateSource
from parity.errors import InputError, type_word
from parity.gcpause import paused_gc
from parity.jsonitems import array_items, member_spans
from parity.model import Coverage, Json, Snapshot
from parity.redact import Redactor, redact_secret_keys_in_place
from parity.registry import CollectContext, register_source
from parity.sources import files
from parity.sources.terraform.common import (
    TOO_DEEP_TO_HASH,
    Canonical,
    Instance,
    ShapeError,
    assign_keys,
    canonical_instance,
    format_index,
    holds_long_ints,
    load_json,
    make_instance,
    parse_json_text,
    redact_declared_secret_paths,
    redact_sensitive_paths,
    to_resource,
)

KIND = "terraform-state"
SUFFIXES = (".tfstate",)  # what a folder given as the path is searched for (parity.parallel sizes them too)
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


@register_source(KIND, "Terraform state files (format version 4: Terraform 0.12 and later)", canonical_on_read=True)
def collect_state(spec: TerraformStateSource, ctx: CollectContext) -> Sequence[Snapshot]:
    per_file: list[tuple[str, list[Instance]]] = []
    with paused_gc():
        for path, _root in files.expand(ctx.base_dir, spec.path, SUFFIXES):
            shown = files.display(path, ctx.base_dir)
            ctx.report(f"reading {shown}")
            per_file.append((shown, read_state_file(path, shown, ctx.redactor, ctx.canonical_attributes)))
        keys = assign_keys((shown, (i.address for i in insts)) for shown, insts in per_file)
        resources = tuple(to_resource(i, keys[(shown, i.address)], KIND) for shown, insts in per_file for i in insts)
    return [
        Snapshot(
            environment=ctx.environment,
            source=ctx.source_name,
            kind=KIND,
            role=ctx.role,
            collected_at=datetime.now(UTC),
            resources=resources,
            coverage=Coverage(listed=tuple(shown for shown, _ in per_file)),
        )
    ]


def read_state_file(path: Path, shown: str, redactor: Redactor, canonical: Canonical | None = None) -> list[Instance]:
    """The managed resource instances of one state file, secrets redacted, their attributes canonical when
    ``canonical`` is given.

    A big state is not parsed whole: each item of its ``resources`` is parsed, redacted and canonicalised
    before the next is parsed (:mod:`parity.jsonitems`), so the raw objects are walked while still in the
    cache and their memory is reused by the next one. Any error found that way is raised by reading the
    file whole, so a broken state gives the same message at the same place either way."""
    text = files.read_text(path, shown)
    data = text.encode()
    split = None if holds_long_ints(text, data) else _split(data)
    if split is None:
        return read_state(parse_json_text(text, shown, data), shown, redactor, canonical)
    del text  # not held while the items are read (the file is read again only for an error)
    header, items = split
    try:
        check_header(header, shown)
        return _instances(items, shown, redactor, canonical)
    except (orjson.JSONDecodeError, InputError):
        pass  # raised below as reading the file whole raises it
    return read_state(load_json(path, shown), shown, redactor, canonical)


def _split(data: bytes) -> tuple[dict[str, Any], Iterator[Any]] | None:
    """The state's top-level members but ``resources`` (left as an empty list), and the items of
    ``resources`` one at a time; None where the file is to be parsed whole (not a plain object with one
    ``resources`` list, no compiled split)."""
    members = member_spans(data)
    if members is None:
        return None
    at: list[tuple[int, int]] = []
    for key, start, end in members:
        try:
            if orjson.loads(key) == "resources":  # a key may be written with escapes
                at.append((start, end))
        except orjson.JSONDecodeError:
            return None
    if len(at) != 1:
        return None
    start, end = at[0]
    items = array_items(data, 2, start, end)
    if items is None:
        return None
    try:
        header = orjson.loads(data[:start] + b"[]" + data[end:])
    except orjson.JSONDecodeError:
        return None
    return header, items


def check_header(data: Json, shown: str) -> None:
    """Refuse anything that is not a version-4 state written by Terraform 0.12 or later."""
    if not isinstance(data, dict):
        raise InputError(shown, f"is not a Terraform state: the top level is {type_word(data)}, not an object")
    if "version" not in data:
        hint = (
            " (it looks like `terraform show -json` output: use kind terraform-plan)"
            if "format_version" in data
            else ""
        )
        raise InputError(shown, f'is not a Terraform state: it has no "version"{hint}')
    version = data["version"]
    if version != 4 or isinstance(version, bool) or not isinstance(version, int):
        shown_v = version if isinstance(version, int | float) and not isinstance(version, bool) else type_word(version)
        raise InputError(
            shown,
            f"unsupported state format version {shown_v} (parity reads version 4, written by Terraform 0.12 and later)",
        )
    tf = data.get("terraform_version")
    m = _VERSION.fullmatch(tf) if isinstance(tf, str) else None
    if m is None:
        what = repr(tf[:40]) if isinstance(tf, str) else type_word(tf)
        raise InputError(shown, f"terraform_version {what} is not a Terraform version such as 1.5.7")
    if (int(m.group(1)), int(m.group(2))) < (0, 12):
        raise InputError(
            shown,
            f"terraform_version {tf} predates state format version 4 (Terraform 0.12); the file is not a "
            "state Terraform wrote",
        )


def read_state(data: Json, shown: str, redactor: Redactor, canonical: Canonical | None = None) -> list[Instance]:
    """The managed resource instances of one parsed state file, secrets redacted (see read_state_file)."""
    check_header(data, shown)
    resources = data.get("resources")
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise InputError(shown, f'"resources" is {type_word(resources)}, expected a list')
    return _instances(resources, shown, redactor, canonical)


def _instances(resources: Iterable[Any], shown: str, redactor: Redactor, canonical: Canonical | None) -> list[Instance]:
    out: list[Instance] = []
    seen: set[str] = set()
    for n, res in enumerate(resources):
        where = f"resources[{n}]"
        try:
            base = where = _base_address(res)
            instances = _managed_instances(res)
            for inst in instances:
                if not isinstance(inst, dict):
                    raise ShapeError(f"an instance is {type_word(inst)}, expected an object")
                if inst.get("deposed") is not None:
                    continue
                where = base + format_index(inst.get("index_key"))
                if where in seen:
                    raise ShapeError("the address appears twice in the file")
                seen.add(where)
                got = _instance(res, inst, where, redactor, shown)
                out.append(got if canonical is None else canonical_instance(got, canonical))
        except ShapeError as e:
            raise InputError(shown, f"resource {where}: {e}") from None
    return out


def _base_address(res: Json) -> str:
    """The resource's address without an instance key: ``module.a.aws_s3_bucket.logs``."""
    if not isinstance(res, dict):
        raise ShapeError(f"is {type_word(res)}, expected an object")
    type_, name, module = res.get("type"), res.get("name"), res.get("module")
    if not isinstance(type_, str) or not type_:
        raise ShapeError('has no "type"')
    if not isinstance(name, str) or not name:
        raise ShapeError(f'({type_}) has no "name"')
    if module is not None and not isinstance(module, str):
        raise ShapeError(f'"module" is {type_word(module)}, expected a string')
    return f"{module}.{type_}.{name}" if module else f"{type_}.{name}"


def _managed_instances(res: dict[str, Any]) -> list[Any]:
    """The instances of a managed resource; none for a data source (read, not managed)."""
    mode = res.get("mode", "managed")
    if mode == "data":
        return []
    if mode != "managed":
        raise ShapeError(
            f'mode is {mode[:40]!r}, neither "managed" nor "data"' if isinstance(mode, str) else "mode is not a string"
        )
    instances = res.get("instances", [])
    if not isinstance(instances, list):
        raise ShapeError(f'"instances" is {type_word(instances)}, expected a list')
    return instances


def _instance(res: dict[str, Any], inst: dict[str, Any], address: str, redactor: Redactor, shown: str) -> Instance:
    attrs = inst.get("attributes")
    flat = False
    if attrs is None:
        attrs = inst.get("attributes_flat")
        flat = attrs is not None
    if attrs is None:
        attrs = {}
    if not isinstance(attrs, dict):
        raise ShapeError(f"attributes are {type_word(attrs)}, expected an object")
    redact_sensitive_paths(attrs, inst.get("sensitive_attributes"), redactor)
    try:
        redact_secret_keys_in_place(attrs, redactor)
    except orjson.JSONEncodeError:
        raise ShapeError(TOO_DEEP_TO_HASH) from None
    attrs = redact_declared_secret_paths(res["type"], attrs, redactor)
    return make_instance(address, res["type"], res["name"], attrs, shown, flat=flat)
