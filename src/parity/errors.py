"""Errors a user can act on. The CLI prints them as one line and exits 1; never a traceback."""

from __future__ import annotations

from collections.abc import Mapping


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

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, int | None, int | None]]:
        # rebuilt from its fields (pickling, as a child process collecting an environment sends it back)
        return (type(self), (self.file, self.message, self.line, self.column))

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


def type_word(value: object, *, mapping: str = "an object") -> str:
    """A short type word for an error message: ``a list``, ``null``, ... (never the value: it may be a secret).

    ``mapping`` is the word for a mapping: the Terraform readers say "an object" (JSON's word), promotion
    says "a mapping" (:func:`parity.promotion.artifacts.shape`); both wordings are in messages users see."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a bool is an int to isinstance
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return mapping
    return "an unsupported value"
