"""The ``config`` source: one resource per configuration file, its parsed content as attributes.

Identity rules (relied on by pairing across environments):

- ``type`` = ``config/<format>`` (yaml, json, env, tfvars, hcl, ini, properties);
- ``id`` = ``name`` = the file's path relative to its source root, ``/``-separated;
- ``key`` = that path with this environment's name tokens replaced by ``{env}``: a token matches a
  whole part between ``/ . _ -`` separators, case-insensitively, so ``docker-compose.staging.yml``
  and ``docker-compose.prod.yml`` are both ``docker-compose.{env}.yml``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from parity.config import ConfigFilesSource
from parity.errors import InputError
from parity.model import Coverage, Location, Resource, Snapshot
from parity.registry import CollectContext, register_source
from parity.sources import files
from parity.sources.config.formats import SUFFIXES, format_of, read_config
from parity.sources.config.redaction import redact_tree

KIND = "config"


def env_key(rel: str, tokens: Iterable[str]) -> str:
    """``rel`` with every whole path part equal to one of ``tokens`` replaced by ``{env}``."""
    words = sorted({t for t in tokens if t}, key=len, reverse=True)
    if not words:
        return rel
    alternation = "|".join(re.escape(w) for w in words)
    pattern = re.compile(rf"(?<![^/._\-])(?:{alternation})(?![^/._\-])", re.IGNORECASE)
    return pattern.sub("{env}", rel)


def excluded(rel: str, patterns: Sequence[str]) -> bool:
    """True when a relative path matches an exclude glob (``*`` also crosses ``/``).

    A pattern without ``/`` also matches the file name alone, and ``**/x`` also matches ``x`` at the root.
    """
    name = PurePosixPath(rel).name
    for pat in patterns:
        candidates = [pat, pat[3:]] if pat.startswith("**/") else [pat]
        for p in candidates:
            if fnmatch.fnmatchcase(rel, p) or ("/" not in p and fnmatch.fnmatchcase(name, p)):
                return True
            if p.endswith("/") and (rel + "/").startswith(p):
                return True
    return False


def _tokens(ctx: CollectContext) -> tuple[str, ...]:
    return (ctx.environment, *ctx.tokens.get(ctx.environment, ()))


def _relative(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.name


def read_file(file: Path, root: Path, ctx: CollectContext) -> Resource | None:
    """The file's resource, None when its name is not a config format parity reads."""
    fmt = format_of(file.name)
    if fmt is None:
        return None
    shown = files.display(file, ctx.base_dir)
    text = files.read_text(file, shown)
    data = read_config(fmt, text, shown)
    rel = _relative(file, root)
    return Resource(
        type=f"config/{fmt}",
        id=rel,
        key=env_key(rel, _tokens(ctx)),
        attributes=redact_tree(data, ctx.redactor),
        origin=f"{KIND}:{shown}",
        owner="config",
        name=rel,
        location=Location(shown),
    )


def find(spec: ConfigFilesSource, ctx: CollectContext) -> list[tuple[Path, Path, str]]:
    """``(file, root, relative path)`` of every config file the source names, minus excluded ones.

    A folder or glob keeps the files whose name is a known format (``.env.staging`` has no fixed
    suffix, so folders are walked without a suffix filter and filtered here); a file named
    explicitly must be a known format. Naming nothing is an error: a typo must not read as "no files".
    """
    specs = [spec.path] if isinstance(spec.path, str) else list(spec.path)
    out: dict[Path, tuple[Path, str]] = {}
    for s in specs:
        explicit = ctx.resolve(s).is_file() and not any(ch in s for ch in "*?[")
        kept = 0
        for file, root in files.expand(ctx.base_dir, s, None):
            if format_of(file.name) is None:
                if explicit:
                    shown = files.display(file, ctx.base_dir)
                    raise InputError(shown, "not a config format parity reads (by its name)")
                continue
            kept += 1
            rel = _relative(file, root)
            if not excluded(rel, spec.exclude):
                out.setdefault(file, (root, rel))
        if kept == 0:
            raise InputError(s, f"holds no config file ({', '.join(SUFFIXES)}, .env.*)")
    return [(f, root, rel) for f, (root, rel) in sorted(out.items())]


@register_source(KIND, "Configuration files (YAML, JSON, .env, .tfvars, .tf, .ini, .properties), one resource each.")
def collect(spec: ConfigFilesSource, ctx: CollectContext) -> Sequence[Snapshot]:
    resources: list[Resource] = []
    seen: dict[str, str] = {}
    listed: list[str] = []
    for file, root, _rel in find(spec, ctx):
        resource = read_file(file, root, ctx)
        if resource is None:  # find() keeps known formats only
            continue
        ctx.report(f"read {resource.origin}")
        if resource.key in seen:
            other = seen[resource.key]
            where = resource.location.file if resource.location else resource.id
            raise InputError(where, f"same config key {resource.key!r} as {other}")
        seen[resource.key] = resource.location.file if resource.location else resource.id
        resources.append(resource)
        listed.append(seen[resource.key])
    return [
        Snapshot(
            environment=ctx.environment,
            source=ctx.source_name,
            kind=KIND,
            role=ctx.role,
            collected_at=datetime.now(UTC),
            resources=tuple(resources),
            coverage=Coverage(listed=tuple(listed)),
        )
    ]
