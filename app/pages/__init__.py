"""Hand-made back-office pages (agent, lists, exports, dashboards, files, actions, technician).

The generated CRUD views are registered by app.views; these pages are registered here, after them.
"""
from __future__ import annotations

from typing import Any


def register(appbuilder: Any) -> None:
    """Add every hand-made page to FAB, then put "Novo atendimento" first in its menu."""
    from app.pages import agent, dashboard, errors, exports, files, guards, lookup, mass_jobs, technician, ticket_actions
    from app.pages import customer_access, health, notifications

    appbuilder.add_view_no_menu(lookup.LookupView)
    agent.register(appbuilder)
    ticket_actions.register(appbuilder)
    files.register(appbuilder)
    exports.register(appbuilder)
    mass_jobs.register(appbuilder)
    dashboard.register(appbuilder)
    technician.register(appbuilder)
    customer_access.register(appbuilder)
    notifications.register(appbuilder)
    health.register(appbuilder)
    errors.register(appbuilder)
    guards.register(appbuilder)
    move_to_front(appbuilder, "Service", "AgentSearch")


def move_to_front(appbuilder: Any, category: str, name: str) -> None:
    """Put one menu item first in its category (FAB keeps the order of registration)."""
    for item in appbuilder.menu.get_list():
        if item.name == category and item.childs:
            found = [child for child in item.childs if child.name == name]
            item.childs = found + [child for child in item.childs if child.name != name]
