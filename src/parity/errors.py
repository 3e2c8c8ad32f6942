"""Errors a user can act on. The CLI prints them as one line and exits 1; never a traceback."""

from __future__ import annotations


class ParityError(Exception):
    """Base for every error that is the user's input or environment, not a bug."""


class InputError(ParityError):
    """A file parity was given is unreadable, malformed or unsupported: names the file and the place."""

    def __init__(self, file: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.file = file
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class ConfigError(InputError):
    """parity.yaml is invalid."""


class UsageError(ParityError):
    """The command line names something that does not exist (an unknown environment, finding, ...)."""
