"""The application's singletons."""
from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_caching import Cache
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

db = SQLA(metadata=Model.metadata)
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
csrf = CSRFProtect()
cache = Cache()
talisman = Talisman()
