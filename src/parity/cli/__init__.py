"""The ``parity`` command. Exit codes: 0 no drift, 2 drift, 1 error, 3 incomplete coverage with --strict."""

from __future__ import annotations

import os
import sys

import typer

from parity import __version__
from parity.cli import (
    aws_cmds,
    compare_cmds,
    history_cmds,
    perms_cmds,
    pipeline_cmds,
    promote_cmds,
    setup_cmds,
    watch_cmds,
)
from parity.errors import ParityError

app = typer.Typer(
    name="parity",
    help="Keep environments that should mirror each other in parity, and what is deployed in line with code.\n\n"
    "Start with `parity demo`, or `parity init` to write a parity.yaml, then `parity scan`.\n\n"
    "Exit codes: 0 no drift · 2 drift found · 1 error · 3 coverage incomplete (with --strict) · 130 interrupted.\n\n"
    "Every command explains itself and shows examples with --help, e.g. `parity scan --help`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

app.command()(compare_cmds.scan)
app.command()(compare_cmds.diff)
app.command()(compare_cmds.drift)
app.command()(history_cmds.history)
app.command()(history_cmds.accept)
app.command(name="promote-check")(promote_cmds.promote_check)
app.command()(pipeline_cmds.pipeline)
app.command()(watch_cmds.watch)
app.command()(setup_cmds.demo)
app.command()(setup_cmds.init)
app.command()(setup_cmds.schema)
app.command()(aws_cmds.types)
app.command()(aws_cmds.permissions)
app.command()(perms_cmds.perms)


@app.command()
def version(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also Python's version and whether the compiled walk is in use (bug reports)."
    ),
) -> None:
    """Print parity's version.

    \b
    Examples:
      parity version
      parity version --verbose
    """
    print(f"parity {__version__}")
    if verbose:
        import platform

        from parity.normalize.canonical import walk_status

        print(f"python {platform.python_version()} ({sys.executable})")
        print(f"canonical walk: {walk_status()}")


def _error_line(text: str) -> None:
    # Plain write, never wrapped: one error is one line, for people and for log parsers.
    sys.stderr.write(text.replace("\n", " ") + "\n")
    sys.stderr.flush()


# Ctrl-C: 128 + SIGINT, as shells report it. A scan stops whole: it is stored completely or not at all.
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; never lets a traceback reach the user unless PARITY_DEBUG is set."""
    try:
        result = app(args=argv, standalone_mode=False)
        if result == INTERRUPTED:  # typer turns Ctrl-C into this exit code, with nothing said
            _error_line("parity: interrupted")
        return int(result) if isinstance(result, int) else 0
    except typer.Exit as e:
        if e.exit_code == INTERRUPTED:  # typer's answer to Ctrl-C; say so rather than exit without a word
            _error_line("parity: interrupted")
        return int(e.exit_code)
    except KeyboardInterrupt:
        _error_line("parity: interrupted")
        return INTERRUPTED
    except typer.TyperException as e:
        # Usage errors (typer's vendored click) must exit 1, not 2: 2 means "drift found" to scripts.
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            _error_line(f"parity: error: {e.format_message()}")
        return 1
    except typer.Abort:
        _error_line("parity: aborted")
        return 1
    except ParityError as e:
        _error_line(f"parity: error: {e}")
        return 1
    except Exception as e:
        if os.environ.get("PARITY_DEBUG"):
            raise
        _error_line(f"parity: internal error: {type(e).__name__}: {e} (set PARITY_DEBUG=1 for the traceback)")
        return 1
