"""Cross-environment references: a value in one environment that names another environment.

For each environment E, every string value (attributes and tags, every resource, both roles) is
scanned for:

- another environment's account id (``environments.<env>.accounts`` and sources' account facts): a
  12-digit number standing alone;
- another environment's hostname (``environments.<env>.hostnames``): a hostname equal to, or under, one
  of its domains; the most specific configured domain wins, so ``api.staging.example.com`` belongs to
  staging even when production owns ``example.com``;
- another environment's name token (``naming.tokens``) as a whole part: ``db.prod.internal``,
  ``arn:...:shop-prod-orders``, ``/config/production/app``. A token used by several environments is
  ignored, and where a longer token of E covers it (``pre-prod``) it is E's.

Noise rule (only identifier-like text counts):

- values under free-text keys (:data:`FREE_TEXT_KEYS`: description, comment, ...) are skipped;
- a value without whitespace is identifier-like as a whole (a name, hostname, URL, ARN, path, a tag
  value such as ``production``);
- in a value with whitespace only the words that look structured count: an alphanumeric on both
  sides of ``.``, ``/``, ``:`` or ``@`` (hostnames, URLs, ARNs, paths), so "Production database for
  the shop" is not a reference and "connects to db.prod.internal nightly" is;
- a multi-line value (an embedded file) is read line by line: the value of a ``key = value`` /
  ``key: value`` line is judged as a whole value, other lines by the word rule;
- redacted markers are never scanned.

Most resources name no other environment at all, so every string value of each is first searched for the
other environments' account ids, domains and token spellings as plain text, case ignored
(:func:`parity.compare.textscan.values_holding`, compiled; without the compiled part, each batch of
resources is serialised in one call and its text searched): everything the rules above can match is such a
substring of some value. Only a resource with a hit is walked value by value (:meth:`_Scanner.reaching`);
the rules above decide.

One finding per (resource, path), ``detail`` = the path (plus the native id where two resources of E
share a key: :mod:`parity.compare.dedupe`); the change holds the value (left) as found
in E. Severity: high when E and the environment reached are both in the promotion order, else medium.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from parity.compare.dedupe import tell_apart
from parity.compare.diff import identity_field
from parity.compare.envinfo import env_accounts, env_tokens, label
from parity.compare.severity import reference_severity
from parity.compare.textscan import Needles, needles, values_holding
from parity.compare.types import Inventory, Rules
from parity.model import Change, Finding, Json, Resource
from parity.normalize.native import compiled
from parity.normalize.paths import join_item, join_key
from parity.normalize.placeholders import token_pattern, token_variants
from parity.redact import is_redacted
from parity.serialize import json_bytes

FREE_TEXT_KEYS = frozenset(
    {"description", "comment", "comments", "note", "notes", "summary", "help", "title", "message", "displayname"}
)
_KV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.\-]*\s*[=:](?!//)\s*(.*?)\s*$")
_STRUCTURED = re.compile(r"[A-Za-z0-9][./:@][A-Za-z0-9]")
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_HOST = re.compile(
    r"(?<![A-Za-z0-9.-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_PUNCT = "\"'`,;()[]{}<>!?"
# Characters JSON writes escaped: a literal holding one would not appear verbatim in serialised text.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')
_DIGITS = re.compile(rb"[0-9]{12,}")


def identifier_parts(value: str) -> list[str]:
    """The identifier-like pieces of a string value (see the module docstring)."""
    if "\n" in value:
        out: list[str] = []
        for line in value.splitlines():
            m = _KV_LINE.match(line)
            out.extend(identifier_parts(m.group(1)) if m and m.group(1) else _words(line))
        return out
    if not value or any(ch.isspace() for ch in value):
        return _words(value)
    return [value]


def _words(text: str) -> list[str]:
    out = []
    for w in text.split():
        w = w.strip(_PUNCT).rstrip(".")
        if _STRUCTURED.search(w):
            out.append(w)
    return out


class _Scanner:
    """What names which environment, compiled once for all environments."""

    def __init__(self, envs: Sequence[str], rules: Rules, invs: Sequence[Inventory]) -> None:
        by_env = {i.environment: i for i in invs}
        token_owner: dict[str, set[str]] = defaultdict(set)
        for env in envs:
            for t in env_tokens(env, rules):
                token_owner[t.lower()].add(env)
        self.token_owner = dict(token_owner)
        pat = token_pattern(self.token_owner)
        self.tokens = re.compile(pat) if pat else None
        self.account_owner: dict[str, set[str]] = defaultdict(set)
        for env in envs:
            for a in env_accounts(env, rules, by_env.get(env)):
                self.account_owner[a].add(env)
        self.domain_owner: dict[str, set[str]] = defaultdict(set)
        for env in envs:
            for h in rules.hostnames.get(env, ()):
                self.domain_owner[h.lower().strip(".")].add(env)
        self._prefilter = {env: self._literals_of_others(env) for env in envs}
        self._compiled = compiled() is not None

    def _literals_of_others(self, env: str) -> _Needles | None:
        """What a value in ``env`` must contain to reach another environment (None: nothing can, so no
        resource is walked)."""
        accounts = frozenset(a.encode() for a, owners in self.account_owner.items() if env not in owners)
        names = {d for d, owners in self.domain_owner.items() if d and env not in owners}
        mine = {t for t, owners in self.token_owner.items() if len(owners) == 1 and env not in owners}
        names |= set(token_variants(mine))  # the exact spellings the token pattern matches
        if not names and not accounts:
            return None
        # bytes.lower() folds ASCII only, on both sides alike, so an exact spelling still matches after it
        lowered = tuple(sorted({x.encode().lower() for x in names}))
        return _Needles(
            lowered,
            accounts,
            walk_all=any(_ESCAPED.search(x) for x in names),
            strings=needles(lowered, (a.decode() for a in accounts)),
        )

    def may_reach(self, env: str, r: Resource) -> bool:
        """False only when no string of ``r`` can name another environment (see the module docstring)."""
        needles = self._prefilter.get(env, _WALK_ALL)
        if needles is None:
            return False
        try:
            return needles.found_in(_serialised([r]))
        except TypeError:  # not serialisable as JSON (too deep, odd keys): walk it
            return True

    def reaching(self, env: str, resources: Iterable[Resource]) -> Iterator[Resource]:
        """The resources of ``env`` that :meth:`may_reach` another environment, in order. Checked a batch
        at a time first: most batches hold none, and one call per batch costs less than one per resource."""
        needles = self._prefilter.get(env, _WALK_ALL)
        if needles is None:
            return
        if self._compiled and needles.strings is not None:  # every string value read in C, nothing serialised
            rs = list(resources)
            hits = values_holding(
                [[r.attributes, dict(r.tags)] if r.tags else r.attributes for r in rs], needles.strings
            )
            yield from (r for r, hit in zip(rs, hits, strict=True) if hit)
            return
        batch: list[Resource] = []
        for r in resources:
            batch.append(r)
            if len(batch) == _BATCH:
                yield from self._batch(env, needles, batch)
                batch = []
        yield from self._batch(env, needles, batch)

    def _batch(self, env: str, needles: _Needles, batch: list[Resource]) -> Iterator[Resource]:
        try:
            if not batch or not needles.found_in(_serialised(batch)):
                return
        except TypeError:  # one of them is not serialisable: each is checked alone
            pass
        yield from (r for r in batch if self.may_reach(env, r))

    def reached(self, env: str, value: str) -> dict[str, list[str]]:
        """Other environment -> reasons, for one string value found in ``env``."""
        out: dict[str, list[str]] = defaultdict(list)
        for part in identifier_parts(value):
            for m in _ACCOUNT.finditer(part):
                owners = self.account_owner.get(m.group())
                if owners and env not in owners:
                    for o in sorted(owners):
                        out[o].append(f"account {m.group()}")
            if self.domain_owner:
                for m in _HOST.finditer(part):
                    owners = self._host_owners(m.group().lower())
                    if owners and env not in owners:
                        for o in sorted(owners):
                            out[o].append(f"hostname {m.group()}")
            if self.tokens is not None:
                for m in self.tokens.finditer(part):
                    owners = self.token_owner.get(m.group().lower(), set())
                    if len(owners) == 1 and env not in owners:
                        (o,) = owners
                        out[o].append(f"name token {m.group()!r}")
        return out

    def _host_owners(self, host: str) -> set[str] | None:
        labels = host.split(".")
        for i in range(len(labels) - 1):
            owners = self.domain_owner.get(".".join(labels[i:]))
            if owners:
                return owners
        return None


_BATCH = 64
# Above this many foreign accounts, digit runs are looked up in a set instead of each account searched for.
_FEW_ACCOUNTS = 16


def _serialised(resources: Sequence[Resource]) -> bytes:
    """The text of ``resources``' attributes and tags (a superset of what :func:`_resource_strings` yields)."""
    return json_bytes([[r.attributes, dict(r.tags)] if r.tags else r.attributes for r in resources])


@dataclass(frozen=True)
class _Needles:
    """Another environment's traces, as plain text: domains and token spellings (lower-cased, looked for in
    lower-cased text) and account ids. ``walk_all``: some literal would not be written verbatim in JSON."""

    names: tuple[bytes, ...]
    accounts: frozenset[bytes]
    walk_all: bool = False
    strings: Needles | None = None  # the same, looked for in string values (parity.compare.textscan)

    def found_in(self, text: bytes) -> bool:
        if self.walk_all:
            return True
        if self.names:
            low = text.lower()
            if any(n in low for n in self.names):
                return True
        if len(self.accounts) <= _FEW_ACCOUNTS:
            return any(a in text for a in self.accounts)
        # every run of digits, not only runs of exactly 12: JSON writes a control character before an
        # account id as \u00XX, which joins the digits that the walk sees apart
        for run in _DIGITS.findall(text):
            if run in self.accounts or any(run[i : i + 12] in self.accounts for i in range(len(run) - 11)):
                return True
        return False


_WALK_ALL = _Needles((), frozenset(), walk_all=True)


def _strings(value: Json, path: str) -> Iterator[tuple[str, str]]:
    t = type(value)
    if t is str:
        yield path, value
    elif t is dict:
        for k, v in value.items():
            if str(k).lower().replace("_", "").replace("-", "") in FREE_TEXT_KEYS:
                continue
            yield from _strings(v, join_key(path, str(k)))
    elif t is list:
        f = identity_field(value)
        for i, v in enumerate(value):
            yield from _strings(v, join_item(path, str(v[f]) if f is not None else str(i)))


def _resource_strings(r: Resource) -> Iterator[tuple[str, str]]:
    yield from _strings(r.attributes, "")
    if r.tags and "tags" not in r.attributes:
        yield from _strings(dict(r.tags), "tags")


def find_cross_env_references(inventories: Sequence[Inventory], rules: Rules) -> list[Finding]:
    """``cross_env_reference`` findings for every environment (see the module docstring)."""
    envs = list(dict.fromkeys([*rules.tokens, *(i.environment for i in inventories)]))
    scanner = _Scanner(envs, rules, inventories)
    found: list[Finding] = []
    # The same object seen by code and by a live source says the same thing twice: one finding, from
    # the declaration (it has a file to point at), keyed by (environment, type, native id, path).
    seen: set[tuple[str, str, str, str]] = set()
    for inv in inventories:
        env = inv.environment
        ordered = sorted(inv.snapshots, key=lambda s: s.role != "declared")
        for r in scanner.reaching(env, (r for snap in ordered for r in snap.resources)):
            for path, value in _resource_strings(r):
                if is_redacted(value):
                    continue
                reached = scanner.reached(env, value)
                if not reached:
                    continue
                others = tuple(sorted(reached))
                reasons = "; ".join(f"{o}: {', '.join(dict.fromkeys(rs))}" for o, rs in sorted(reached.items()))
                shown = value if len(value) <= 120 else value[:117] + "..."
                f = Finding(
                    kind="cross_env_reference",
                    severity=reference_severity(env, others, rules.promotion),
                    type=r.type,
                    key=r.key,
                    environments=(env, *others),
                    resources={env: r.id},
                    message=f"{r.type} {label(r)} in {env}: {path or '(value)'} = {shown!r} reaches "
                    f"{', '.join(others)} ({reasons})",
                    changes=(Change(path, value, None),),
                    location=r.location,
                    detail=path,
                )
                same = (env, r.type, r.id, path)
                if same in seen:
                    continue
                seen.add(same)
                found.append(f)
    # two resources sharing a key (two states of one environment) each keep their finding
    return sorted(tell_apart(found), key=lambda f: (f.environments, f.type, f.key, f.detail))
