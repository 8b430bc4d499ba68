"""The customer portal ("Central do assinante") under /central/: its own blueprint, pages and stylesheet."""
from __future__ import annotations

from flask import Flask

PREFIX = "/central/"


def init_portal(app: Flask) -> None:
    """Register the portal; its login, links and password change get the staff login's request rate limit."""
    from app.extensions import appbuilder
    from app.portal import views

    app.register_blueprint(views.portal)
    with app.app_context():
        sm = appbuilder.sm
        if sm.is_auth_limited:
            for endpoint in ("portal.login", "portal.request_access", "portal.first_access", "portal.new_password",
                             "portal.profile"):
                app.view_functions[endpoint] = sm.limiter.limit(sm.auth_rate_limit, methods=["POST"])(
                    app.view_functions[endpoint])
