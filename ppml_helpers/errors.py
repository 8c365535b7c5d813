"""The course's exceptions, rooted at the built-in ones so callers can catch them."""

from __future__ import annotations

__all__ = ["ChecksumError", "DataNotFoundError", "NotebookBuildError", "NotebookExecutionTimeout"]


class DataNotFoundError(FileNotFoundError):
    """A dataset is missing and could not be downloaded (offline, or download off)."""


class ChecksumError(ValueError):
    """A dataset file exists but its checksum is not the published one."""


class NotebookBuildError(ValueError):
    """A solution notebook's markers are malformed; the message names notebook and cell."""


class NotebookExecutionTimeout(TimeoutError):
    """A notebook cell ran past its timeout, or its kernel died or stopped answering.

    The message names the notebook, the cell index and the cell's first line.
    """
