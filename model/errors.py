"""The one error type users see for bad input: a single line naming file, field, expectation."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """Bad input from a user file or the command line.

    ``str(err)`` is one line: ``<source>: <field path>: expected <what>, found <what>``.
    The CLI prints it and exits with code 2, without a traceback.
    """

    def __init__(self, source: str, field: str, expected: str, found: str) -> None:
        self.source = source
        self.field = field
        self.expected = expected
        self.found = found
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: expected {expected}, found {found}")
