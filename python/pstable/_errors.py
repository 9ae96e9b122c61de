"""pstable's exceptions. Each also derives from the builtin a caller would catch anyway."""

from __future__ import annotations

__all__ = [
    "Error",
    "InvalidArgument",
    "DimensionMismatch",
    "InvalidData",
    "InvalidState",
    "IoError",
    "FormatError",
]


class Error(Exception):
    """Base of every error pstable raises (C++ ``pstable::Error``)."""


class InvalidArgument(Error, ValueError):
    """A parameter or argument has a value the call cannot accept (k < 1, unknown metric, ...)."""


class DimensionMismatch(InvalidArgument):
    """Arrays whose number of columns disagrees with the index."""


class InvalidData(InvalidArgument):
    """NaN or infinite values, or a zero vector under the cosine metric."""


class InvalidState(Error, RuntimeError):
    """The call needs a state the index is not in (searching an empty index, ...)."""


class IoError(Error, OSError):
    """A file could not be opened, read or written."""


class FormatError(IoError):
    """A file was read but is malformed, truncated, corrupted, foreign or too new."""
