# The C walk (_cwalk.c); see parity.normalize.canonical, whose Python walk is the reference.
from collections.abc import Callable
from typing import Any

def configure(
    nesting_error: type[Exception],
    json_in_text: Callable[[str], Any],
    dumps: Callable[..., bytes],
    sort_options: int,
    max_depth: int,
    /,
) -> None: ...
def walk(value: Any, rules: Any, /) -> Any: ...
def redact_secret_keys(
    root: Any, cache: dict[Any, bool], is_secret: Callable[[Any], bool], redact: Callable[[Any], str], /
) -> bool: ...
def sub_generated_ids(data: bytes, prefixes: tuple[bytes, ...], /) -> bytes: ...
def sub_arn_accounts(data: bytes, foreign_accounts: tuple[bytes, ...], /) -> bytes: ...
def equal_parts(
    left: list[Any],
    right: list[Any],
    needles: tuple[bytes, ...],
    max_depth: int,
    drops_left: list[frozenset[str] | None] | None = None,
    drops_right: list[frozenset[str] | None] | None = None,
    /,
) -> tuple[bytes, list[str], list[str], bytes, bytes]: ...
def settle(
    status: bytes, refs: bytes, bounds: bytes, left: list[str] | None, right: list[str] | None, /
) -> list[int]: ...
def holding(values: list[Any], needles: tuple[bytes, ...], accounts: frozenset[str], max_depth: int, /) -> bytes: ...
def spans(data: bytes | memoryview, kind: str, level: int = 1, /) -> bytes | None: ...
