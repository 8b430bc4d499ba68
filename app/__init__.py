"""Atende: create_app() is a short list of init steps."""
from __future__ import annotations

import logging
import os
import sys
import secrets

import click
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


def create_app(config_object: str = "config", **overrides: object) -> Flask:
    """Build the Flask application."""
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"))
    app.config.from_object(config_object)
    app.config.update(overrides)
    init_secret_key(app)
    init_headers(app)
    init_extensions(app)
    init_appbuilder(app)
    init_portal(app)
    init_notifications(app)
    init_jinja(app)
    init_cli(app)
    init_jobs(app)
    return app


def init_secret_key(app: Flask) -> None:
    """Refuse to serve outside debug/test without a SECRET_KEY of at least 32 bytes."""
    key = app.config.get("SECRET_KEY") or ""
    if len(key.encode()) >= 32:
        return
    if app.config.get("DEBUG") or app.config.get("TESTING"):
        app.config["SECRET_KEY"] = key or secrets.token_hex(32)
        return
    in_cli = click.get_current_context(silent=True) is not None and "run" not in sys.argv[1:]
    if in_cli:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "SECRET_KEY ausente ou curta: defina SECRET_KEY com pelo menos 32 bytes "
        "(por exemplo: python -c 'import secrets; print(secrets.token_hex(32))')."
    )


def init_headers(app: Flask) -> None:
    """CSP with a nonce per page, no framing, nosniff, Referrer-Policy; https and HSTS when FORCE_HTTPS (first hook).

    Behind PROXY_COUNT reverse proxies the client's address and scheme come from their X-Forwarded-* headers (the
    login throttling counts per address).
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.extensions import talisman

    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    https = bool(app.config.get("FORCE_HTTPS"))
    talisman.init_app(
        app, force_https=https, strict_transport_security=https, frame_options="DENY",
        content_security_policy=app.config["CONTENT_SECURITY_POLICY"], content_security_policy_nonce_in=["script-src"],
        referrer_policy=app.config["REFERRER_POLICY"], session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: object, connection_record: object) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def init_extensions(app: Flask) -> None:
    from app.extensions import cache, csrf, db, migrate

    cache.init_app(app)

    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), compare_type=True)
    csrf.init_app(app)


def init_appbuilder(app: Flask) -> None:
    from app.extensions import appbuilder, db

    with app.app_context():
        appbuilder.init_app(app, db.session)
        from app import api, api_contract, pages, views

        views.register(appbuilder)
        pages.register(appbuilder)
        api.register(appbuilder)
        api_contract.register(appbuilder)
        exempt_api_from_csrf(appbuilder)
    init_jwt(app)


def exempt_api_from_csrf(appbuilder: object) -> None:
    """The REST API authenticates with JWT only (no cookies), so it needs no CSRF token."""
    from flask_appbuilder.api import BaseApi

    from app.extensions import csrf

    for view in appbuilder.baseviews:
        if isinstance(view, BaseApi) and getattr(view, "blueprint", None) is not None:
            csrf.exempt(view.blueprint)


def init_portal(app: Flask) -> None:
    from app.portal import init_portal as init

    init(app)


def init_jwt(app: Flask) -> None:
    """Answer a bad or expired token with 401, like a missing one."""
    from flask import jsonify
    from flask_babel import gettext

    jwt = app.extensions["flask-jwt-extended"]
    unauthorized = lambda *args: (jsonify(message=gettext("Token inválido ou expirado.")), 401)  # noqa: E731
    jwt.invalid_token_loader(unauthorized)
    jwt.expired_token_loader(unauthorized)
    jwt.unauthorized_loader(unauthorized)


def init_notifications(app: Flask) -> None:
    """E-mail over SMTP for the outbox (app.domain.notifications)."""
    from app.domain.notifications.channels import init_mail

    init_mail(app)


def init_jobs(app: Flask) -> None:
    from app.jobs import init_jobs as init

    init(app)


def init_jinja(app: Flask) -> None:
    from app import formatting

    app.jinja_env.filters.update(formatting.FILTERS)

    def ticket_workspace(ticket_id: int) -> dict:
        from app.domain.panel import workspace
        from app.extensions import db
        from app.viewbase import current_user

        return workspace(db.session, int(ticket_id), current_user())

    from app.domain.history import describe
    from app.domain.labels import choice_label

    from app.domain.legal_deadline import situation as legal_situation
    from app.domain.sla import remaining

    app.jinja_env.globals.update(ticket_workspace=ticket_workspace, event_label=describe, choice_label=choice_label,
                                 remaining_time=remaining, legal_situation=legal_situation)


def init_cli(app: Flask) -> None:
    from app.cli import commands

    for command in commands:
        app.cli.add_command(command)
