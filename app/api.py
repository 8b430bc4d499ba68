"""REST API resources (/api/v1/…): configuration only; rules live in app.domain."""
from __future__ import annotations

from typing import Any

from flask import g, request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l

from app.domain import customers, service_orders, tickets
from app.domain.access import ServiceOrderScopeFilter, TicketScopeFilter, check_can_open_for
from app.domain.errors import ValidationError
from app.extensions import db
from app.models import (
    Channel,
    Contract,
    Customer,
    Department,
    ServiceOrder,
    Subject,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from app.apibase import AtendeApi
from app.viewbase import AtendeInterface as Interface, current_user

TICKET_FIELDS = [
    "type", "customer", "contract", "site", "subject", "department", "priority", "channel", "direction",
    "received_at", "status", "sub_status", "closing_reason", "opening_description", "closing_description",
    "is_draft", "rating", "related_ticket", "assignees",
]
TICKET_READ = [
    "id", "protocol", "version", "type", "customer.id", "customer.name", "contract.id", "contract.number",
    "site.id", "subject.id", "subject.name", "department.id", "department.name", "priority.id", "priority.name",
    "channel.id", "channel.name", "direction", "status.id", "status.name", "status.category", "sub_status.id",
    "closing_reason.id", "opening_description", "closing_description", "service_address", "received_at",
    "opened_at", "due_at", "closed_at", "updated_at", "is_draft", "rating", "related_ticket.id",
    "grouped_with.id", "opened_by.id", "assignees.id", "cancel_reason",
]


class TicketApi(AtendeApi):
    resource_name = "ticket"
    datamodel = Interface(Ticket)
    list_columns = ["id", "protocol", "type", "customer.id", "customer.name", "subject.id", "subject.name",
                    "status.id", "status.name", "status.category", "is_draft", "opened_at", "due_at", "closed_at"]
    show_columns = TICKET_READ
    add_columns = TICKET_FIELDS
    edit_columns = TICKET_FIELDS
    order_columns = ["id", "protocol", "opened_at", "due_at", "closed_at"]
    search_columns = ["protocol", "customer", "status", "subject", "is_draft", "opened_at"]
    base_order = ("id", "desc")
    base_filters = [["id", TicketScopeFilter, None]]
    rules_delete = staticmethod(lambda item: tickets.delete_ticket(db.session, item))

    @staticmethod
    def rules_add(item: Any) -> None:
        check_can_open_for(db.session, current_user(), item)
        tickets.create_ticket(db.session, item, current_user())

    @expose("/<int:pk>/<name>", methods=["POST"])
    @protect()
    @safe
    @permission_name("act")
    def act(self, pk: int, name: str) -> Any:
        """Run a ticket action: finalize, cancel, reiterate, complaint or reopen.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: name, schema: {type: string, enum: [finalize, cancel, reiterate, complaint, reopen]}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    closing_description: {type: string}
                    closing_reason: {type: integer}
                    reason: {type: string}
                    text: {type: string}
                    service_orders:
                      type: string
                      enum: [finalize, cancel]
                      description: o que fazer com as ordens de serviço em aberto ao finalizar ou cancelar (R28)
          responses:
            200: {description: Ação executada}
            400: {$ref: '#/components/responses/400'}
            403: {description: Sem permissão para a ação}
            404: {$ref: '#/components/responses/404'}
            409: {description: A ação não se aplica ao atendimento (mensagem com o motivo)}
        """
        from app.domain.actions import ACTIONS

        ticket = self.datamodel.get(pk, self._base_filters)
        if ticket is None or name not in ACTIONS:
            return self.response_404()
        payload = request.get_json(silent=True)
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            return self.response_400(message=str(_l("O corpo da requisição deve ser um objeto JSON.")))

        def handler() -> Any:
            ACTIONS[name].run(db.session, ticket, current_user(), payload)
            db.session.commit()
            return self.response(200, message=str(ACTIONS[name].done), protocol=ticket.protocol,
                                 status=ticket.status.name, category=ticket.status.category)

        return self._answer(handler)

    @expose("/mass_edit", methods=["POST"])
    @protect()
    @safe
    @permission_name("mass_edit")
    def mass_edit(self) -> Any:
        """Edit chosen fields of many tickets (R14): {"ids": [...], "changes": {"status": 3, "department": 2,
        "priority": 1, "subject": 4, "due_at": "dd/mm/aaaa hh:mm", "assignees_add": [5], "assignees_remove": [6]}}.
        """
        from werkzeug.datastructures import MultiDict

        from app.domain import ticket_mass

        def run(payload: dict, ids: list[int]) -> Any:
            changes = payload.get("changes")
            if not isinstance(changes, dict):
                raise ValidationError(_l("Informe em “changes” os campos a alterar."), "changes")
            form = MultiDict()
            for key, value in changes.items():
                if key in ("assignees_add", "assignees_remove"):
                    form.setlist(key, [str(v) for v in (value if isinstance(value, list) else [value])])
                else:
                    form[f"change_{key}"] = "1"
                    form[key] = "" if value is None else str(value)
            edit = ticket_mass.edit_from_form(db.session, form)
            return ticket_mass.mass_edit(db.session, current_user(), ids, edit, self._mass_scope())

        return self._mass(run)

    @expose("/mass_close", methods=["POST"])
    @protect()
    @safe
    @permission_name("mass_close")
    def mass_close(self) -> Any:
        """Finalize many tickets with the same closing data (R9, R14) and their open OS as decided (R28):
        {"ids", "closing_description", "closing_reason", "service_orders": "finalize" | "cancel"}.
        """
        from app.domain import ticket_mass
        from app.domain.actions import closing_reason_from

        def run(payload: dict, ids: list[int]) -> Any:
            reason = closing_reason_from(db.session, payload)
            return ticket_mass.mass_close(db.session, current_user(), ids, payload.get("closing_description") or "",
                                          reason, self._mass_scope(), payload.get("service_orders"))

        return self._mass(run)

    @expose("/mass_delete_drafts", methods=["POST"])
    @protect()
    @safe
    @permission_name("mass_delete_drafts")
    def mass_delete_drafts(self) -> Any:
        """Delete the drafts among many tickets (R2, R14); the others are refused by protocol: {"ids": [...]}."""
        from app.domain import ticket_mass

        return self._mass(lambda payload, ids: ticket_mass.mass_delete_drafts(
            db.session, current_user(), ids, self._mass_scope()))

    @staticmethod
    def _mass_scope() -> Any:
        from app.domain.access import ticket_list_scope

        return ticket_list_scope(current_user())

    def _mass(self, run: Any) -> Any:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=str(_l("O corpo da requisição deve ser um objeto JSON.")))
        ids = payload.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return self.response_400(message=str(_l("Informe em “ids” a lista de atendimentos.")))

        def handler() -> Any:
            result = run(payload, ids)
            return self.response(200, message=result.summary(), done=result.done,
                                 refused=[{"label": label, "reason": reason} for label, reason in result.refused])

        return self._answer(handler)

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for name in ("status", "type", "direction"):
            self.add_model_schema.fields[name].required = False

    def put_headless(self, pk: Any) -> Any:
        body = request.get_json(silent=True)
        version = request.headers.get("If-Match")
        if isinstance(body, dict) and "version" in body:
            version = body.pop("version")
        g.atende_expected_version = version  # per request: the API object is shared by all requests
        return super().put_headless(pk)

    def pre_update(self, item: Any) -> None:
        version = g.pop("atende_expected_version", None)
        self._run(lambda t: tickets.update_ticket(db.session, t, current_user(), version), item)


class CustomerApi(AtendeApi):
    resource_name = "customer"
    datamodel = Interface(Customer)
    list_columns = ["id", "person_type", "name", "trade_name", "document", "group.id", "active"]
    show_columns = list_columns + ["state_registration", "birth_date", "notes", "created_at",
                                   "phones.number", "phones.is_primary", "emails.email", "contracts.id"]
    add_columns = edit_columns = ["person_type", "name", "trade_name", "document", "state_registration",
                                  "birth_date", "group", "notes", "active"]
    search_columns = ["name", "document", "person_type", "active"]
    rules_add = rules_update = staticmethod(lambda item: customers.save_customer(db.session, item))

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # a CNPJ typed with punctuation has 18 characters; the domain checks and stores digits only (R23)
        for schema in (self.add_model_schema, self.edit_model_schema):
            schema.fields["document"].validators = []


class ContractApi(AtendeApi):
    resource_name = "contract"
    datamodel = Interface(Contract)
    list_columns = ["id", "number", "customer.id", "plan.id", "plan.name", "login", "status", "city.id"]
    show_columns = list_columns + ["street", "street_number", "complement", "district", "zip_code", "site.id",
                                   "activated_at", "cancelled_at"]
    add_columns = edit_columns = ["customer", "number", "plan", "login", "status", "street", "street_number", "complement",
                                  "district", "city", "zip_code", "site", "activated_at"]
    search_columns = ["number", "login", "status", "customer"]
    rules_add = rules_update = staticmethod(lambda item: customers.save_contract(db.session, item))


class ServiceOrderApi(AtendeApi):
    resource_name = "serviceorder"
    datamodel = Interface(ServiceOrder)
    list_columns = ["id", "ticket.id", "ticket.protocol", "type.id", "type.name", "status", "technician.id",
                    "scheduled_start", "scheduled_end", "opened_at", "closed_at"]
    show_columns = list_columns + ["address", "description", "closing_notes", "started_at"]
    add_columns = ["ticket", "type", "status", "technician", "scheduled_start", "scheduled_end", "address",
                   "description"]
    edit_columns = ["type", "status", "technician", "scheduled_start", "scheduled_end", "address",
                    "description", "closing_notes"]
    search_columns = ["status", "ticket", "technician", "type"]
    base_filters = [["id", ServiceOrderScopeFilter, None]]
    rules_add = staticmethod(lambda item: service_orders.create_service_order(db.session, item, current_user()))
    rules_update = staticmethod(lambda item: service_orders.update_service_order(db.session, item, current_user()))
    rules_delete = staticmethod(service_orders.delete_service_order)


class TicketEventApi(AtendeApi):
    resource_name = "ticketevent"
    datamodel = Interface(TicketEvent)
    base_permissions = ["can_get", "can_info"]
    list_columns = ["id", "ticket.id", "ticket.protocol", "created_at", "user.id", "user.username", "kind",
                    "field", "old_value", "new_value", "note"]
    show_columns = list_columns
    search_columns = ["ticket", "kind", "field", "created_at"]
    base_order = ("id", "asc")
    base_filters = [["ticket", TicketScopeFilter, None]]


def _config_api(model: type, name: str, columns: list[str]) -> type:
    return type(
        f"{model.__name__}Api",
        (AtendeApi,),
        {
            "resource_name": name,
            "datamodel": Interface(model),
            "list_columns": ["id"] + columns,
            "show_columns": ["id"] + columns,
            "add_columns": columns,
            "edit_columns": columns,
            "search_columns": ["name", "active"],
        },
    )


SubjectApi = _config_api(Subject, "subject", [
    "name", "sla_hours", "default_department", "default_priority", "requires_contract", "requires_login",
    "requires_channel", "requires_sub_status", "requires_closing_reason", "active",
])
TicketStatusApi = _config_api(TicketStatus, "ticketstatus", ["name", "color", "order", "category", "active"])
ChannelApi = _config_api(Channel, "channel", ["name", "is_portal", "active"])
DepartmentApi = _config_api(Department, "department", ["name", "email", "active"])


def register(appbuilder: Any) -> None:
    for api in (TicketApi, CustomerApi, ContractApi, ServiceOrderApi, TicketEventApi, SubjectApi,
                TicketStatusApi, ChannelApi, DepartmentApi):
        appbuilder.add_api(api)
