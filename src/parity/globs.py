"""Globs of ``expected`` and ``ignore`` rules (type, key, path), matched as users write them.

The one implementation: mirror comparison and ignores (:mod:`parity.compare`), the promotion ledger's
``expected`` check and :meth:`parity.config.Expected.matches` all match through here, so a rule means the
same wherever it is applied. It imports nothing of parity, so :mod:`parity.config` can use it.

- ``*`` matches any text (dots and brackets included), ``?`` one character;
- ``[`` and ``]`` match themselves: keys and paths are full of them (``aws_vpc.main[0]``,
  ``module.net.aws_subnet.private["a"]``, ``containers[web].image``), and a path copied from a finding
  must match that finding. A pattern that reads as an ``fnmatch`` character class (``aws_[sv]*``) still
  matches as one too;
- a **path** glob also matches every path beneath what it matches: ``tags`` covers ``tags.Owner``,
  ``resources`` covers ``resources.limits.cpu``, ``data["app.properties"]`` covers
  ``data["app.properties"]#http.timeout`` and ``...:line 3``. Which paths a difference has depends on
  what the two sides hold (a mapping on one side only is one change at its own path; on both sides, one
  per key beneath it), so a rule naming an attribute must cover both.

Patterns are compiled once (cached).
"""

from __future__ import annotations

import fnmatch
import functools
import re

_BENEATH = r"(?:[.\[#:].*)?"


def _literal_brackets(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _fnmatch_inner(pattern: str) -> str:
    t = fnmatch.translate(pattern)
    if t.startswith("(?s:") and t.endswith(r")\Z"):
        return t[4:-3]
    return _literal_brackets(pattern)  # an unknown translate() form: literal brackets only


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, beneath: bool) -> re.Pattern[str]:
    alts = [_literal_brackets(pattern)]
    if "[" in pattern:
        alts.append(_fnmatch_inner(pattern))
    body = "|".join(f"(?:{a})" for a in alts)
    return re.compile(f"(?s:(?:{body}){_BENEATH if beneath else ''})")


def glob_match(value: str, pattern: str) -> bool:
    """``value`` matches ``pattern`` (``*``, ``?``; brackets literal, or an fnmatch class)."""
    if pattern == "*" or value == pattern:
        return True
    return _compiled(pattern, False).fullmatch(value) is not None


def path_match(path: str, pattern: str) -> bool:
    """``path`` matches ``pattern`` or lies beneath a path that does (see the module docstring)."""
    if pattern == "*" or path == pattern:
        return True
    return _compiled(pattern, True).fullmatch(path) is not None


def rule_matches(
    rule_type: str,
    rule_key: str,
    rule_path: str | None,
    rule_envs: list[str] | None,
    type_: str,
    key: str,
    path: str | None,
    envs: tuple[str, ...],
) -> bool:
    """An ``expected``/``ignore`` rule's selectors against one type, key, (path) and environments."""
    if rule_envs is not None and not set(envs) <= set(rule_envs):
        return False
    if not (glob_match(type_, rule_type) and glob_match(key, rule_key)):
        return False
    return rule_path is None or path is None or path_match(path, rule_path)
