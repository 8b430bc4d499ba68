"""REST API resources (/api/v1/…): configuration only; rules live in app.domain."""
from __future__ import annotations

import copy
from typing import Any

from flask import g, request, url_for
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError as MarshmallowError, fields, validate
from sqlalchemy import inspect as sa_inspect

from app.domain import access, customer_contacts, customers, service_orders, tickets
from app.domain.customer_contacts import MAX_CONTACTS
from app.domain.inputs import parse_id
from app.domain.access import SCOPE, check_can_open_for
from app.domain.errors import NotAllowed, ValidationError
from app.extensions import db
from app.models import (
    PHONE_KINDS,
    Attachment,
    Channel,
    Contract,
    Customer,
    Department,
    ServiceOrder,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from app.apibase import AtendeApi, api_response, strict_field
from app.viewbase import AtendeInterface as Interface, current_user

TICKET_FIELDS = [
    "type", "customer", "contract", "site", "subject", "department", "priority", "channel", "direction",
    "received_at", "status", "sub_status", "closing_reason", "opening_description", "closing_description",
    "is_draft", "rating", "rating_comment", "related_ticket", "assignees",
]
TICKET_READ = [
    "id", "protocol", "version", "type", "customer.id", "customer.name", "contract.id", "contract.number",
    "site.id", "subject.id", "subject.name", "department.id", "department.name", "priority.id", "priority.name",
    "channel.id", "channel.name", "direction", "status.id", "status.name", "status.category", "sub_status.id",
    "closing_reason.id", "opening_description", "closing_description", "service_address", "received_at",
    "opened_at", "due_at", "registered_at", "legal_due_at", "closed_at", "updated_at", "is_draft", "rating", "rating_comment", "related_ticket.id",
    "grouped_with.id", "opened_by.id", "assignees.id", "cancel_reason",
]


class ScopedApi(AtendeApi):
    """A resource that lists, shows and looks up only what the caller may see (app.domain.access).

    ``base_filters`` scope its rows; every relation's list in ``_info`` (add/edit_query_rel_fields) is scoped
    the same way; a customer's answers lose ``customer_hidden`` keys and any other person (``public_data``).
    """

    base_filters = SCOPE
    customer_hidden: tuple[str, ...] = ()

    def __init__(self) -> None:
        relations = {name: SCOPE for name in sa_inspect(self.datamodel.obj).relationships.keys()}
        self.add_query_rel_fields = {**relations, **(self.add_query_rel_fields or {})}
        self.edit_query_rel_fields = {**relations, **(self.edit_query_rel_fields or {})}
        super().__init__()

    def response(self, code: int, **kwargs: Any) -> Any:  # type: ignore[override]
        user = current_user()
        if "result" in kwargs and access.acts_as_customer(user):
            kwargs["result"] = access.public_data(kwargs["result"], user, self.customer_hidden)
        return api_response(code, **kwargs)


def _by_id(model: type, body: dict, key: str, refused: Any) -> Any:
    """The record a customer's body names by id; an unknown id is refused like one that is not theirs."""
    value = body.get(key)
    if value is None:
        return None
    found = db.session.get(model, value) if access.valid_id(value) else None
    if found is None:
        raise access.NotForCustomers(refused, key)
    return found


class TicketApi(ScopedApi):
    resource_name = "ticket"
    datamodel = Interface(Ticket)
    list_columns = ["id", "protocol", "type", "customer.id", "customer.name", "subject.id", "subject.name",
                    "status.id", "status.name", "status.category", "is_draft", "opened_at", "due_at", "legal_due_at",
                    "closed_at"]
    show_columns = TICKET_READ
    add_columns = TICKET_FIELDS
    edit_columns = TICKET_FIELDS
    order_columns = ["id", "protocol", "opened_at", "due_at", "legal_due_at", "closed_at"]
    search_columns = ["protocol", "customer", "status", "subject", "is_draft", "opened_at"]
    base_order = ("id", "desc")
    customer_hidden = access.STAFF_ONLY_TICKET_DATA
    rules_delete = staticmethod(lambda item: tickets.delete_ticket(db.session, item))
    # the version named in If-Match or "version" is checked by AtendeApi for every versioned model (R29)
    rules_update = staticmethod(lambda item: tickets.update_ticket(db.session, item, current_user()))

    @staticmethod
    def rules_add(item: Any) -> None:
        check_can_open_for(db.session, current_user(), item)
        tickets.create_ticket(db.session, item, current_user())

    def post_headless(self) -> Any:
        if access.acts_as_customer(current_user()):
            return self._answer(self._open_for_customer)
        return super().post_headless()

    def _open_for_customer(self) -> Any:
        """A customer opens their own ticket with the fields of R30 only; the domain applies R20."""
        user = current_user()
        body = request.get_json(silent=True)
        access.check_customer_fields(body, access.CUSTOMER_CREATE_FIELDS)
        customer = access.portal_customer(db.session, user)
        if body.get("customer") not in (None, customer.id) or isinstance(body.get("customer"), bool):
            raise access.NotForCustomers(_l("O assinante só abre atendimentos para o próprio cadastro."), "customer")
        subject = _by_id(Subject, body, "subject", tickets.PORTAL_SUBJECT_REFUSED)
        contract = _by_id(Contract, body, "contract", tickets.PORTAL_CONTRACT_REFUSED)
        ticket = tickets.open_portal_ticket(db.session, user, customer, subject, contract,
                                            body.get("opening_description"))
        db.session.commit()
        return self.response(201, id=ticket.id, result=self.show_model_schema.dump(ticket))

    def _merge_update_item(self, model_item: Any, data: Any) -> Any:
        if access.acts_as_customer(current_user()):
            access.check_customer_update(model_item, data)  # only the rating of a resolved ticket (R30)
        return super()._merge_update_item(model_item, data)

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

        wrong = [key for key in ("closing_description", "reason", "text")
                 if payload.get(key) is not None and not isinstance(payload[key], str)]
        if payload.get("service_orders") is not None and payload["service_orders"] not in ("finalize", "cancel"):
            wrong.append("service_orders")
        if wrong:
            return self.response(400, message=str(_l("Campo com tipo inválido: %(fields)s.", fields=", ".join(wrong))),
                                 field=wrong[0])

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
        """Edit chosen fields of many tickets (R14); above MASS_SYNC_MAX tickets, as a background job.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids, changes]
                  properties:
                    ids: {type: array, items: {type: integer}, maxItems: 2000}
                    changes:
                      type: object
                      description: 'Só os campos a alterar: status, department, priority, subject (ids), due_at
                        ("dd/mm/aaaa hh:mm"), assignees_add e assignees_remove (listas de ids de usuários)'
          responses:
            200: {$ref: '#/components/responses/MassDone'}
            202: {$ref: '#/components/responses/MassQueued'}
        """
        from werkzeug.datastructures import MultiDict

        from app.domain.mass_jobs import edit_params

        def params(payload: dict) -> dict:
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
            return edit_params(form)

        return self._mass("ticket_edit", params)

    @expose("/mass_close", methods=["POST"])
    @protect()
    @safe
    @permission_name("mass_close")
    def mass_close(self) -> Any:
        """Finalize many tickets with the same closing data (R9, R14) and their open OS as decided (R28).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids, closing_description]
                  properties:
                    ids: {type: array, items: {type: integer}, maxItems: 2000}
                    closing_description: {type: string}
                    closing_reason: {type: integer, nullable: true}
                    service_orders: {type: string, enum: [finalize, cancel], nullable: true}
          responses:
            200: {$ref: '#/components/responses/MassDone'}
            202: {$ref: '#/components/responses/MassQueued'}
        """
        return self._mass("ticket_close", lambda payload: {
            name: payload.get(name) for name in ("closing_description", "closing_reason", "service_orders")})

    @expose("/mass_delete_drafts", methods=["POST"])
    @protect()
    @safe
    @permission_name("mass_delete_drafts")
    def mass_delete_drafts(self) -> Any:
        """Delete the drafts among many tickets (R2, R14); the others are refused by protocol.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids]
                  properties:
                    ids: {type: array, items: {type: integer}, maxItems: 2000}
          responses:
            200: {$ref: '#/components/responses/MassDone'}
            202: {$ref: '#/components/responses/MassQueued'}
        """
        return self._mass("ticket_delete_drafts", lambda payload: {})

    @expose("/mass_jobs/<int:job_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("mass_jobs")
    def mass_job(self, job_id: int) -> Any:
        """The progress of a mass job and, once it ended, its report (only its owner and an Admin see it).
        ---
        get:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: Andamento da tarefa; quando termina, o resumo e uma linha por atendimento
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      kind: {type: string}
                      status: {type: string, enum: [queued, running, done, failed]}
                      total: {type: integer}
                      processed: {type: integer}
                      changed: {type: integer}
                      refused: {type: integer}
                      error: {type: string, nullable: true}
                      created_at: {type: string, nullable: true}
                      started_at: {type: string, nullable: true}
                      finished_at: {type: string, nullable: true}
                      message: {type: string}
                      report:
                        type: array
                        items:
                          type: object
                          properties:
                            label: {type: string}
                            changed: {type: boolean}
                            reason: {type: string, nullable: true}
        """
        from app.domain import mass_jobs

        try:
            job = mass_jobs.visible_job(db.session, current_user(), job_id)
        except NotAllowed:
            return self.response_404()
        mass_jobs.keep_running(db.session, job.status in mass_jobs.ACTIVE)
        return self.response(200, **mass_jobs.job_data(db.session, job))

    def add_apispec_components(self, api_spec: Any) -> None:
        super().add_apispec_components(api_spec)
        api_spec.components.response("MassDone", {
            "description": "Feito na hora (até MASS_SYNC_MAX atendimentos): os alterados e os recusados com o motivo",
            "content": {"application/json": {"schema": {"type": "object", "properties": {
                "message": {"type": "string"}, "done": {"type": "array", "items": {"type": "string"}},
                "refused": {"type": "array", "items": {"type": "object", "properties": {
                    "label": {"type": "string"}, "reason": {"type": "string"}}}}}}}}})
        api_spec.components.response("MassQueued", {
            "description": "Seleção grande: a tarefa foi colocada na fila; acompanhe em status_url (e Location)",
            "content": {"application/json": {"schema": {"type": "object", "properties": {
                "message": {"type": "string"}, "id": {"type": "integer"}, "status": {"type": "string"},
                "total": {"type": "integer"}, "status_url": {"type": "string"}}}}}})

    def _mass(self, kind: str, params: Any) -> Any:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=str(_l("O corpo da requisição deve ser um objeto JSON.")))
        ids = payload.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return self.response_400(message=str(_l("Informe em “ids” a lista de atendimentos.")))

        def handler() -> Any:
            from app.domain import mass_jobs
            from app.models import MassJob

            outcome = mass_jobs.start(db.session, current_user(), kind, ids, params(payload))
            if isinstance(outcome, MassJob):
                url = url_for("TicketApi.mass_job", job_id=outcome.id)
                response = self.response(202, message=str(_l(
                    "Tarefa colocada na fila: acompanhe o andamento e o relatório em status_url.")),
                    id=outcome.id, status=outcome.status, total=outcome.total, status_url=url)
                response.headers["Location"] = url
                return response
            return self.response(200, message=outcome.summary(), done=outcome.done,
                                 refused=[{"label": label, "reason": reason} for label, reason in outcome.refused])

        return self._answer(handler)

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for name in ("status", "type", "direction"):
            self.add_model_schema.fields[name].required = False


class CustomerPhoneInputSchema(Schema):
    """One phone of a customer as the API takes it (the number with or without punctuation)."""

    number = fields.String(required=True, validate=validate.Length(
                               min=1, max=20, error=_l("Informe o telefone com DDD (até {max} caracteres).")),
                           metadata={"description": "DDD e número, com ou sem pontuação: (11) 98765-4321"})
    kind = fields.String(load_default="mobile", validate=validate.OneOf(
        PHONE_KINDS, error=_l("Tipo de telefone inválido: use {choices}.")))
    is_primary = fields.Boolean(load_default=False)
    contact_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(
        max=120, error=_l("Nome do contato: no máximo {max} caracteres.")))


class CustomerEmailInputSchema(Schema):
    """One e-mail of a customer as the API takes it."""

    email = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Informe o e-mail (até {max} caracteres).")))
    is_primary = fields.Boolean(load_default=False)


CONTACTS_LIMIT = validate.Length(max=MAX_CONTACTS, error=_l("Informe no máximo {max} contatos por lista."))


class CustomerContactsSchema(Schema):
    phones = fields.List(fields.Nested(CustomerPhoneInputSchema), validate=CONTACTS_LIMIT,
                         metadata={"description": "Os telefones do cliente, a lista inteira (no PUT substitui a atual)"})
    emails = fields.List(fields.Nested(CustomerEmailInputSchema), validate=CONTACTS_LIMIT,
                         metadata={"description": "Os e-mails do cliente, a lista inteira (no PUT substitui a atual)"})


class CustomerApi(ScopedApi):
    """Customers with their phones and e-mails: nested lists, written whole (app.domain.customer_contacts)."""

    resource_name = "customer"
    datamodel = Interface(Customer)
    list_columns = ["id", "person_type", "name", "trade_name", "document", "group.id", "active"]
    show_columns = list_columns + ["version", "state_registration", "birth_date", "notes", "accepts_email",
                                   "accepts_sms", "created_at",
                                   "phones.number", "phones.kind", "phones.is_primary", "phones.contact_name",
                                   "emails.email", "emails.is_primary", "contracts.id"]
    add_columns = edit_columns = ["person_type", "name", "trade_name", "document", "state_registration",
                                  "birth_date", "group", "notes", "accepts_email", "accepts_sms", "active"]
    nested_columns = ("phones", "emails")  # written as lists of objects, not of ids (app.api_contract)
    search_columns = ["name", "document", "person_type", "active"]
    contacts_schema = CustomerContactsSchema()

    @staticmethod
    def rules_add(item: Any) -> None:
        customer_contacts.set_contacts(db.session, item, **g.pop("atende_contacts", {}))
        customers.save_customer(db.session, item)

    rules_update = rules_add

    def post_headless(self) -> Any:
        return self._take_contacts() or super().post_headless()

    def put_headless(self, pk: Any) -> Any:
        if parse_id(pk) is not None and self.datamodel.get(parse_id(pk), self._base_filters) is not None:
            refused = self._take_contacts()
            if refused is not None:
                return refused
        return super().put_headless(pk)

    def _take_contacts(self) -> Any:
        """Take the contact lists out of the body (the model schema knows only the customer's own columns) and
        check their shape; the domain checks their values when the customer is saved."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None
        given = {name: body.pop(name) for name in self.nested_columns if name in body}
        try:
            g.atende_contacts = self.contacts_schema.load(given)
        except MarshmallowError as error:
            return self.response_422(message=error.messages)
        return None

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for field in self.contacts_schema.fields.values():
            strict_field(field.inner.schema.fields["is_primary"])
        # a CNPJ typed with punctuation has 18 characters; the domain checks it and stores it bare, upper-case (R23)
        for schema in (self.add_model_schema, self.edit_model_schema):
            schema.fields["document"].validators = []
            for name in self.nested_columns:  # described and answered; read from the body by _take_contacts
                field = copy.deepcopy(self.contacts_schema.fields[name])
                field._bind_to_schema(name, schema)
                schema.fields[name] = schema.dump_fields[name] = field


class ContractApi(ScopedApi):
    resource_name = "contract"
    datamodel = Interface(Contract)
    list_columns = ["id", "number", "customer.id", "plan.id", "plan.name", "login", "status", "city.id"]
    show_columns = list_columns + ["street", "street_number", "complement", "district", "zip_code", "site.id",
                                   "activated_at", "cancelled_at"]
    add_columns = edit_columns = ["customer", "number", "plan", "login", "status", "street", "street_number", "complement",
                                  "district", "city", "zip_code", "site", "activated_at"]
    search_columns = ["number", "login", "status", "customer"]
    rules_add = rules_update = staticmethod(lambda item: customers.save_contract(db.session, item))


class ServiceOrderApi(ScopedApi):
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
    rules_add = staticmethod(lambda item: service_orders.create_service_order(db.session, item, current_user()))
    rules_update = staticmethod(lambda item: service_orders.update_service_order(db.session, item, current_user()))
    rules_delete = staticmethod(service_orders.delete_service_order)


class TicketEventApi(ScopedApi):
    """The history of the tickets the caller may see; a customer reads only its public entries (R26)."""

    resource_name = "ticketevent"
    datamodel = Interface(TicketEvent)
    base_permissions = ["can_get", "can_info"]
    include_route_methods = {"get", "get_list", "info"}  # read-only history (R11): no write routes at all
    list_columns = ["id", "ticket.id", "ticket.protocol", "created_at", "user.id", "user.username", "kind",
                    "field", "old_value", "new_value", "note"]
    show_columns = list_columns
    search_columns = ["ticket", "kind", "field", "created_at"]
    base_order = ("id", "asc")


class TicketMessageApi(ScopedApi):
    """The messages of the tickets the caller may see; a customer reads only the public ones (R30)."""

    resource_name = "ticketmessage"
    datamodel = Interface(TicketMessage)
    base_permissions = ["can_get", "can_info"]
    include_route_methods = {"get", "get_list", "info"}
    list_columns = ["id", "ticket.id", "ticket.protocol", "created_at", "author.id", "is_internal", "body"]
    show_columns = list_columns
    search_columns = ["ticket", "is_internal", "created_at"]
    base_order = ("id", "asc")


class AttachmentApi(ScopedApi):
    """The files of the tickets the caller may see; a customer reaches only their public files (R30)."""

    resource_name = "attachment"
    datamodel = Interface(Attachment)
    base_permissions = ["can_get", "can_info", "can_download"]
    include_route_methods = {"get", "get_list", "info", "download_file"}
    list_columns = ["id", "ticket.id", "ticket.protocol", "filename", "content_type", "size", "uploaded_by.id",
                    "created_at"]
    show_columns = list_columns
    search_columns = ["ticket", "filename", "created_at"]
    base_order = ("id", "asc")

    @expose("/<int:pk>/download", methods=["GET"])
    @protect()
    @safe
    @permission_name("download")
    def download_file(self, pk: int) -> Any:
        """Download the file of an attachment the caller may see.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: O arquivo, para baixar, com o tipo com que foi enviado
              content:
                '*/*':
                  schema: {type: string, format: binary}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
        """
        from app.pages.files import attachment_response

        attachment = self.datamodel.get(pk, self._base_filters) if access.valid_id(pk) else None
        response = attachment_response(attachment) if attachment is not None else None
        return response if response is not None else self.response_404()


def _config_api(model: type, name: str, columns: list[str]) -> type:
    return type(
        f"{model.__name__}Api",
        (ScopedApi,),
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
    "requires_channel", "requires_sub_status", "requires_closing_reason", "portal_available", "active",
])
TicketStatusApi = _config_api(TicketStatus, "ticketstatus", ["name", "color", "order", "category", "active"])
ChannelApi = _config_api(Channel, "channel", ["name", "is_portal", "active"])
DepartmentApi = _config_api(Department, "department", ["name", "email", "active"])


def register(appbuilder: Any) -> None:
    for api in (TicketApi, CustomerApi, ContractApi, ServiceOrderApi, TicketEventApi, TicketMessageApi,
                AttachmentApi, SubjectApi, TicketStatusApi, ChannelApi, DepartmentApi):
        appbuilder.add_api(api)
