"""The secure aggregation errors, rooted at ``ValueError`` so callers can catch them.

Teaching code, introduced in ``06_secure_aggregation``.
"""

from __future__ import annotations

__all__ = ["DropoutError", "ProtocolError", "SecAggError"]


class SecAggError(ValueError):
    """Base class: the protocol stopped instead of returning a sum."""


class DropoutError(SecAggError):
    """Too few clients still respond in some round for the Shamir threshold: the server aborts.

    Attributes:
        round: the protocol round (0-3) where the count fell short.
        survivors: the clients that counted (all responders, or the
            responders in ``client``'s neighbourhood for SecAgg+).
        threshold: t.
        client: for SecAgg+, the client whose neighbourhood fell short; None
            when the whole federation did (Bonawitz).
    """

    def __init__(self, message: str, *, round: int, survivors: tuple[int, ...], threshold: int,
                 client: int | None = None):
        super().__init__(message)
        self.round = round
        self.survivors = survivors
        self.threshold = threshold
        self.client = client


class ProtocolError(SecAggError):
    """A message that an honest party must refuse (a forged share, a request for both secrets, …)."""
