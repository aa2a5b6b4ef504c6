"""Errors a user can cause or fix, each one line that says what to do.

The CLI prints them as `error: <message>` and exits with `exit_code`; the UI shows the message.
Anything else that escapes is a bug and is reported as a runtime failure, still without a traceback.
"""


class RagError(Exception):
    """A failure the user can act on (missing model, broken file, ...). Exit code 1."""

    exit_code = 1


class BadInput(RagError):
    """The user's input is unusable (empty question, unknown option, ...). Exit code 2."""

    exit_code = 2


class ModelError(RagError):
    """A model could not be found, downloaded or verified."""


class IndexError_(RagError):
    """The index cannot be used and cannot be rebuilt."""
