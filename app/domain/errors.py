"""Typed errors of the domain layer; each carries a pt-BR message for the user."""
from __future__ import annotations


class DomainError(Exception):
    """A broken business rule; nothing was saved."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class ValidationError(DomainError):
    status = 400


class NotAllowed(DomainError):
    status = 403


class Conflict(DomainError):
    """A stale save (R12) or a frozen record."""

    status = 409
