"""Cross-environment placeholders: what makes two mirrors' values comparable.

Between two environments the same resource differs by construction in a few places: the environment's
own name tokens (``shop-prod`` / ``shop-staging``), its account ids, its region. :class:`Placeholders`
for one environment replaces, inside every string (ARNs, hostnames, bucket names, embedded files):

- that environment's name tokens, as whole parts (split on non-alphanumerics), written in lower,
  Capitalised or UPPER case: ``api-prod``, ``Prod-db``, ``SHOP_PRODUCTION`` -> ``{env}``;
  ``product`` is left alone;
- that environment's account ids (12 digits, not part of a longer number) -> ``{account}``, and the
  account position of any ARN unless it is an account known to belong to *another* environment (so a
  reference to another environment's account stays visible as a difference);
- AWS region names (``eu-west-1``; in an availability zone ``eu-west-1a`` the zone letter is kept)
  -> ``{region}``;
- AWS-generated native ids (``sg-0abc...``, ``vpc-``, ``subnet-``, ``i-``, ``vol-``, ``eni-``, ...) ->
  ``sg-{id}``: they differ between any two environments by construction. AMI ids are kept: a
  different image is a real difference.

The same substitution is offered on serialised JSON bytes (:meth:`Placeholders.sub_bytes`, one compiled
regex over a whole buffer: how the comparison checks 100k resources for equality quickly) and on
values (:meth:`Placeholders.apply`, walking strings and mapping keys: used on the few resources that
differ, to find the paths). Each kind of substitution is its own pass whose pattern starts with a
literal (the token, the account id, a region name found in the data, ``-`` before a hex id, ``arn:``):
Python's regex engine then skips ahead with a fast literal scan instead of trying a pattern at every
byte, which is what makes 100k resources affordable. The value form is the bytes form applied to the
value's serialisation, so the two agree by construction: "equal after sub_bytes" is exactly "no
changes after apply". (In the serialised form a newline or tab inside a string is ``\\n``/``\\t``;
the patterns treat those escapes as part boundaries. Account ids are substituted inside strings only,
never as bare JSON numbers.)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from parity.model import Json
from parity.serialize import json_bytes

ENV = "{env}"
ACCOUNT = "{account}"
REGION = "{region}"
ID = "{id}"
AWS_ID_PREFIXES = (
    "sg", "vpc", "subnet", "i", "vol", "eni", "igw", "rtb", "acl", "nat", "eipalloc", "snap",
    "lt", "tgw", "tgw-attach", "vpce", "pcx", "dopt", "sgr", "eigw", "rtbassoc", "fs", "fsmt",
)  # fmt: skip

_REGION_HEADS = r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso|-isob)?"
_REGION_DIRS = r"-(?:northeast|southeast|northwest|southwest|north|south|east|west|central)-[0-9]"
REGION_PATTERN = _REGION_HEADS + _REGION_DIRS
# Where a region name can be: found fast from its literal-led middle, then read whole from its context.
_REGION_MIDDLE = re.compile(_REGION_DIRS.encode() + rb"(?![0-9])")
_REGION_AT_END = re.compile((_REGION_HEADS + _REGION_DIRS + "$").encode())


def _variants(token: str) -> list[str]:
    return list(dict.fromkeys((token.lower(), token.capitalize(), token.upper())))


def _part(literal: str, after: str = r"(?![A-Za-z0-9])") -> str:
    """A branch matching ``literal`` as a whole part; the assertions follow the literal (see module doc)."""
    n = "." * len(literal)
    return re.escape(literal) + rf"(?:(?<![A-Za-z0-9]{n})|(?<=\\[ntrbf]{n}))" + after


def token_variants(tokens: Iterable[str]) -> tuple[str, ...]:
    """Every spelling of ``tokens`` that is matched (lower, Capitalised, UPPER), longest first."""
    toks = sorted({t.lower() for t in tokens if t}, key=lambda t: (-len(t), t))
    return tuple(v for t in toks for v in _variants(t))


def token_pattern(tokens: Iterable[str]) -> str | None:
    """Regex source matching any of ``tokens`` as a whole part (lower/Capitalised/UPPER), longest first."""
    variants = token_variants(tokens)
    return "|".join(_part(v) for v in variants) if variants else None


@functools.lru_cache(maxsize=256)
def _token_regex(variants: tuple[str, ...]) -> re.Pattern[bytes]:
    return re.compile("|".join(_part(v) for v in variants).encode())


def _account_pattern(accounts: Sequence[str]) -> str:
    return "|".join(re.escape(a) + r'(?<![0-9].{12})(?<!":.{12})(?<![\[,].{12})(?![0-9])' for a in accounts)


def _region_branches(regions: Iterable[str]) -> str:
    return "|".join(
        _part(r, r"(?![0-9])(?=[a-z]?(?![A-Za-z0-9]))") for r in sorted(set(regions), key=lambda r: (-len(r), r))
    )


@functools.lru_cache(maxsize=64)
def _region_regex(regions: tuple[str, ...]) -> re.Pattern[bytes]:
    return re.compile(_region_branches(regions).encode())


def regions_in(data: bytes) -> tuple[str, ...]:
    """The AWS region names written in ``data`` (found via their literal middle, then read whole)."""
    contexts = {data[max(0, m.start() - 9) : m.end()] for m in _REGION_MIDDLE.finditer(data)}
    found = set()
    for c in contexts:
        m = _REGION_AT_END.search(c)
        if m is not None:
            found.add(m.group().decode())
    return tuple(sorted(found))


# Serialising a batch: one ``orjson.dumps`` of the list [v1, SEP, v2, SEP, ...] (far cheaper than one call per
# value plus a join), split again on the separator's serialised form. No substitution can touch the
# separator (matches consist of token/account characters, letters, digits, ``-``, ``:`` and braces), and
# every value is a mapping, so the patterns' look-arounds never reach past a value's own braces.
_SEP_VALUE = "~|~"
_SEP = b',"~|~",'


def _batch_dumps(values: Sequence[dict[str, Any]], sort_keys: bool) -> bytes:
    """One ``orjson.dumps`` of ``[v1, SEP, v2, SEP, ...]`` (see :func:`_split_batch`)."""
    seq: list[Any] = [_SEP_VALUE] * (2 * len(values) - 1)
    seq[0::2] = values
    return json_bytes(seq, sort_keys)


def _split_batch(data: bytes, n: int) -> list[bytes] | None:
    """The ``n`` values' JSON from (substituted) :func:`_batch_dumps` output; None when the separator
    also occurs inside the data."""
    parts = data.split(_SEP)
    if len(parts) != n:
        return None
    parts[0] = parts[0][1:]  # the list's "[" and "]"
    parts[-1] = parts[-1][:-1]
    return parts


def serialize_records(values: Sequence[dict[str, Any]], sort_keys: bool = False, chunk: int = 2000) -> list[bytes]:
    """``[orjson.dumps(v) for v in values]`` (keys sorted when asked), with one ``dumps`` per chunk."""
    out: list[bytes] = []
    for i in range(0, len(values), chunk):
        part = values[i : i + chunk]
        got = _split_batch(_batch_dumps(part, sort_keys), len(part)) if len(part) > 1 else None
        out += got if got is not None else [json_bytes(v, sort_keys) for v in part]
    return out


def _case_groups(tokens: Sequence[str]) -> tuple[tuple[tuple[str, ...], bool], ...] | None:
    """The token spellings as two groups, lower case and the rest (Capitalised and UPPER), longest first
    in each, each with whether its spellings share a leading literal (2+ characters in lower case, where
    single letters are everywhere; the first character in the other group, an upper-case letter); None
    when not all tokens qualify.

    For ASCII-alphanumeric tokens, one pass per group gives what one pass over all spellings gives:
    two whole-part matches can then neither overlap nor touch, so no pass changes another's
    matches. A group's spellings mostly share a leading literal (``prod``/``production``,
    ``Prod``/``PROD``), which lets the regex engine scan fast even when no spelling is present: no
    presence test needed.
    """
    if not tokens or not all(t.isascii() and t.isalnum() for t in tokens):
        return None
    toks = sorted(set(tokens), key=lambda t: (-len(t), t))
    lower = tuple(toks)
    other = [c for t in toks if (c := t.capitalize()) != t]
    other += [u for t in toks if (u := t.upper()) not in (t, t.capitalize())]
    rest = tuple(sorted(other, key=lambda v: (-len(v), v)))
    groups = [(lower, len(lower) == 1 or len({v[:2] for v in lower}) == 1)]
    if rest:
        groups.append((rest, len({v[:1] for v in rest}) == 1))
    return tuple(groups)


_AWS_ID = re.compile(
    (
        r"-(?=[0-9a-f]{8})(?:"
        + "|".join(rf"(?<=[^A-Za-z0-9-]{re.escape(p)}-)|(?<=\\[ntrbf]{re.escape(p)}-)" for p in sorted(AWS_ID_PREFIXES))
        + r")(?:[0-9a-f]{17}|[0-9a-f]{8})(?![A-Za-z0-9])"
    ).encode()
)
_AWS_ID_S = re.compile(_AWS_ID.pattern.decode())
_REGION_S = re.compile(r"(?:(?<![A-Za-z0-9])|(?<=\\[ntrbf]))" + REGION_PATTERN + r"(?![0-9])(?=[a-z]?(?![A-Za-z0-9]))")


_ID_PREFIXES = tuple(p.encode() for p in AWS_ID_PREFIXES)


def _sub_ids_re(data: bytes, prefixes: tuple[bytes, ...]) -> bytes:
    return _AWS_ID.sub(b"-{id}", data)


@functools.cache
def _passes() -> tuple[Callable[[bytes, tuple[bytes, ...]], bytes], Callable[[bytes, tuple[bytes, ...]], bytes] | None]:
    """The generated-id pass and the ARN-account pass over bytes: compiled (``_cwalk.c``, the same matches
    as the regexes; tests/test_cwalk.py) where built, else the regexes (None: ``Placeholders`` uses its own)."""
    from parity.normalize.native import compiled

    c = compiled()
    if c is None:
        return _sub_ids_re, None
    return c.sub_generated_ids, c.sub_arn_accounts


class Placeholders:
    """The placeholder substitution for one environment (see the module docstring)."""

    def __init__(
        self,
        tokens: Iterable[str],
        accounts: Iterable[str] = (),
        foreign_accounts: Iterable[str] = (),
    ) -> None:
        self.tokens = tuple(dict.fromkeys(t.lower() for t in tokens if t))
        self.accounts = tuple(dict.fromkeys(a for a in accounts if a))
        self.foreign_accounts = tuple(dict.fromkeys(a for a in foreign_accounts if a and a not in self.accounts))
        tok = token_pattern(self.tokens)
        self._variants = token_variants(self.tokens)
        self._tok_s = re.compile(tok) if tok else None
        acct = _account_pattern(self.accounts) if self.accounts else None
        self._acct_b = re.compile(acct.encode()) if acct else None
        self._acct_s = re.compile(acct) if acct else None
        foreign = "".join(f"(?!{re.escape(a)})" for a in self.foreign_accounts)
        arn = r"(arn:aws[a-z-]*:[A-Za-z0-9-]*:(?:\{region\})?:)" + foreign + r"[0-9]{12}(?=:)"
        self._arn_s = re.compile(arn)
        self._arn_b = re.compile(arn.encode())
        self._foreign_b = tuple(a.encode() for a in self.foreign_accounts)
        # One search telling whether sub_str could change a string at all (most names: no).
        self._any_s = re.compile("|".join(p for p in (tok, acct, _REGION_S.pattern, _AWS_ID_S.pattern) if p))
        self._tok_groups = _case_groups(self.tokens)
        self._regions: tuple[str, ...] = ()  # AWS regions seen so far (see _sub_regions)
        # Batching with _SEP is exact unless a configured token or account could match inside it.
        self._batchable = not any(c in v for v in (*self._variants, *self.accounts) for c in _SEP.decode())

    def sub_str(self, s: str) -> str:
        if "arn:" not in s and self._any_s.search(" " + s) is None:
            return s  # no pass would match (each pass then sees the string unchanged)
        return self._sub_joined('"' + s)[1:]  # as serialised: a quote before the start

    def sub_strs(self, strings: Sequence[str]) -> list[str]:
        """``[sub_str(s) for s in strings]``, one pass per pattern over them all (names for pairing)."""
        if len(strings) < 2 or any("\n" in s for s in strings):
            return [self.sub_str(s) for s in strings]
        # Each string behind a raw newline and a quote, as sub_str puts a quote before one string: the
        # patterns look at most at that quote before a string's start, and no match spans it.
        out = self._sub_joined('"' + '\n"'.join(strings))[1:].split('\n"')
        return out if len(out) == len(strings) else [self.sub_str(s) for s in strings]

    def _sub_joined(self, s: str) -> str:
        """Every string pass over ``s``, whose strings each follow a quote (the account and id patterns
        look one character before a match)."""
        if self._tok_s is not None:
            s = self._tok_s.sub(ENV, s)
        if self._acct_s is not None:
            s = self._acct_s.sub(ACCOUNT, s)
        s = _REGION_S.sub(REGION, s)
        s = _AWS_ID_S.sub("-" + ID, s)
        if "arn:" in s:
            s = self._arn_s.sub(r"\1{account}", s)
        return s

    def sub_bytes(self, data: bytes) -> bytes:
        if self._tok_groups is not None:
            for group, led in self._tok_groups:
                if not led:  # no shared literal to lead the pattern: keep only the spellings present
                    group = tuple(v for v in group if v.encode() in data)
                if group:
                    data = _token_regex(group).sub(b"{env}", data)
        elif self._variants:
            # only the spellings present (a cheap substring test) go into the pattern: fewer branches
            present = tuple(v for v in self._variants if v.encode() in data)
            if present:
                data = _token_regex(present).sub(b"{env}", data)
        if self._acct_b is not None:
            data = self._acct_b.sub(b"{account}", data)
        data = self._sub_regions(data)
        sub_ids, sub_arns = _passes()
        data = sub_ids(data, _ID_PREFIXES)
        if b"arn:" in data:
            data = self._arn_b.sub(rb"\1{account}", data) if sub_arns is None else sub_arns(data, self._foreign_b)
        return data

    @property
    def profile(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """Everything the substitution depends on: equal profiles substitute equal bytes equally."""
        return (self.tokens, self.accounts, self.foreign_accounts)

    def _sub_regions(self, data: bytes) -> bytes:
        """Every AWS region name in ``data`` -> ``{region}``. Finding which regions a buffer holds costs a
        look at every candidate; an inventory holds few regions, so the ones seen in earlier buffers are
        substituted first and only what is left is looked at (usually nothing). Regions never overlap as
        whole parts, so the order of substitution does not matter."""
        known = self._regions
        if known:
            data = _region_regex(known).sub(b"{region}", data)
            if _REGION_MIDDLE.search(data) is None:
                return data
        found = tuple(r for r in regions_in(data) if r not in known)
        if found:
            self._regions = tuple(sorted({*known, *found}))
            data = _region_regex(found).sub(b"{region}", data)
        return data

    def sub_records(self, values: Sequence[dict[str, Any]], chunk: int = 2000, sort_keys: bool = True) -> list[bytes]:
        """``[sub_bytes(JSON of v) for v in values]`` (sorted keys unless ``sort_keys`` is false), one pass per
        pattern per chunk.

        Chunks of a few MB keep each pass's input and output in the CPU caches; one buffer for 100k
        resources (~80 MB, reallocated by every pass) costs about a third more.
        """
        out: list[bytes] = []
        for i in range(0, len(values), chunk):
            out += self._sub_batch(values[i : i + chunk], sort_keys)
        return out

    def sub_serialized(self, records: Sequence[bytes], chunk: int = 2000) -> list[bytes]:
        """``[sub_bytes(r) for r in records]`` for serialised mappings, one pass per pattern per chunk."""
        out: list[bytes] = []
        for i in range(0, len(records), chunk):
            part = records[i : i + chunk]
            # orjson never writes a raw newline (it escapes them in strings): a safe record separator,
            # which no substitution can create or remove, and a mapping's braces stop every look-around.
            got = self.sub_bytes(b"\n".join(part)).split(b"\n")
            out += got if len(got) == len(part) else [self.sub_bytes(r) for r in part]
        return out

    def _sub_batch(self, values: Sequence[dict[str, Any]], sort_keys: bool) -> list[bytes]:
        n = len(values)
        if n > 1 and self._batchable:  # one serialisation, substituted whole, then split
            parts = _split_batch(self.sub_bytes(_batch_dumps(values, sort_keys)), n)
            if parts is not None:
                return parts
        if not values:
            return []
        return self.sub_serialized(serialize_records(values, sort_keys), chunk=n)

    def apply(self, value: Json) -> Json:
        """``value`` with every string (and mapping key) substituted: the bytes form, round-tripped."""
        try:
            return orjson.loads(self.sub_bytes(json_bytes(value)))
        except orjson.JSONDecodeError:  # a token that is also a JSON literal or number: walk the strings
            return self._walk(value)

    def _walk(self, value: Json) -> Json:
        t = type(value)
        if t is str:
            return self.sub_str(value)
        if t is dict:
            return {self.sub_str(k) if type(k) is str else k: self._walk(v) for k, v in value.items()}
        if t is list:
            return [self._walk(v) for v in value]
        return value


def name_key(p: Placeholders, name: str) -> str:
    """A name with the environment's placeholders applied, for pairing by name."""
    return p.sub_str(name)
