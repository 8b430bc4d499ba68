"""Contract and service data of the ticket's contract."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l

from app.domain.labels import choice_label
from app.formatting import format_date

TITLE = _l("Contrato e serviço")


def collect(session: Any, customer: Any, contract: Any, ticket_id: Optional[int]) -> Optional[list]:
    if contract is None:
        return None
    return [
        (_l("Contrato"), contract.number),
        (_l("Situação"), choice_label("contract_status", contract.status)),
        (_l("Plano"), contract.plan or "—"),
        (_l("Login"), contract.login or "—"),
        (_l("Ativação"), format_date(contract.activated_at) or "—"),
        (_l("Endereço de instalação"), contract.address_line() or "—"),
        (_l("Estrutura"), contract.site or "—"),
    ]
