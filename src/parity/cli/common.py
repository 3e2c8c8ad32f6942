"""Options shared by commands, output handling and the progress display."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from parity.errors import InputError, ParityError

# Every command module imports this one, and typer builds every command for any invocation (`parity version`
# and `--help` too): what the command modules import at their top is paid by every command. The config
# models, the report renderers, the store (sqlalchemy, alembic) and the sources (boto3, hcl2) are imported
# by the functions that use them.
if TYPE_CHECKING:
    from parity.config import LoadedConfig
    from parity.redact import Redactor
    from parity.report import Report

err_console = Console(stderr=True, highlight=False)


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    junit = "junit"


ConfigOpt = Annotated[
    Path,
    typer.Option("-c", "--config", help="The parity config file.", envvar="PARITY_CONFIG", show_default=True),
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table (rich, for people), json (parity/findings@1), markdown (PR comments), "
        "sarif (SARIF 2.1.0, code scanning) or junit (JUnit XML, CI test reports).",
        case_sensitive=False,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the report to this file (its folder is created) instead of standard output.",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Exit 3 when nothing drifted but something could not be checked (coverage gap)."),
]
ProgressOpt = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Show a progress line on standard error when it is a terminal (never when piped).",
    ),
]

# parity.config.DEFAULT_CONFIG, spelled out: importing parity.config for it would load pydantic and the
# config models for every command (tests/test_startup.py checks that the two agree).
DEFAULT_CONFIG_PATH = Path("parity.yaml")


def load(path: Path) -> LoadedConfig:
    from parity.config import load_config

    return load_config(path)


def redactor_for(loaded: LoadedConfig) -> Redactor:
    from parity.redact import Redactor

    return Redactor.for_state_dir(loaded.state_dir())


@contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """Yields a callback taking one status line, or None when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with err_console.status("starting…") as status:

        def update(line: str) -> None:
            status.update(line)

        yield update


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_out(text: str, output: Path | None, what: str = "report") -> None:
    """``text`` to ``output`` (its folder created), or to stdout without one. A file that cannot be
    written (a folder, no permission, a full disk) is an InputError naming it, not a traceback."""
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away (| head): click ends quietly, exit 1
        except OSError as e:  # a full disk behind a redirect
            raise ParityError(f"cannot write the {what} to standard output: {e.strerror or e}") from None
        return
    tmp: Path | None = None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if (output.exists() and not output.is_file()) or output.is_symlink():
            output.write_text(text, encoding="utf-8")  # /dev/stdout, a FIFO, a link: written through as named
        else:
            # Written beside it and renamed into place: a full disk or Ctrl-C never leaves a truncated
            # report where a CI step would read it (os.replace is atomic on one filesystem).
            mode = output.stat().st_mode & 0o777 if output.exists() else 0o666 & ~_umask()
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=output.parent, prefix=f".{output.name}.", suffix=".tmp", delete=False
            ) as fh:
                tmp = Path(fh.name)
                fh.write(text)
            os.chmod(tmp, mode)
            os.replace(tmp, output)
            tmp = None
    except OSError as e:
        raise InputError(str(output), f"cannot write the {what}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    err_console.print(f"{what} written to {output}", highlight=False, markup=False)


def emit(report: Report, fmt: Format, output: Path | None, strict: bool) -> int:
    """Print or write the report; returns the exit code the report calls for."""
    from parity.report import render

    color = output is None and sys.stdout.isatty() and fmt is Format.table
    write_out(render(report, fmt.value, strict=strict, color=color), output)
    return report.exit_code(strict)
