"""Build hook: compiles parity's one C extension (``src/parity/normalize/_cwalk.c``: the canonical and the
redaction walks, two placeholder passes).

Into the wheel, or beside its source for an editable install (``pip install -e .``, what ``make setup``
runs; ``make`` rebuilds it when the C file changes). It is optional: where no C compiler is found the
build says so and parity runs the Python they port, with the same results, 2-2.5x slower in those steps
(docs/benchmarks.md). ``PARITY_PURE_PYTHON=1`` at build time skips it.

setuptools compiles it because it is the maintained way to drive the platform's C compiler with
Python's own flags; hatchling, which builds everything else, has no C support of its own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

EXTENSION = "parity.normalize._cwalk"
SOURCE = "src/parity/normalize/_cwalk.c"


class CWalkBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("PARITY_PURE_PYTHON", "") not in ("", "0"):
            return
        try:
            built = build(Path(self.root), inplace=version == "editable")
        except Exception as e:  # no compiler, no headers: parity still works, in pure Python
            print(f"parity: the C extension was not built ({e}); parity runs in pure Python", file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = "parity/normalize/" + built.name


def build(root: Path, inplace: bool) -> Path:
    """Compile the extension; returns the built file (beside its source when ``inplace``)."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    ext = Extension(EXTENSION, [SOURCE], extra_compile_args=["-O2"])
    cwd = os.getcwd()
    os.chdir(root)
    try:
        dist = Distribution({"name": "parity", "ext_modules": [ext], "package_dir": {"": "src"}})
        cmd = build_ext(dist)
        cmd.inplace = inplace
        tmp = tempfile.mkdtemp(prefix="parity-build-")
        cmd.build_temp = os.path.join(tmp, "temp")
        cmd.build_lib = os.path.join(tmp, "lib")
        cmd.ensure_finalized()
        cmd.run()
        return root / cmd.get_ext_fullpath(EXTENSION)
    finally:
        os.chdir(cwd)
