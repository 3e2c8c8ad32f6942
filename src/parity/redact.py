"""Keyed hashing of secret values: a difference stays visible, the value never is.

The key lives beside the store (``.parity/hash.key``, created 0600 on first use) or comes from
``PARITY_HASH_KEY``. Both environments of one installation are hashed with the same key, so equal
secrets give equal markers; a marker from another installation cannot be matched against a guess
without that key (unlike a plain hash of a short password).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from parity.errors import ParityError
from parity.model import REDACTED_PREFIX, Json

# Names of settings whose values are treated as secret. The secret word must END the name (after an
# optional qualifier such as _pem or _value), matched on word parts after camelCase splitting, so
# "DB_PASSWORD", "apiKey", "client-secret", "private_key_pem" match while "password_policy",
# "secret_arn", "token_expiry" and "kms_key_id" (names *about* a secret, not holding one) do not.
# Plurals only where a plural still holds secrets ("passwords", "api_keys"); not "tokens", which more often
# counts something (max_tokens). "_base" is Rails' secret_key_base.
_SECRET_WORDS = re.compile(
    r"(^|[^a-z0-9])(passwords?|passwd|pwd|secret|secrets|token|apikeys?|api_keys?|private_keys?|privatekeys?|"
    r"credential|credentials|access_keys?|accesskeys?|secret_keys?|secretkeys?|client_secrets?|auth_token|"
    r"connection_strings?|connectionstrings?|dsn|passphrase|signing_keys?|encryption_keys?|sas_token|"
    r"ssh_keys?|webhook_url|session_token|bearer|cookie_secret|master_keys?|license_keys?)"
    r"([_\-.](pem|value|b64|base64|plaintext|wo|string|data|base))?([_\-.]?v?\d+)?$"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

HASH_PREFIX_LEN = 12
_RESTORE = "restore it, or remove it to start a new key (markers stored with the old key will then differ)"


def looks_secret(name: str) -> bool:
    """True when a setting called ``name`` probably holds a secret value."""
    snake = _CAMEL.sub("_", name.strip()).lower().replace("-", "_")
    return bool(_SECRET_WORDS.search(snake))


def is_redacted(value: Json) -> bool:
    return isinstance(value, str) and value.startswith(REDACTED_PREFIX) and value.endswith(">")


class Redactor:
    """Turns a value into ``<redacted:HASHPREFIX>`` with an HMAC-SHA256 under the installation key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("hash key must be at least 16 bytes")
        self._key = key

    def redact(self, value: Json) -> str:
        if is_redacted(value):
            return str(value)
        payload = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        digest = hmac.new(self._key, payload, hashlib.sha256).hexdigest()
        return f"{REDACTED_PREFIX}{digest[:HASH_PREFIX_LEN]}>"

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> Redactor:
        """The installation's redactor: ``PARITY_HASH_KEY`` or the key file under ``state_dir``. A key that
        cannot be read or used is a ParityError naming where it comes from (never a traceback)."""
        env_key = os.environ.get("PARITY_HASH_KEY")
        if env_key:
            if len(env_key.encode()) < 16:
                raise ParityError("PARITY_HASH_KEY: the hash key must be at least 16 bytes")
            return cls(env_key.encode())
        key_file = state_dir / "hash.key"
        try:
            if key_file.exists():
                return cls._from_file(key_file)
            state_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another parity process created it first: use theirs
                return cls._from_file(key_file)
            with os.fdopen(fd, "w") as fh:
                fh.write(key.hex())
            return cls(key)
        except OSError as e:
            raise ParityError(f"{e.filename or key_file}: cannot use the hash key file: {e.strerror}") from None

    @classmethod
    def _from_file(cls, key_file: Path) -> Redactor:
        text = key_file.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise ParityError(f"{key_file}: not a hash key (hex digits expected); {_RESTORE}") from None
        if len(key) < 16:
            raise ParityError(f"{key_file}: the hash key is shorter than 16 bytes; {_RESTORE}")
        return cls(key)


# Setting names repeat across thousands of resources; remembering the verdict keeps the per-key cost of a
# 100,000-resource state to one dict lookup. Bounded so hostile input cannot grow it without end.
_SECRET_CACHE: dict[str, bool] = {}
_SECRET_CACHE_MAX = 100_000


def _is_secret_key(name: object) -> bool:
    if not isinstance(name, str):
        return False  # only built (not parsed) data has other keys; none of them names a secret
    hit = _SECRET_CACHE.get(name)
    if hit is None:
        hit = looks_secret(name)
        if len(_SECRET_CACHE) < _SECRET_CACHE_MAX:
            _SECRET_CACHE[name] = hit
    return hit


_Native = Callable[[Any, dict[str, bool], Callable[[object], bool], Callable[[Json], str]], bool]


@functools.cache
def _native_redaction() -> _Native | None:
    """The compiled port of the walk below (``parity/normalize/_cwalk.c``, 2.2-2.6x faster in ``bench/run
    breakdown --only walks``; the tests hold the two to the same result), or None where it was not built or
    ``PARITY_PURE_PYTHON`` is set."""
    from parity.normalize.native import compiled

    c = compiled()
    return None if c is None else c.redact_secret_keys  # type: ignore[no-any-return]


def redact_secret_keys_in_place(root: dict[str, Json] | list[Json], redactor: Redactor) -> bool:
    """Replace, in place, every value under a key that :func:`looks_secret` by its marker, at any depth of
    objects and lists (a whole object or list under such a key becomes one marker; null stays null).
    True when something was replaced.

    The one implementation of the rule: the Terraform readers apply it to the attributes they parsed, live
    sources (through :func:`redact_secret_keyed`) to what they build, so a tag ``db_password = "x"`` is the
    same marker in code and live. Only plain dicts and lists are descended (what a JSON parser makes).
    A value orjson cannot serialise (nested deeper than 254 levels) raises ``orjson.JSONEncodeError``."""
    native = _native_redaction()
    if native is not None and (type(root) is dict or type(root) is list):
        return native(root, _SECRET_CACHE, _is_secret_key, redactor.redact)
    # An explicit stack rather than recursion: this runs over every instance of a state (the benchmarked
    # path), and a parsed file may nest deeper than Python's recursion limit.
    cache = _SECRET_CACHE
    changed = False
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            for k, v in node.items():
                secret = cache.get(k)
                if secret is None:
                    secret = _is_secret_key(k)
                if secret:
                    if v is not None:
                        new = redactor.redact(v)
                        if new is not v:  # an existing marker is kept as it is
                            node[k] = new  # same key: safe while iterating
                            changed = True
                elif type(v) is dict or type(v) is list:
                    stack.append(v)
        else:
            for v in node:
                if type(v) is dict or type(v) is list:
                    stack.append(v)
    return changed


def _plain_copy(value: Json) -> Json:
    """``value`` with every object and list (subclasses included) copied as a plain dict or list."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value


def redact_secret_keyed(value: Json, redactor: Redactor) -> Json:
    """:func:`redact_secret_keys_in_place` for a value that must not change: ``value`` itself when nothing
    in it is secret, else a copy (every object and list copied) with the markers in place."""
    if not isinstance(value, dict | list):
        return value
    # Redacting a throw-away copy keeps a single implementation of the rule; live resources are small, so
    # the copy costs little next to the API calls that fetched them.
    out = _plain_copy(value)
    return out if redact_secret_keys_in_place(out, redactor) else value


# The password of a URL's user information: scheme://user:PASSWORD@host. The password runs to the last "@"
# before the host part (a "@" inside a password is common enough in hand-written URLs). The same pattern as
# the config sources' embedded-text redaction (parity.sources.config.redaction), so both hash alike.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<pw>[^\s/]*)@(?=[^\s@]*(?:[\s/]|$))")


def redact_url_passwords(text: str, redactor: Redactor) -> str:
    """``text`` with the password of every URL's user information (``https://user:PASSWORD@host/``)
    replaced by its marker; the scheme, user name, host and the rest stay readable."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: m["head"] + redactor.redact(m["pw"]) + "@" if m["pw"] else m[0], text)


def redact_paths(value: Json, patterns: tuple[str, ...], redactor: Redactor) -> Json:
    """``value`` with every leaf at one of ``patterns`` (noise-KB syntax: ``environment[].variables.*``)
    replaced by its marker. Used where a type declares values secret by position rather than by name
    (every Lambda environment variable), so code and live hash the same values the same way."""
    from parity.normalize.paths import ANY_ITEM, parse_pattern

    def walk(node: Json, parts: tuple[str, ...]) -> Json:
        if not parts:
            return node if node is None else redactor.redact(node)
        if isinstance(node, str) and node[:1] in ("{", "["):
            # a JSON document kept as a string (ECS container definitions): redact inside, keep it a string
            try:
                inner = orjson.loads(node)
            except orjson.JSONDecodeError:
                return node
            return orjson.dumps(walk(inner, parts)).decode()
        head, rest = parts[0], parts[1:]
        if head == ANY_ITEM and isinstance(node, list):
            return [walk(x, rest) for x in node]
        if isinstance(node, dict):
            if head == "*":
                return {k: walk(v, rest) for k, v in node.items()}
            if head in node:
                return {**node, head: walk(node[head], rest)}
        return node

    for p in patterns:
        value = walk(value, parse_pattern(p))
    return value
