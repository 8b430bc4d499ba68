"""Helpers shared by the test modules: a database session outside any request, and users by login."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def session(app: Any) -> Iterator[Any]:
    """A database session outside any request (never shared with the test client)."""
    from app.extensions import db

    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def user(s: Any, username: str) -> Any:
    from app.extensions import appbuilder

    return appbuilder.sm.find_user(username=username)
