"""Cross-environment placeholders: what makes two mirrors' values comparable.

Between two environments the same resource differs by construction in a few places: the environment's
own name tokens (``shop-prod`` / ``shop-staging``), its account ids, its region. :class:`Placeholders`
for one environment replaces, inside every string (ARNs, hostnames, bucket names, embedded files):

- that environment's name tokens, as whole parts (split on non-alphanumerics, case-insensitive):
  ``api-prod``, ``prod.example.com``, ``shop_production`` -> ``{env}``; ``product`` is left alone;
- that environment's account ids (12 digits, not part of a longer number) -> ``{account}``, and the
  account position of any ARN unless it is an account known to belong to *another* environment (so a
  reference to another environment's account stays visible as a difference);
- AWS region names (``eu-west-1``; in an availability zone ``eu-west-1a`` the zone letter is kept)
  -> ``{region}``.

The same substitution is offered on serialised JSON bytes (:meth:`Placeholders.sub_bytes`, one compiled
regex over a whole buffer: how the comparison checks 100k resources for equality quickly) and on
values (:meth:`Placeholders.apply`, walking strings and mapping keys: used on the few resources that
differ, to find the paths). The value form is the bytes form applied to the value's serialisation, so
the two agree by construction: "equal after sub_bytes" is exactly "no changes after apply". (In the
serialised form a newline or tab inside a string is ``\\n``/``\\t``; the patterns treat those escapes as
part boundaries. Account ids are substituted inside strings only, never as bare JSON numbers.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import orjson

from parity.model import Json

ENV = "{env}"
ACCOUNT = "{account}"
REGION = "{region}"

REGION_PATTERN = (
    r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso|-isob)?-"
    r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]"
)


def _case_free(token: str) -> str:
    """A token as a regex matching it in any letter case, without the (slow) IGNORECASE flag."""
    out = []
    for ch in token:
        if ch.isalpha() and ch.lower() != ch.upper():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def token_pattern(tokens: Iterable[str]) -> str | None:
    """Regex source matching any of ``tokens`` as a whole part, longest first; None when no tokens."""
    toks = sorted({t.lower() for t in tokens if t}, key=lambda t: (-len(t), t))
    if not toks:
        return None
    return _START + r"(?:" + "|".join(_case_free(t) for t in toks) + r")(?![A-Za-z0-9])"


# A part starts after a non-alphanumeric character, or after a \n \t \r escape in serialised JSON.
_START = r"(?:(?<![A-Za-z0-9])|(?<=\\[ntr]))"


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
        alts: list[str] = []
        tok = token_pattern(self.tokens)
        if tok:
            alts.append(f"(?P<env>{tok})")
        if self.accounts:
            accts = "|".join(map(re.escape, self.accounts))
            alts.append(r'(?P<account>(?<![0-9])(?<!":)(?<![\[,])(?:' + accts + r")(?![0-9]))")
        alts.append(r"(?P<region>" + _START + REGION_PATTERN + r"(?![0-9])(?=[a-z]?(?![A-Za-z0-9])))")
        main = "|".join(alts)
        foreign = "".join(f"(?!{re.escape(a)})" for a in self.foreign_accounts)
        arn = r"(arn:aws[a-z-]*:[A-Za-z0-9-]*:(?:\{region\})?:)" + foreign + r"[0-9]{12}(?=:)"
        self._main_s = re.compile(main)
        self._main_b = re.compile(main.encode())
        self._arn_s = re.compile(arn)
        self._arn_b = re.compile(arn.encode())

    @staticmethod
    def _repl_s(m: re.Match[str]) -> str:
        kind = m.lastgroup
        return ENV if kind == "env" else ACCOUNT if kind == "account" else REGION

    @staticmethod
    def _repl_b(m: re.Match[bytes]) -> bytes:
        kind = m.lastgroup
        return b"{env}" if kind == "env" else b"{account}" if kind == "account" else b"{region}"

    def sub_str(self, s: str) -> str:
        s = self._main_s.sub(self._repl_s, s)
        if "arn:" in s:
            s = self._arn_s.sub(r"\1{account}", s)
        return s

    def sub_bytes(self, data: bytes) -> bytes:
        data = self._main_b.sub(self._repl_b, data)
        if b"arn:" in data:
            data = self._arn_b.sub(rb"\1{account}", data)
        return data

    def apply(self, value: Json) -> Json:
        """``value`` with every string (and mapping key) substituted: the bytes form, round-tripped."""
        try:
            return orjson.loads(self.sub_bytes(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)))
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
