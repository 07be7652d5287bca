"""What the `harness` commands share at the terminal: their input error and their stderr."""

from __future__ import annotations

import sys


class InputError(ValueError):
    """A file, argument or environment a command cannot use (exit code 2); the message
    names the file and place, or the argument."""


def say(command: str, message: str) -> None:
    """Print a line of a command's progress or trouble to stderr, named by the command."""
    print(f"harness {command}: {message}", file=sys.stderr, flush=True)
