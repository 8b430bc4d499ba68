"""Small JSON look-ups for remote selects (≤ 20 rows, never a whole table), scoped to what the user may see."""
from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose

from app.extensions import db
from app.viewbase import current_user


class LookupView(BaseView):
    route_base = "/lookup"
    default_view = "lookup"

    @expose("/<kind>")
    def lookup(self, kind: str) -> Any:
        """Customers, contracts or tickets matching ``q``: a technician's or a customer's own only (access)."""
        user = current_user()
        if user is None or not getattr(user, "is_authenticated", False):
            abort(401)
        from app.domain.search import lookup

        rows = lookup(db.session, kind, request.args.get("q", ""), request.args.get("customer"), user,
                      show_cancelled=request.args.get("cancelados") == "1")
        if rows is None:
            abort(404)
        return jsonify(results=[{"id": pk, "text": text} for pk, text in rows])
