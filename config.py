"""Atende configuration, read from the environment."""
from __future__ import annotations

import os

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).lower() in ("1", "true", "yes", "on")


APP_NAME = "Atende"
APP_THEME = ""
APP_ICON = ""

SQLALCHEMY_DATABASE_URI = os.environ.get(
    "DATABASE_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "atende.db")
)
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = (
    {"pool_pre_ping": True} if SQLALCHEMY_DATABASE_URI.startswith("postgresql") else {}
)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = _flag("FLASK_DEBUG")
TESTING = _flag("ATENDE_TESTING")

WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
WTF_CSRF_CHECK_DEFAULT = True

AUTH_TYPE = AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
AUTH_RATE_LIMITED = True
RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
AUTH_RATE_LIMIT = "20 per 1 minute"
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
FAB_PASSWORD_COMPLEXITY_ENABLED = True  # validator: app.domain.accounts.check_password (app.security_views)

FAB_CREATE_DB = False
FAB_UPDATE_PERMS = False
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = True
FAB_ADD_OPENAPI_VIEWS = False  # app.api_contract serves the corrected spec and the Swagger UI
FAB_ADD_MENU_API = False  # the UI renders its menu on the server; no /api/v1/menu/
FAB_API_MAX_PAGE_SIZE = 100
FAB_SECURITY_MANAGER_CLASS = "app.security_views.AtendeSecurityManager"
FAB_INDEX_VIEW = "app.pages.home.HomeView"

BABEL_DEFAULT_LOCALE = "pt_BR"
BABEL_DEFAULT_TIMEZONE = "America/Sao_Paulo"
BABEL_TRANSLATION_DIRECTORIES = "translations"
LANGUAGES = {"pt_BR": {"flag": "br", "name": "Português"}}

APP_TIMEZONE = "America/Sao_Paulo"
UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(BASE_DIR, "instance", "uploads"))
MAX_CONTENT_LENGTH = 25 * 1024 * 1024

# Exports (XLSX/PDF) and background jobs (app/jobs.py)
JOBS_URL = os.environ.get("JOBS_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "jobs.sqlite3"))
JOBS_IN_PROCESS_WORKER = _flag("JOBS_IN_PROCESS_WORKER", "1")
EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER", os.path.join(BASE_DIR, "instance", "exports"))
EXPORT_SYNC_MAX_ROWS = int(os.environ.get("EXPORT_SYNC_MAX_ROWS", "2000"))
EXPORT_KEEP_DAYS = int(os.environ.get("EXPORT_KEEP_DAYS", "7"))
MASS_SYNC_MAX = int(os.environ.get("MASS_SYNC_MAX", "50"))  # larger mass actions run as background jobs

# Notifications (app.domain.notifications): e-mail over SMTP (Flask-Mailman), SMS through a provider; without
# MAIL_SERVER the e-mails wait in the outbox. Links in messages start with PUBLIC_BASE_URL.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:" + os.environ.get("PORT", "8080")).rstrip("/")
MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
MAIL_USE_TLS = _flag("MAIL_USE_TLS")
MAIL_USE_SSL = _flag("MAIL_USE_SSL")
MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Atende <atendimento@atende.local>")
MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "20"))
SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "log")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
NOTIFY_IN_BACKGROUND = _flag("NOTIFY_IN_BACKGROUND", "1")  # queue delivery after commit and sweep due messages
NOTIFY_SWEEP_SECONDS = int(os.environ.get("NOTIFY_SWEEP_SECONDS", "5"))
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "10"))
NOTIFY_RETRY_SECONDS = int(os.environ.get("NOTIFY_RETRY_SECONDS", "60"))  # doubled after each failure…
NOTIFY_RETRY_MAX_SECONDS = int(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", "3600"))  # …up to this

# Customer portal (/central/, app.portal): how long a first-access or new-password link lasts, and the least time a
# link request takes (the answer never tells whether the document exists).
PORTAL_LINK_HOURS = float(os.environ.get("PORTAL_LINK_HOURS", "1"))
PORTAL_LINK_MIN_SECONDS = float(os.environ.get("PORTAL_LINK_MIN_SECONDS", "0.5"))

# Dashboards are computed at most once a minute per scope and period; the cache is shared by the web
# workers through files in instance/ (no server needed); production may use CACHE_TYPE=RedisCache.
CACHE_TYPE = os.environ.get("CACHE_TYPE", "FileSystemCache")
CACHE_DIR = os.environ.get("CACHE_DIR", os.path.join(BASE_DIR, "instance", "cache"))
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "redis://127.0.0.1:6379/0")
CACHE_DEFAULT_TIMEOUT = 300
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "60"))

# Cookies are Secure outside development and tests; SESSION_COOKIE_SECURE=0 only for the local demo over plain
# HTTP on 127.0.0.1 (`make run`).
SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", "1") and not (DEBUG or TESTING)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"

# HTTP security headers (flask-talisman, app.init_headers). FORCE_HTTPS=1 in production behind TLS: http is
# redirected to https and HSTS is sent. Scripts run only from the application's files or with the page's nonce;
# styles keep 'unsafe-inline' because FAB's templates and widgets carry style="" attributes.
FORCE_HTTPS = _flag("FORCE_HTTPS")
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))  # reverse proxies in front (nginx: 1): trust X-Forwarded-For/Proto
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "same-origin"
JWT_ACCESS_TOKEN_EXPIRES = 3600

from app.security import ROLES as FAB_ROLES  # noqa: E402
