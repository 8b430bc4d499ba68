"""The customer portal (Central do assinante): the customer's account and access links (accounts), what the
customer reads and does with their tickets (tickets). Every query goes through app.domain.access."""
from __future__ import annotations

from app.domain.portal.accounts import set_portal_password

__all__ = ["set_portal_password"]
