"""Finding and reading the input files of declared sources, with one clear error per bad file."""

from __future__ import annotations

import glob as globlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from parity.errors import InputError

# A declared input larger than this is refused rather than read into memory (override with
# PARITY_MAX_INPUT_BYTES); real Terraform states of large estates stay well under it.
DEFAULT_MAX_INPUT_BYTES = 512 * 1024 * 1024
_SKIP_DIRS = {".git", ".terraform", "node_modules", ".parity", "__pycache__", ".venv"}


def max_input_bytes() -> int:
    raw = os.environ.get("PARITY_MAX_INPUT_BYTES")
    return int(raw) if raw and raw.isdigit() else DEFAULT_MAX_INPUT_BYTES


def display(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` where it lies under it, for messages and locations."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def expand(base: Path, specs: str | Iterable[str], suffixes: tuple[str, ...] | None = None) -> list[tuple[Path, Path]]:
    """Resolve a source's ``path`` setting to files.

    Each spec is a file, a folder (searched recursively, hidden and tool folders skipped, filtered by
    ``suffixes`` when given), or a glob. Returns ``(file, root)`` pairs, where ``root`` is the folder
    the relative path of the file is taken from (the folder itself, or the file's parent).
    A spec that names nothing is an error: a typo must not read as "no resources".
    """
    items = [specs] if isinstance(specs, str) else list(specs)
    out: dict[Path, Path] = {}
    for spec in items:
        p = Path(os.path.expanduser(spec))
        p = p if p.is_absolute() else base / p
        if any(ch in spec for ch in "*?[") and not p.exists():  # a folder may be called "x [old]"
            matches = sorted(Path(m) for m in globlib.glob(str(p), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise InputError(spec, "the pattern matches no file")
            root = Path(globlib.escape(str(p)).split("*")[0].split("?")[0].split("[")[0])
            root = root if root.is_dir() else root.parent
            for f in files:
                out.setdefault(f, root)
        elif p.is_dir():
            found = False
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
                for name in sorted(filenames):
                    f = Path(dirpath) / name
                    if suffixes is None or name.endswith(suffixes):
                        out.setdefault(f, p)
                        found = True
            if not found:
                want = ", ".join(suffixes) if suffixes else "any"
                raise InputError(spec, f"the folder holds no input file ({want})")
        elif p.is_file():
            out.setdefault(p, p.parent)
        elif p.exists():
            raise InputError(spec, "not a regular file (a device, pipe or socket)")
        else:
            raise InputError(spec, "no such file or folder")
    return sorted(out.items())


def read_bytes(path: Path, shown: str | None = None) -> bytes:
    """The file's bytes, refusing huge, binary and unreadable files with one clear error."""
    name = shown or str(path)
    try:
        st = path.stat()
    except OSError as e:
        raise InputError(name, f"cannot read: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):  # a pipe would block forever, a device never end
        raise InputError(name, "not a regular file (a device, pipe or socket)")
    size = st.st_size
    limit = max_input_bytes()
    if size > limit:
        raise InputError(name, f"is {size:,} bytes, over the {limit:,}-byte limit (PARITY_MAX_INPUT_BYTES)")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(name, f"cannot read: {e.strerror}") from None
    if b"\x00" in data[:8192]:
        raise InputError(name, "is a binary file, not text")
    return data


def read_text(path: Path, shown: str | None = None) -> str:
    data = read_bytes(path, shown)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(shown or str(path), f"is not UTF-8 text (byte {e.start})", line) from None


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (for JSON parser errors)."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col
