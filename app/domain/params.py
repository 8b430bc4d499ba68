"""General parameters an administrator edits."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import GeneralParameters


def get_parameters(session: Session) -> GeneralParameters:
    """Return the parameters row, creating it with defaults when missing."""
    params = session.scalar(select(GeneralParameters).order_by(GeneralParameters.id).limit(1))
    if params is None:
        params = GeneralParameters(
            subject_required=True,
            closing_reason_required=False,
            reopen_window_hours=72,
            default_list_days=7,
            attachment_max_mb=10,
            attachment_extensions="pdf,png,jpg,jpeg,gif,txt,csv,xlsx,docx,odt,zip",
        )
        session.add(params)
        session.flush()
    return params
