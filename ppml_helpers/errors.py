"""The course's exceptions, rooted at the built-in ones so callers can catch them."""

from __future__ import annotations

__all__ = ["ChecksumError", "DataNotFoundError", "NotebookBuildError"]


class DataNotFoundError(FileNotFoundError):
    """A dataset is missing and could not be downloaded (offline, or download off)."""


class ChecksumError(ValueError):
    """A dataset file exists but its checksum is not the published one."""


class NotebookBuildError(ValueError):
    """A solution notebook's markers are malformed; the message names notebook and cell."""
