"""Options shared by commands, output handling and the progress display."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parity.config import DEFAULT_CONFIG, LoadedConfig, load_config
from parity.errors import InputError
from parity.redact import Redactor
from parity.report import Report, render

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
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of standard output.")
]
StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Exit 3 when nothing drifted but something could not be checked (coverage gap)."),
]
ProgressOpt = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show progress on a terminal (never when piped).")
]

DEFAULT_CONFIG_PATH = Path(DEFAULT_CONFIG)


def load(path: Path) -> LoadedConfig:
    return load_config(path)


def redactor_for(loaded: LoadedConfig) -> Redactor:
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


def write_out(text: str, output: Path | None, what: str = "report") -> None:
    """``text`` to ``output`` (its folder created), or to stdout without one. A file that cannot be
    written (a folder, no permission, a full disk) is an InputError naming it, not a traceback."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as e:
        raise InputError(str(output), f"cannot write the {what}: {e.strerror or e}") from None
    err_console.print(f"{what} written to {output}", highlight=False, markup=False)


def emit(report: Report, fmt: Format, output: Path | None, strict: bool) -> int:
    """Print or write the report; returns the exit code the report calls for."""
    color = output is None and sys.stdout.isatty() and fmt is Format.table
    write_out(render(report, fmt.value, strict=strict, color=color), output)
    return report.exit_code(strict)
