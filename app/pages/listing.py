"""List pages driven by a CriteriaSet: filter panel, total ordering, paging, selection and mass actions.

FAB's list widget is kept for the small configuration tables; the big operational lists (tickets,
service orders) use this mixin so that the page, its exports and its mass actions read the very same
criteria, scope and order from the query string.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlencode

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.sql.util import ClauseAdapter
from werkzeug.datastructures import MultiDict

from app.domain import mass_jobs
from app.domain.clock import now
from app.domain.criteria import CriteriaSet, Selection
from app.domain.mass_jobs import MAX_SELECTION
from app.extensions import db
from app.models import MassJob
from app.viewbase import current_user

PAGE_SIZES = (20, 50, 100)
MASS_ACTION_MAX = MAX_SELECTION
COUNT_CAP = 10_000


@dataclass
class MassAction:
    name: str  # the view method, hence the permission can_<name>
    label: Any
    icon: str
    style: str = "default"


class CriteriaListMixin:
    """Mixed into a ModelView: ``list`` reads ``criteria`` from the query string."""

    criteria: CriteriaSet
    orderings: dict[str, tuple[Any, Any]] = {}
    order_by: Callable[[Any], list]
    list_template = "lists/list.html"
    row_template = ""
    mass_actions: list[MassAction] = []
    export_source: Optional[str] = None
    scope_args: dict[str, str] = {}
    mine = False  # the list shows only the current user's own records ("Meus atendimentos", "Minhas OS")

    # ------------------------------------------------------------ to define in the view
    def scope(self, user: Any) -> Optional[Any]:
        raise NotImplementedError

    def default_args(self) -> dict[str, str]:
        """Criteria applied when the page is opened without any (e.g. the last 7 days)."""
        return {}

    def new_record_link(self) -> Optional[tuple[str, Any]]:
        """The "+" of the list: where a new record starts, and its label (None: no button)."""
        return None

    def page_rows(self, query: Any) -> tuple[list, dict]:
        """Load the page's records (eagerly) and any per-row extras, in a fixed number of queries."""
        raise NotImplementedError

    # ------------------------------------------------------------ the machinery
    @property
    def model(self) -> Any:
        return self.datamodel.obj

    def selection(self, args: Any) -> Selection:
        return self.criteria.parse(args)

    def filtered(self, selection: Selection, columns: Any = None) -> Any:
        if columns is None:
            columns = [self.model]
        elif not isinstance(columns, list):
            columns = [columns]
        query = select(*columns)
        scope = self.scope(current_user())
        if scope is not None:
            query = query.where(scope)
        return query.where(*self.criteria.conditions(selection.values, now()))

    def list_redirect(self) -> Optional[Any]:
        joined = self.criteria.normalized(request.args)
        if joined is not None:
            return redirect(url_for(".list", **joined))
        if not self.criteria.parse(request.args).given:
            defaults = self.default_args()
            if defaults:
                args = request.args.to_dict(flat=False)
                args.update(defaults)
                return redirect(url_for(".list", **args))
        return None

    def page_args(self) -> tuple[int, int]:
        def number(name: str, default: int) -> int:
            raw = request.args.get(name, "")
            return int(raw) if raw.isdigit() else default

        size = number("psize", PAGE_SIZES[0])
        size = size if size in PAGE_SIZES else PAGE_SIZES[0]
        return max(number("page", 1), 1), size

    def render_list(self) -> Any:
        selection = self.selection(request.args)
        for error in selection.errors:
            flash(error, "warning")
        page, size = self.page_args()
        session = db.session
        ids, count = self.page_ids(selection, page, size)
        rows, extras = self.page_rows(select(self.model).where(self.model.id.in_(ids))) if ids else ([], {})
        position = {pk: index for index, pk in enumerate(ids)}
        rows = sorted(rows, key=lambda row: position[row.id])
        user = current_user()
        allowed = [action for action in self.mass_actions if self.can(action.name, user)]
        query_string = request.query_string.decode()
        return self.render_template(
            self.list_template,
            title=self.list_title,
            view=self,
            panel=self.criteria.panel(session, selection.values),
            values=selection.values,
            rows=rows,
            extras=extras,
            count=count,
            count_capped=count > COUNT_CAP,
            page=page,
            page_size=size,
            page_sizes=PAGE_SIZES,
            pages=max((count + size - 1) // size, 1),
            mass_actions=allowed,
            can_export=self.export_source is not None and self.can_export(user),
            export_args="&".join(part for part in (urlencode(self.scope_args), query_string) if part),
            query_string=query_string,
            orderings=self.orderings,
            order=request.args.get("order") or next(iter(self.orderings), ""),
            direction=request.args.get("direction") or "desc",
            when=now(),
            modelview_name=self.__class__.__name__,
        )

    def page_ids(self, selection: Selection, page: int, size: int) -> tuple[list[int], int]:
        """The ids of the page in the list order, and the number of matches (up to COUNT_CAP + 1).

        One query selects the matches (at most the cap) and sorts them, counting them on the way, so the
        database never walks a whole index looking for rare matches. When there are more than the cap the
        matches are dense, and the page is read in index order instead.
        """
        order = self.order_by(request.args)
        columns = {self.model.id.key: self.model.id}
        columns.update({column.key: column for _label, column in self.orderings.values()})
        matches = self.filtered(selection, list(columns.values())).limit(COUNT_CAP + 1).subquery()
        adapter = ClauseAdapter(matches)
        offset = (page - 1) * size
        rows = db.session.execute(
            select(matches.c.id, func.count().over().label("total"))
            .order_by(*[adapter.traverse(clause) for clause in order]).limit(size).offset(offset)
        ).all()
        if rows and rows[0].total <= COUNT_CAP:
            return [row.id for row in rows], rows[0].total
        if not rows and page == 1:
            return [], 0
        count = rows[0].total if rows else self.count(selection)
        if count <= COUNT_CAP:
            return [], count
        ids = db.session.scalars(self.filtered(selection, self.model.id).order_by(*order).limit(size).offset(offset))
        return list(ids), count

    def count(self, selection: Selection) -> int:
        """The number of matching records, counted up to COUNT_CAP + 1 (a list never needs more)."""
        capped = self.filtered(selection, self.model.id).limit(COUNT_CAP + 1).subquery()
        return db.session.scalar(select(func.count()).select_from(capped)) or 0

    def can(self, method: str, user: Any = None) -> bool:
        return self.appbuilder.sm.has_access(f"can_{method}", self.class_permission_name)

    def can_export(self, user: Any) -> bool:
        from flask import current_app

        return ("ExportView.export" in current_app.view_functions
                and self.appbuilder.sm.has_access("can_export", "ExportView"))

    def link(self, **changes: Any) -> str:
        """The current list URL with some arguments changed (None removes one)."""
        args = MultiDict(request.args)
        for key, value in changes.items():
            args.pop(key, None)
            if value is not None:
                args[key] = value
        return url_for(".list") + ("?" + urlencode(list(args.items(multi=True))) if args else "")

    # ------------------------------------------------------------ selection for mass actions
    def selected_ids(self) -> list[int]:
        """The ids ticked on the page, or every record the list's filter selects ("selecionar todos")."""
        form = request.form
        if form.get("select_all"):
            args = MultiDict(_parse_qs(form.get("select_all", "")))
            selection = self.criteria.parse(args)
            query = self.filtered(selection, self.model.id).order_by(*self.order_by(args)).limit(MASS_ACTION_MAX + 1)
            ids = list(db.session.scalars(query))
            if len(ids) > MASS_ACTION_MAX:
                flash(gettext("A seleção tem mais de %(max)d registros; refine os filtros.", max=MASS_ACTION_MAX),
                      "danger")
                abort(redirect(self.back_url()))
            return ids
        ids = [int(v) for v in form.getlist("rowid") if v.isdigit()]
        if not ids:
            flash(gettext("Selecione ao menos um registro."), "warning")
            abort(redirect(self.back_url()))
        return ids

    def back_url(self) -> str:
        back = request.form.get("back") or request.args.get("back") or ""
        list_url = url_for(".list")
        return back if back.startswith(list_url) else list_url

    def start_mass(self, kind: str, ids: list[int], params: dict, done_text: Callable[[int], str]) -> Any:
        """Run a mass action now and come back to the list, or queue it and show its job page (R14).

        A broken choice raises its DomainError, for the form to show it with nothing changed.
        """
        outcome = mass_jobs.start(db.session, current_user(), kind, ids, params, self.mine, self.back_url())
        if isinstance(outcome, MassJob):
            flash(gettext("A tarefa com %(count)d registros foi colocada na fila; acompanhe o andamento nesta página.",
                          count=outcome.total), "info")
            return redirect(url_for("MassJobView.show", job_id=outcome.id))
        flash(outcome.summary(done_text(len(outcome.done))), "warning" if outcome.refused else "success")
        return redirect(self.back_url())

    def mass_form_context(self, ids: list[int]) -> dict[str, Any]:
        return {
            "view": self,
            "ids": ids,
            "select_all": request.form.get("select_all", ""),
            "back": self.back_url(),
        }


def _parse_qs(query_string: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query_string, keep_blank_values=True)


MASS_EDIT = MassAction("mass_edit", _l("Editar em massa"), "fa-edit")
MASS_CLOSE = MassAction("mass_close", _l("Fechar em massa"), "fa-times-circle")
MASS_DELETE_DRAFTS = MassAction("mass_delete_drafts", _l("Apagar rascunhos"), "fa-trash", "danger")
