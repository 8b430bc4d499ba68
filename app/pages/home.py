"""The home page: each role lands on its own work."""
from __future__ import annotations

from typing import Any

from flask_appbuilder import IndexView, expose

from app.extensions import db
from app.viewbase import current_user


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self) -> Any:
        user = current_user()
        summary = {}
        if user is not None and getattr(user, "is_authenticated", False):
            from app.domain.reports import home_summary

            summary = home_summary(db.session, user)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, summary=summary)
