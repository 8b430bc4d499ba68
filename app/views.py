"""Generated CRUD views: configuration only; rules live in app.domain."""
from __future__ import annotations

from typing import Any

from flask_appbuilder import expose, has_access
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterEqualFunction
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional as OptionalValidator

from app.domain import customers, service_orders, tickets
from app.domain.access import SCOPE, AssignedToMeFilter
from app.domain.documents import format_document
from app.domain.labels import choices
from app.domain import messages, ticket_filters
from app.domain.service_order_filters import ORDERINGS as SERVICE_ORDER_ORDERINGS, SERVICE_ORDER_CRITERIA, service_order_order
from app.domain.ticket_fields import field_label
from app.domain.ticket_filters import TICKET_CRITERIA
from app.extensions import db
from app.forms import DigitsField, ReadOnlyField, lookup_field
from app.models import (
    OPEN_SERVICE_ORDER_STATUSES,
    Attachment,
    Channel,
    City,
    ClosingReason,
    Contract,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerGroup,
    CustomerPhone,
    Department,
    GeneralParameters,
    KnowledgeArticle,
    Plan,
    Priority,
    ServiceOrder,
    ServiceOrderType,
    Site,
    SubStatus,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from app.pages.listing import MASS_CLOSE, MASS_DELETE_DRAFTS, MASS_EDIT
from app.pages.service_order_list import (
    MASS_PERMISSIONS as SERVICE_ORDER_MASS_PERMISSIONS,
    SERVICE_ORDER_MASS_ACTIONS,
    ActiveTechnicianFilter,
    ServiceOrderListMixin,
)
from app.pages.technician import field_page, works_in_field
from app.pages.ticket_list import TicketListMixin
from app.pages.ticket_workspace import TicketWorkspaceMixin
from app.viewbase import AtendeInterface as Interface, AtendeModelView, ReadOnlyModelView, current_user


def get_user_id() -> Any:
    return getattr(current_user(), "id", None)


def _choice_field(label: Any, kind: str, required: bool = True) -> SelectField:
    validators = [InputRequired()] if required else [OptionalValidator()]
    return SelectField(label, choices=[(str(k), v) for k, v in choices(kind)], validators=validators,
                       widget=Select2Widget())


def _active(model: Any) -> list:
    return [["active", FilterEqual, True]]


# ---------------------------------------------------------------- configuration


class NamedView(AtendeModelView):
    list_columns = ["name", "active"]
    add_columns = edit_columns = show_columns = ["name", "active"]
    search_columns = ["name", "active"]
    order_columns = ["name"]
    base_order = ("name", "asc")


class DepartmentView(NamedView):
    datamodel = Interface(Department)
    list_columns = ["name", "email", "active"]
    add_columns = edit_columns = show_columns = ["name", "email", "active"]


class ChannelView(NamedView):
    datamodel = Interface(Channel)
    list_columns = ["name", "is_portal", "active"]
    add_columns = edit_columns = show_columns = ["name", "is_portal", "active"]


class PriorityView(NamedView):
    datamodel = Interface(Priority)
    list_columns = ["name", "level", "color", "active"]
    add_columns = edit_columns = show_columns = ["name", "level", "color", "active"]
    base_order = ("level", "asc")


class ClosingReasonView(NamedView):
    datamodel = Interface(ClosingReason)


class SubStatusView(NamedView):
    datamodel = Interface(SubStatus)


class ServiceOrderTypeView(NamedView):
    datamodel = Interface(ServiceOrderType)


class CustomerGroupView(NamedView):
    datamodel = Interface(CustomerGroup)


class TicketStatusView(NamedView):
    datamodel = Interface(TicketStatus)
    list_columns = ["order", "name", "category", "color", "active"]
    add_columns = edit_columns = show_columns = ["name", "category", "color", "order", "active"]
    search_columns = ["name", "category", "active"]
    order_columns = ["order", "name"]
    base_order = ("order", "asc")
    add_form_extra_fields = edit_form_extra_fields = {"category": _choice_field(_l("Categoria"), "category")}


class SubjectView(NamedView):
    datamodel = Interface(Subject)
    list_columns = ["name", "sla_hours", "default_department", "default_priority", "requires_contract",
                    "portal_available", "active"]
    add_columns = edit_columns = show_columns = [
        "name", "sla_hours", "default_department", "default_priority", "requires_contract",
        "requires_login", "requires_channel", "requires_sub_status", "requires_closing_reason", "portal_available",
        "active",
    ]
    add_form_query_rel_fields = {
        "default_department": _active(Department),
        "default_priority": _active(Priority),
    }


class CityView(AtendeModelView):
    datamodel = Interface(City)
    list_columns = ["name", "state", "ibge_code"]
    add_columns = edit_columns = show_columns = ["name", "state", "ibge_code"]
    search_columns = ["name", "state"]
    base_order = ("name", "asc")


class PlanView(NamedView):
    datamodel = Interface(Plan)
    list_columns = ["name", "download_mbps", "upload_mbps", "price", "active"]
    add_columns = edit_columns = show_columns = ["name", "download_mbps", "upload_mbps", "price", "active"]


class SiteView(AtendeModelView):
    datamodel = Interface(Site)
    list_columns = ["name", "kind", "city", "active"]
    add_columns = edit_columns = show_columns = [
        "name", "kind", "street", "street_number", "district", "city", "zip_code", "active",
    ]
    search_columns = ["name", "kind", "active"]
    choice_kinds = {"kind": "site_kind"}
    add_form_extra_fields = edit_form_extra_fields = {"kind": _choice_field(_l("Tipo"), "site_kind")}


class GeneralParametersView(AtendeModelView):
    datamodel = Interface(GeneralParameters)
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_title = show_title = edit_title = _l("Parâmetros gerais")
    list_columns = ["subject_required", "closing_reason_required", "reopen_window_hours", "default_list_days"]
    edit_columns = show_columns = [
        "subject_required", "closing_reason_required", "reopen_window_hours", "default_list_days",
        "legal_warning_hours", "attachment_max_mb", "attachment_extensions", "portal_user",
    ]
    description_columns = {
        "legal_warning_hours": _l("Um atendimento em aberto fica \"vencendo\" quando faltam menos horas que isto para "
                                  "o prazo legal de resposta (7 dias corridos do registro); de 1 a 168."),
    }
    edit_form_extra_fields = {
        "reopen_window_hours": SelectField(
            _l("Prazo para reabrir (horas)"),
            choices=[(k, v) for k, v in choices("reopen_window")],
            coerce=int,
            widget=Select2Widget(),
        )
    }


class KnowledgeArticleView(AtendeModelView):
    datamodel = Interface(KnowledgeArticle)
    list_columns = ["title", "subject", "keywords", "active"]
    add_columns = edit_columns = ["title", "subject", "keywords", "operator_guidance", "solution", "active"]
    show_columns = add_columns + ["updated_at"]
    search_columns = ["title", "keywords", "solution", "subject", "active"]


# ---------------------------------------------------------------- tickets


class TicketEventView(ReadOnlyModelView):
    datamodel = Interface(TicketEvent)
    list_title = _l("Histórico")
    list_columns = ["created_at", "user", "kind", "field", "old_value", "new_value", "note"]
    show_columns = ["ticket", "created_at", "user", "kind", "field", "old_value", "new_value", "note"]
    base_order = ("id", "asc")
    search_columns = ["created_at", "kind"]
    choice_kinds = {"kind": "event_kind"}
    base_filters = SCOPE

    def __init__(self, **kwargs: Any) -> None:
        from app.domain.history import EVENT_KINDS

        self.formatters_columns = {
            "kind": lambda v: str(EVENT_KINDS.get(v, v)),
            "field": lambda v: field_label(v),
        }
        super().__init__(**kwargs)


class TicketMessageView(AtendeModelView):
    datamodel = Interface(TicketMessage)
    after_save_parent = ("ticket", "TicketView.edit")
    list_title = _l("Mensagens")
    add_title = _l("Nova mensagem")
    show_title = _l("Mensagem")
    base_permissions = ["can_list", "can_show", "can_add"]
    list_columns = ["created_at", "author", "is_internal", "body"]
    add_columns = ["ticket", "is_internal", "body"]
    show_columns = ["ticket", "created_at", "author", "is_internal", "body"]
    base_order = ("id", "asc")
    base_filters = SCOPE
    add_form_extra_fields = {"ticket": lookup_field(_l("Atendimento"), Ticket, "ticket", [DataRequired()])}
    rules_add = staticmethod(lambda item: messages.add_message(db.session, item, current_user()))


class AttachmentView(ReadOnlyModelView):
    datamodel = Interface(Attachment)
    list_title = _l("Arquivos")
    show_title = _l("Arquivo")
    list_columns = ["filename", "content_type", "size", "uploaded_by", "created_at"]
    show_columns = ["ticket", "filename", "content_type", "size", "uploaded_by", "created_at"]
    base_filters = SCOPE


TECHNICIANS = [["id", ActiveTechnicianFilter, None]]  # the domain refuses any other user as technician


class ServiceOrderBase(ServiceOrderListMixin, AtendeModelView):
    datamodel = Interface(ServiceOrder)
    after_save = "show"
    list_title = _l("Ordens de serviço")
    show_title = _l("Ordem de serviço")
    edit_title = _l("Editar ordem de serviço")
    add_title = _l("Nova ordem de serviço")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", *SERVICE_ORDER_MASS_PERMISSIONS]
    list_columns = ["id", "ticket", "type", "status", "technician", "scheduled_start", "opened_at"]
    add_columns = ["ticket", "type", "technician", "scheduled_start", "scheduled_end", "address", "description"]
    edit_columns = ["type", "status", "technician", "scheduled_start", "scheduled_end", "address", "description", "closing_notes"]
    show_columns = ["id", "ticket", "type", "status", "technician", "scheduled_start", "scheduled_end",
                    "address", "description", "closing_notes", "opened_at", "started_at", "closed_at", "created_by"]
    search_columns = ["status", "type", "technician", "opened_at", "scheduled_start"]
    base_order = ("id", "desc")
    base_filters = SCOPE
    choice_kinds = {"status": "service_order_status"}
    add_form_extra_fields = {"ticket": lookup_field(_l("Atendimento"), Ticket, "ticket", [DataRequired()])}
    edit_form_extra_fields = {"status": _choice_field(_l("Situação"), "service_order_status")}
    add_form_query_rel_fields = {"type": _active(ServiceOrderType), "technician": TECHNICIANS}
    edit_form_query_rel_fields = {"technician": TECHNICIANS}
    criteria = SERVICE_ORDER_CRITERIA
    orderings = SERVICE_ORDER_ORDERINGS
    order_by = staticmethod(service_order_order)
    row_template = "service_order/_list_rows.html"
    mass_actions = SERVICE_ORDER_MASS_ACTIONS
    export_source = "service_orders"
    rules_add = staticmethod(lambda item: service_orders.create_service_order(db.session, item, current_user()))
    rules_update = staticmethod(lambda item: service_orders.update_service_order(db.session, item, current_user()))


class ServiceOrderView(ServiceOrderBase):
    """Every OS the user may see; opens on the open ones (open, scheduled, in progress)."""

    def default_args(self) -> dict[str, str]:
        return {"status": ",".join(OPEN_SERVICE_ORDER_STATUSES)}


class MyServiceOrderView(ServiceOrderBase):
    """"Minhas OS": the orders of the current user; mass actions only where the role grants them."""

    list_title = _l("Minhas OS")
    base_permissions = ["can_list", "can_show", "can_edit", *SERVICE_ORDER_MASS_PERMISSIONS]
    mine = True
    export_source = None  # the export covers the whole visible list, not "mine": export from Ordens de serviço
    base_filters = [["technician_id", FilterEqualFunction, get_user_id]]
    edit_columns = ["status", "scheduled_start", "scheduled_end", "closing_notes"]

    def page_rows(self, query: Any) -> tuple[list, dict]:
        rows, extras = super().page_rows(query)
        extras["field_page"] = "TechnicianView.detail" if works_in_field(current_user()) else None
        return rows, extras

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: Any) -> Any:
        """A technician works an OS on its field page (Iniciar, Finalizar, Reagendar), not in this form."""
        if works_in_field(current_user()):
            return field_page(self.datamodel.get(pk, self._base_filters) if str(pk).isdigit() else None)
        return super().edit(pk)


TICKET_FORM_COLUMNS = [
    "type", "customer", "contract", "site", "subject", "department", "priority", "channel",
    "direction", "received_at", "status", "sub_status", "opening_description", "closing_description",
    "closing_reason", "assignees", "related_ticket", "rating",
]


class TicketBase(TicketWorkspaceMixin, TicketListMixin, AtendeModelView):
    datamodel = Interface(Ticket)
    list_title = _l("Atendimentos")
    show_title = _l("Atendimento")
    edit_title = _l("Atendimento")
    add_title = _l("Novo atendimento")
    list_columns = ["status", "protocol", "customer", "subject", "opened_at", "due_at", "is_draft"]
    edit_columns = ["protocol"] + TICKET_FORM_COLUMNS + ["expected_version"]
    show_fieldsets = [
        (_l("Atendimento"), {"fields": ["protocol", "type", "customer", "contract", "site", "service_address",
                                         "subject", "department", "priority", "channel", "direction", "status",
                                         "sub_status", "is_draft", "assignees", "related_ticket", "grouped_with"]}),
        (_l("Descrição"), {"fields": ["opening_description", "closing_description", "closing_reason",
                                       "cancel_reason", "cancelled_by", "rating"]}),
        (_l("Datas"), {"fields": ["received_at", "opened_at", "due_at", "registered_at", "legal_due_at", "closed_at",
                                   "updated_at", "opened_by", "updated_by"]}),
    ]
    search_columns = ["protocol", "status", "subject", "department", "channel", "priority", "opened_at",
                      "due_at", "closed_at", "is_draft", "closing_reason", "rating", "opening_description"]
    order_columns = ["protocol", "opened_at", "due_at"]
    base_order = ("opened_at", "desc")
    base_filters = SCOPE
    related_views = [TicketMessageView, AttachmentView, TicketEventView, ServiceOrderView]
    criteria = TICKET_CRITERIA
    orderings = ticket_filters.ORDERINGS
    order_by = staticmethod(ticket_filters.ticket_order)
    row_template = "ticket/_list_rows.html"
    mass_actions = [MASS_EDIT, MASS_CLOSE, MASS_DELETE_DRAFTS]
    export_source = "tickets"
    show_template = "appbuilder/general/model/show_cascade.html"
    edit_template = "ticket/edit.html"
    edit_form_extra_fields = {
        "type": _choice_field(_l("Tipo"), "type"),
        "direction": _choice_field(_l("Ativo/Receptivo"), "direction"),
        "customer": lookup_field(_l("Cliente"), Customer, "customer"),
        "contract": lookup_field(_l("Contrato"), Contract, "contract"),
        "related_ticket": lookup_field(_l("SAC relacionado"), Ticket, "ticket"),
        "expected_version": HiddenField(),
        "protocol": ReadOnlyField(_l("Protocolo")),
        "rating": SelectField(_l("Avaliação"), choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 6)],
                              coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                              validators=[OptionalValidator()], widget=Select2Widget()),
    }
    edit_form_query_rel_fields = {"assignees": [["active", FilterEqual, True]]}

    rules_delete = staticmethod(lambda item: tickets.delete_ticket(db.session, item))


class TicketView(TicketBase):
    """Every ticket the user may see; opens on the last N days (general parameter, R13)."""

    def default_args(self) -> dict[str, str]:
        from app.domain.clock import now

        start = ticket_filters.default_period_start(db.session, now())
        return {"date_field": "opened", "date_from": start.strftime("%d/%m/%Y")}


class MyTicketView(TicketBase):
    """"Meus atendimentos": the tickets where the current user is an assignee (R13)."""

    list_title = _l("Meus atendimentos")
    base_filters = SCOPE + [["id", AssignedToMeFilter, None]]
    mine = True
    scope_args = {"scope": "mine"}


# ---------------------------------------------------------------- customers


class CustomerPhoneView(AtendeModelView):
    datamodel = Interface(CustomerPhone)
    base_filters = SCOPE
    after_save_parent = ("customer", "CustomerView.show")
    list_columns = ["number", "kind", "contact_name", "is_primary"]
    add_columns = edit_columns = show_columns = ["customer", "number", "kind", "contact_name", "is_primary"]
    choice_kinds = {"kind": "phone_kind"}
    formatters_columns = {"number": lambda v: __import__("app.domain.documents", fromlist=["x"]).format_phone(v)}
    add_form_extra_fields = edit_form_extra_fields = {
        "number": DigitsField(_l("Número"), validators=[DataRequired(), Length(max=20)]),
        "kind": _choice_field(_l("Tipo"), "phone_kind"),
        "customer": lookup_field(_l("Cliente"), Customer, "customer", [DataRequired()]),
    }
    rules_add = rules_update = staticmethod(lambda item: customers.save_phone(db.session, item))


class CustomerEmailView(AtendeModelView):
    datamodel = Interface(CustomerEmail)
    base_filters = SCOPE
    after_save_parent = ("customer", "CustomerView.show")
    list_columns = ["email", "is_primary"]
    add_columns = edit_columns = show_columns = ["customer", "email", "is_primary"]
    add_form_extra_fields = edit_form_extra_fields = {
        "customer": lookup_field(_l("Cliente"), Customer, "customer", [DataRequired()]),
    }
    rules_add = rules_update = staticmethod(lambda item: customers.save_email(db.session, item))


class CustomerAddressView(AtendeModelView):
    datamodel = Interface(CustomerAddress)
    base_filters = SCOPE
    after_save_parent = ("customer", "CustomerView.show")
    list_columns = ["street", "street_number", "district", "city", "is_primary"]
    add_columns = edit_columns = show_columns = [
        "customer", "street", "street_number", "complement", "district", "city", "zip_code", "is_primary",
    ]
    add_form_extra_fields = edit_form_extra_fields = {
        "customer": lookup_field(_l("Cliente"), Customer, "customer", [DataRequired()]),
    }
    rules_add = rules_update = staticmethod(lambda item: customers.save_address(db.session, item))


class ContractView(AtendeModelView):
    datamodel = Interface(Contract)
    base_filters = SCOPE
    after_save = "show"
    list_title = _l("Contratos")
    list_columns = ["number", "customer", "plan", "login", "status", "city"]
    add_columns = edit_columns = [
        "customer", "number", "plan", "login", "status", "street", "street_number", "complement", "district",
        "city", "zip_code", "site", "activated_at",
    ]
    show_columns = add_columns + ["cancelled_at", "created_at"]
    search_columns = ["number", "login", "status", "plan", "city"]
    choice_kinds = {"status": "contract_status"}
    add_form_extra_fields = edit_form_extra_fields = {
        "status": _choice_field(_l("Situação"), "contract_status"),
        "customer": lookup_field(_l("Cliente"), Customer, "customer", [DataRequired()]),
    }
    rules_add = rules_update = staticmethod(lambda item: customers.save_contract(db.session, item))


class CustomerView(AtendeModelView):
    datamodel = Interface(Customer)
    base_filters = SCOPE
    after_save = "show"
    list_title = _l("Clientes")
    list_columns = ["name", "document", "person_type", "group", "active"]
    add_columns = edit_columns = [
        "person_type", "name", "trade_name", "document", "state_registration", "birth_date", "group", "notes",
        "accepts_email", "accepts_sms", "active",
    ]
    description_columns = {
        "accepts_email": _l("Mensagens e respostas por e-mail. O protocolo do atendimento é enviado sempre."),
        "accepts_sms": _l("Mensagens e respostas por SMS. O protocolo do atendimento é enviado sempre."),
    }
    show_columns = add_columns + ["created_at"]
    search_columns = ["name", "document", "person_type", "group", "active"]
    order_columns = ["name", "created_at"]
    base_order = ("name", "asc")
    formatters_columns = {"document": format_document}
    related_views = [CustomerPhoneView, CustomerEmailView, CustomerAddressView, ContractView, TicketView]
    show_template = "customer/show.html"
    add_form_extra_fields = edit_form_extra_fields = {
        "person_type": _choice_field(_l("Tipo de pessoa"), "person_type"),
        # typed with or without punctuation (18 characters for a CNPJ); stored digits-only (R23)
        "document": StringField(_l("CPF/CNPJ"), validators=[DataRequired(), Length(max=18)]),
    }
    rules_add = rules_update = staticmethod(lambda item: customers.save_customer(db.session, item))


def register(appbuilder: Any) -> None:
    """Add every view to FAB with its pt-BR menu."""
    service = {"category": "Service", "category_label": _l("Atendimento"), "category_icon": "fa-headset"}
    appbuilder.add_view(TicketView, "Tickets", label=_l("Atendimentos"), icon="fa-ticket-alt", **service)
    appbuilder.add_view(MyTicketView, "MyTickets", label=_l("Meus atendimentos"), icon="fa-user-check", **service)
    appbuilder.add_view(KnowledgeArticleView, "Knowledge", label=_l("Base de conhecimento"), icon="fa-book", **service)
    clients = {"category": "Customers", "category_label": _l("Clientes"), "category_icon": "fa-users"}
    appbuilder.add_view(CustomerView, "CustomerList", label=_l("Clientes"), icon="fa-user", **clients)
    appbuilder.add_view(ContractView, "ContractList", label=_l("Contratos"), icon="fa-file-contract", **clients)
    orders = {"category": "ServiceOrders", "category_label": _l("Ordens de serviço"), "category_icon": "fa-tools"}
    appbuilder.add_view(ServiceOrderView, "ServiceOrderList", label=_l("Ordens de serviço"), icon="fa-tools", **orders)
    appbuilder.add_view(MyServiceOrderView, "MyServiceOrders", label=_l("Minhas OS"), icon="fa-user-cog", **orders)
    config = {"category": "Configuration", "category_label": _l("Cadastros"), "category_icon": "fa-cogs"}
    for view, name, label in (
        (SubjectView, "Subjects", _l("Assuntos")),
        (TicketStatusView, "TicketStatuses", _l("Status de atendimento")),
        (SubStatusView, "SubStatuses", _l("Status complementares")),
        (DepartmentView, "Departments", _l("Departamentos")),
        (ChannelView, "Channels", _l("Canais de atendimento")),
        (PriorityView, "Priorities", _l("Prioridades")),
        (ClosingReasonView, "ClosingReasons", _l("Motivos de fechamento")),
        (ServiceOrderTypeView, "ServiceOrderTypes", _l("Tipos de OS")),
        (CustomerGroupView, "CustomerGroups", _l("Grupos de clientes")),
        (PlanView, "Plans", _l("Planos")),
        (CityView, "Cities", _l("Cidades")),
        (SiteView, "Sites", _l("Estruturas próprias")),
        (GeneralParametersView, "GeneralParameters", _l("Parâmetros gerais")),
    ):
        appbuilder.add_view(view, name, label=label, **config)
    for view in (TicketEventView, TicketMessageView, AttachmentView, CustomerPhoneView, CustomerEmailView,
                 CustomerAddressView):
        appbuilder.add_view_no_menu(view)
