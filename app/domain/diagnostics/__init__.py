"""Diagnostics shown when a ticket is opened and saved with it (R22).

Providers are modules with TITLE and collect(session, customer, contract, ticket_id) -> list of
(label, value) pairs or None; DIAGNOSTIC_PROVIDERS in the config lists them, so a network
provider (RADIUS, OLT signal…) is one more module.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any, Optional

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.domain.clock import now

log = logging.getLogger(__name__)
DEFAULT_PROVIDERS = [
    "app.domain.diagnostics.contract",
    "app.domain.diagnostics.open_items",
]


def providers() -> list[Any]:
    names = DEFAULT_PROVIDERS
    if has_app_context():
        names = current_app.config.get("DIAGNOSTIC_PROVIDERS", DEFAULT_PROVIDERS)
    return [importlib.import_module(name) for name in names]


def snapshot(session: Session, customer: Any, contract: Any, ticket_id: Optional[int] = None) -> dict:
    """Run every provider; a failing provider is reported, never blocks the ticket."""
    sections = []
    for provider in providers():
        try:
            items = provider.collect(session, customer, contract, ticket_id)
        except Exception:  # a broken provider must not stop the agent
            log.exception("diagnostic provider %s failed", provider.__name__)
            items = [("Erro", "Diagnóstico indisponível")]
        if items:
            sections.append({"title": str(provider.TITLE), "items": [[str(k), str(v)] for k, v in items]})
    return {"taken_at": now().strftime("%d/%m/%Y %H:%M"), "sections": sections}


def take(session: Session, ticket: Any) -> None:
    """Save the diagnostics snapshot on the ticket."""
    with session.no_autoflush:
        if ticket.customer is None and ticket.contract is None:
            return
        ticket.diagnostics = snapshot(session, ticket.customer, ticket.contract, ticket.id)
